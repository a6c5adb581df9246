"""Import an asset from an allow-listed https URL (e.g. Payload media) into the bucket.

Streamed: the download feeds an S3 multipart upload part by part, hashing as it goes, so a
1 GB clip never sits in memory or /tmp. The size limit is enforced while streaming, the
content type is checked from the header and from the file's first bytes, an expected checksum
is verified, and a failed import aborts its multipart upload (nothing half-written remains).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from smm_runtime.contract.errors import InvalidRequestError, UnsafeMediaError, WorkError
from smm_runtime.contract.kinds import ImportAssetRequest, ImportAssetResult
from smm_runtime.safe_fetch import BlockedRequestError, FetchPolicy, open_url
from smm_runtime.work import WorkContext

PART = 8 * 1024 * 1024
MAGIC: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/webp": (b"RIFF",),
    "video/mp4": (b"ftyp",),
    "audio/mpeg": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
    "font/ttf": (b"\x00\x01\x00\x00", b"true"),
    "font/otf": (b"OTTO",),
}


def sniff(head: bytes, declared: str) -> bool:
    if declared == "video/mp4":
        return head[4:8] == b"ftyp"
    return any(head.startswith(m) for m in MAGIC.get(declared, ()))


@dataclass
class AssetImporter:
    s3: Any
    asset_buckets: set[str]
    policy: FetchPolicy

    def __call__(self, req: ImportAssetRequest, ctx: WorkContext) -> ImportAssetResult:
        if req.target.bucket not in self.asset_buckets:
            raise InvalidRequestError(
                f"target.bucket: {req.target.bucket!r} is not an asset bucket"
            )
        done = self._existing(req, ctx)
        if done is not None:
            return done
        try:
            response, final_url = open_url(req.url, self.policy)
        except BlockedRequestError as err:
            raise UnsafeMediaError(f"url: {err}") from None
        declared = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if declared not in req.allowed_types:
            response.close()
            raise UnsafeMediaError(
                f"url: content type {declared or 'none'!r} is not one of "
                f"{', '.join(req.allowed_types)}"
            )
        length = int(response.getheader("Content-Length") or 0)
        if length > req.max_bytes:
            response.close()
            raise UnsafeMediaError(f"url: {length} bytes is over the {req.max_bytes}-byte limit")
        upload = self.s3.create_multipart_upload(
            Bucket=req.target.bucket,
            Key=req.target.key,
            ContentType=declared,
            Metadata={"source-url": req.url[:1024]},
        )
        try:
            result = self._stream(req, ctx, response, upload["UploadId"], declared)
        except BaseException:
            self.s3.abort_multipart_upload(
                Bucket=req.target.bucket, Key=req.target.key, UploadId=upload["UploadId"]
            )
            raise
        finally:
            response.close()
        ctx.report(stage="done", percent=100.0, final_url=final_url[:200])
        return result

    def _stream(
        self,
        req: ImportAssetRequest,
        ctx: WorkContext,
        response: Any,
        upload_id: str,
        declared: str,
    ) -> ImportAssetResult:
        digest = hashlib.sha256()
        parts: list[dict[str, Any]] = []
        size, number, buffer = 0, 1, b""
        checked = False
        while True:
            chunk = response.read(1024 * 1024)
            if chunk:
                size += len(chunk)
                if size > req.max_bytes:
                    raise UnsafeMediaError(f"url: larger than the {req.max_bytes}-byte limit")
                digest.update(chunk)
                buffer += chunk
                if not checked and len(buffer) >= 16:
                    if not sniff(buffer[:16], declared):
                        raise UnsafeMediaError(f"url: the bytes are not {declared}")
                    checked = True
                ctx.raise_if_cancelled()
                ctx.report(stage="importing", bytes_received=size)
            if len(buffer) >= PART or (not chunk and (buffer or not parts)):
                part = self.s3.upload_part(
                    Bucket=req.target.bucket,
                    Key=req.target.key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=buffer,
                )
                parts.append({"ETag": part["ETag"], "PartNumber": number})
                number, buffer = number + 1, b""
            if not chunk:
                break
        if not checked:
            raise UnsafeMediaError("url: the file is too short to be media")
        sha = digest.hexdigest()
        if req.expected_sha256 and sha != req.expected_sha256:
            raise WorkError(
                f"url: checksum {sha} does not match expected_sha256",
                error_type="ChecksumMismatch",
                non_retryable=True,
            )
        self.s3.complete_multipart_upload(
            Bucket=req.target.bucket,
            Key=req.target.key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
        )
        # Record the checksum so a repeated import of the same URL is recognised.
        self.s3.copy_object(
            Bucket=req.target.bucket,
            Key=req.target.key,
            CopySource={"Bucket": req.target.bucket, "Key": req.target.key},
            Metadata={"source-url": req.url[:1024], "sha256": sha},
            MetadataDirective="REPLACE",
            ContentType=declared,
        )
        return ImportAssetResult(
            target=req.target,
            size_bytes=size,
            sha256=sha,
            content_type=declared,
            reused=False,
            usage=ctx.usage(),
        )

    def _existing(self, req: ImportAssetRequest, ctx: WorkContext) -> ImportAssetResult | None:
        try:
            head = self.s3.head_object(Bucket=req.target.bucket, Key=req.target.key)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        meta = head.get("Metadata", {})
        if meta.get("source-url") != req.url[:1024] or "sha256" not in meta:
            return None
        if req.expected_sha256 and meta["sha256"] != req.expected_sha256:
            return None
        return ImportAssetResult(
            target=req.target,
            size_bytes=int(head["ContentLength"]),
            sha256=meta["sha256"],
            content_type=head.get("ContentType", ""),
            reused=True,
            usage=ctx.usage(),
        )
