"""Stream a finished file from S3 to Postiz's upload endpoint, heartbeating bytes sent.

The file never passes through the worker, and never sits whole in memory here: the multipart
body is written part by part from the S3 stream with an exact Content-Length.

Once per file: a record in the output bucket, keyed by the workflow, the source object and
its ETag, holds Postiz's answer; a retry or a duplicate delivery returns it without
uploading again. Two deliveries arriving together race for a claim object (a conditional
write); the loser waits for the winner's record.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from smm_runtime.claims import Claims
from smm_runtime.contract.errors import InvalidRequestError, WorkError
from smm_runtime.contract.kinds import PostizUploadRequest, PostizUploadResult
from smm_runtime.work import WorkContext

CHUNK = 1024 * 1024
MAX_UPLOAD_BYTES = 1024**3
RECORDS = "postiz-uploads"


class TransferSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMM_")

    output_bucket: str
    asset_buckets: str = ""
    import_hosts_csv: str = Field(default="", validation_alias="SMM_IMPORT_HOSTS")
    postiz_url: str = Field(
        description="Postiz public API base, e.g. https://api.postiz.com/public/v1"
    )
    # On AWS the key lives in Secrets Manager (read once per cold start); locally, in the env.
    postiz_api_key_secret_arn: str | None = None
    postiz_api_key: SecretStr | None = None

    def allowed_asset_buckets(self) -> set[str]:
        return {b.strip() for b in (self.asset_buckets or self.output_bucket).split(",") if b}

    def import_hosts(self) -> list[str]:
        return [h.strip().lower() for h in self.import_hosts_csv.split(",") if h.strip()]

    def api_key(self) -> str:
        if self.postiz_api_key is not None:
            return self.postiz_api_key.get_secret_value()
        if self.postiz_api_key_secret_arn:
            from aws_lambda_powertools.utilities import parameters

            return str(parameters.get_secret(self.postiz_api_key_secret_arn, max_age=3600))
        raise ValueError("set SMM_POSTIZ_API_KEY_SECRET_ARN (or SMM_POSTIZ_API_KEY locally)")


@dataclass
class PostizUploader:
    s3: Any
    settings: TransferSettings

    def __call__(self, req: PostizUploadRequest, ctx: WorkContext) -> PostizUploadResult:
        if req.source.bucket != self.settings.output_bucket:
            raise InvalidRequestError(
                f"source.bucket: {req.source.bucket!r} is not this deployment's bucket"
            )
        head = self.s3.head_object(Bucket=req.source.bucket, Key=req.source.key)
        identity = "\n".join(
            [ctx.workflow_id, req.source.uri, str(head.get("ETag", "")), req.filename]
        )
        record_key = f"{RECORDS}/{hashlib.sha256(identity.encode()).hexdigest()}"
        claims = Claims(self.s3, self.settings.output_bucket)
        with claims.exclusive(
            f"{record_key}.claim",
            ctx,
            lambda: self._get(f"{record_key}.json") is not None,
            "waiting for another delivery of this upload",
        ) as done:
            if done:
                record = self._get(f"{record_key}.json") or {}
                return PostizUploadResult(
                    id=record["id"],
                    path=record["path"],
                    bytes_sent=0,
                    reused=True,
                    usage=ctx.usage(),
                )
            result = self._upload(req, head, ctx)
            self._put(f"{record_key}.json", {"id": result.id, "path": result.path})
            return result

    # --- once per file -------------------------------------------------------------------

    def _get(self, key: str) -> dict[str, Any] | None:
        try:
            body = self.s3.get_object(Bucket=self.settings.output_bucket, Key=key)["Body"]
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise
        found: dict[str, Any] = json.loads(body.read())
        return found

    def _put(self, key: str, value: dict[str, Any]) -> None:
        self.s3.put_object(
            Bucket=self.settings.output_bucket,
            Key=key,
            Body=json.dumps(value).encode(),
            ContentType="application/json",
        )

    def _upload(
        self, req: PostizUploadRequest, head: dict[str, Any], ctx: WorkContext
    ) -> PostizUploadResult:
        size = int(head["ContentLength"])
        if size > MAX_UPLOAD_BYTES:
            raise InvalidRequestError(f"source: {size} bytes is over the upload limit")
        boundary = f"smm-{uuid.uuid4().hex}"
        head_part = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{req.filename}"\r\nContent-Type: {req.content_type}\r\n\r\n'
        ).encode()
        tail_part = f"\r\n--{boundary}--\r\n".encode()
        url = urlsplit(self.settings.postiz_url.rstrip("/") + "/upload")
        conn_type = (
            http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_type(url.netloc, timeout=60)
        body = self.s3.get_object(Bucket=req.source.bucket, Key=req.source.key)["Body"]
        try:
            conn.putrequest("POST", url.path)
            conn.putheader("Authorization", self.settings.api_key())
            conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
            conn.putheader("Content-Length", str(len(head_part) + size + len(tail_part)))
            conn.endheaders()
            conn.send(head_part)
            sent = 0
            for chunk in iter(lambda: body.read(CHUNK), b""):
                ctx.raise_if_cancelled()
                conn.send(chunk)
                sent += len(chunk)
                ctx.report(
                    stage="uploading",
                    bytes_sent=sent,
                    bytes_total=size,
                    percent=round(100 * sent / max(1, size), 1),
                )
            conn.send(tail_part)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        if response.status == 429:
            after = response.getheader("Retry-After", "")
            raise WorkError(
                "Postiz upload: rate limited (429)",
                error_type="RateLimited",
                next_retry_delay=timedelta(seconds=int(after) if after.isdigit() else 120),
            )
        if 400 <= response.status < 500:
            raise InvalidRequestError(f"Postiz upload: {response.status} {raw[:300]!r}")
        if response.status >= 300:
            raise WorkError(f"Postiz upload: {response.status}", error_type="RemoteError")
        answer = json.loads(raw)
        return PostizUploadResult(
            id=str(answer["id"]), path=str(answer["path"]), bytes_sent=sent, usage=ctx.usage()
        )
