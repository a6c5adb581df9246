"""S3 access for the render functions: allowed sources only, a warm cache, checkpoints.

Inputs come only from the configured asset buckets; each is checked for size before it is
downloaded and cached under /tmp by URI and ETag, so a warm function that renders the next
segment of the same video does not download the same font or clip again. Outputs are
written to deterministic keys together with the fingerprint of the request that produced
them: finding an object with the same fingerprint means the work is already done.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from smm_runtime.contract import CONTRACT_VERSION
from smm_runtime.contract.basetypes import S3Object
from smm_runtime.contract.errors import InvalidRequestError
from smm_runtime.contract.ownership import INTERMEDIATE_TAGGING

FINGERPRINT_META = "request-sha256"
RESULT_META = "result"
# Part of every fingerprint: a change to how pixels are made must not reuse old checkpoints.
RENDERER_VERSION = "video-2"


class RenderSettings(BaseSettings):
    """Environment of the render functions, validated once at cold start."""

    model_config = SettingsConfigDict(env_prefix="SMM_")

    asset_buckets: str = Field(description="Comma-separated buckets inputs may come from.")
    output_bucket: str
    # Under TMPDIR: /tmp on Lambda (private to each execution environment, as the emulator's
    # per-environment TMPDIR is locally).
    work_dir: Path = Path(tempfile.gettempdir()) / "render"
    cache_dir: Path = Path(tempfile.gettempdir()) / "asset-cache"
    # The warm asset cache shares /tmp (Lambda's ephemeral storage) with the invocation's own
    # work folder: at most 40 % of it (and 2 GiB), unless set.
    cache_max_bytes: int | None = None
    max_input_bytes: int = 1024**3
    # The fonts layer: the fallback chain (chain.json) and Twemoji; /opt/fonts on AWS.
    fonts_dir: Path = Path("/opt/fonts")
    # x264's threads per segment render; 0 lets it size itself to the CPUs it sees (on
    # Lambda, the function's own vCPUs). One thread per environment makes local renders on a
    # shared machine behave like Lambda's, where environments do not share CPUs.
    ffmpeg_threads: int = Field(default=0, ge=0, le=64)

    def allowed_buckets(self) -> set[str]:
        return {b.strip() for b in self.asset_buckets.split(",") if b.strip()}

    def cache_limit(self) -> int:
        if self.cache_max_bytes is not None:
            return self.cache_max_bytes
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        return min(2 * 1024**3, int(shutil.disk_usage(self.cache_dir).total * 0.4))


def fingerprint(request: BaseModel, *exclude: str) -> str:
    payload = request.model_dump(mode="json", exclude=set(exclude))
    canonical = json.dumps(
        [RENDERER_VERSION, CONTRACT_VERSION, payload], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _missing(err: ClientError) -> bool:
    return err.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


@dataclass
class Storage:
    s3: Any
    settings: RenderSettings

    def fetch(self, field: str, uri: str) -> Path:
        """A local copy of an allowed input, named by what it is (never by user input)."""
        source = S3Object.from_uri(uri)
        allowed = self.settings.allowed_buckets()
        if source.bucket not in allowed:
            raise InvalidRequestError(
                f"{field}: bucket {source.bucket!r} is not an allowed asset source "
                f"(allowed: {', '.join(sorted(allowed))}); upload the file there first"
            )
        try:
            head = self.s3.head_object(Bucket=source.bucket, Key=source.key)
        except ClientError as err:
            if _missing(err):
                raise InvalidRequestError(f"{field}: {uri} does not exist") from None
            raise
        size = int(head.get("ContentLength", 0))
        if size > self.settings.max_input_bytes:
            raise InvalidRequestError(
                f"{field}: {uri} is {size} bytes, over the {self.settings.max_input_bytes}-byte "
                "limit"
            )
        digest = hashlib.sha256(f"{uri}\0{head.get('ETag', '')}".encode()).hexdigest()[:32]
        suffix = "".join(c for c in Path(source.key).suffix.lower()[:6] if c.isalnum() or c == ".")
        cached = self.settings.cache_dir / f"{digest}{suffix}"
        if not cached.exists():
            self._make_room(size)
            self.settings.cache_dir.mkdir(parents=True, exist_ok=True)
            partial = cached.with_name(f"{cached.name}.{uuid.uuid4().hex}.part")
            self.s3.download_file(source.bucket, source.key, str(partial))
            partial.replace(cached)  # atomic: a crash never leaves a half file in the cache
        return cached

    def _make_room(self, incoming: int) -> None:
        cache = self.settings.cache_dir
        if not cache.exists():
            return
        files = sorted(cache.iterdir(), key=lambda p: p.stat().st_atime)
        total = sum(p.stat().st_size for p in files)
        while files and total + incoming > self.settings.cache_limit():
            oldest = files.pop(0)
            total -= oldest.stat().st_size
            oldest.unlink(missing_ok=True)

    def content_fingerprint(self, request: BaseModel, uris: list[str], *exclude: str) -> str:
        """The request's fingerprint with the current version (ETag) of every object it
        reads: a logo or photo overwritten at the same key makes a new checkpoint, never
        the old pixels again."""
        versions = []
        allowed = self.settings.allowed_buckets()
        for uri in sorted(set(uris)):
            source = S3Object.from_uri(uri)
            if source.bucket not in allowed:
                # Never ask S3 about a source we may not read (its role may not either: a
                # 403, not the clear error): fetch() names the field.
                versions.append([uri, "not-allowed", ""])
                continue
            try:
                head = self.s3.head_object(Bucket=source.bucket, Key=source.key)
                versions.append([uri, head.get("ETag", ""), head.get("VersionId", "")])
            except ClientError as err:
                if not _missing(err):
                    raise
                versions.append([uri, "missing", ""])  # fetch() names the field later
        canonical = json.dumps([fingerprint(request, *exclude), versions], separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def finished(self, target: S3Object, digest: str) -> dict[str, Any] | None:
        """The recorded result when ``target`` was already written by the same request."""
        try:
            head = self.s3.head_object(Bucket=target.bucket, Key=target.key)
        except ClientError as err:
            if _missing(err):
                return None
            raise
        meta = head.get("Metadata", {})
        if meta.get(FINGERPRINT_META) != digest:
            return None
        recorded: dict[str, Any] = json.loads(meta.get(RESULT_META, "{}"))
        return recorded

    def publish(
        self,
        path: Path,
        target: S3Object,
        digest: str,
        content_type: str,
        result: dict[str, Any] | None = None,
        *,
        intermediate: bool = False,
    ) -> None:
        """Upload a finished file with its fingerprint (and the result it stands for); an
        ``intermediate`` (a checkpoint) carries the retention tag its lifecycle rule expires."""
        tags = {"Tagging": INTERMEDIATE_TAGGING} if intermediate else {}
        self.s3.upload_file(
            str(path),
            target.bucket,
            target.key,
            ExtraArgs={
                "ContentType": content_type,
                "Metadata": {
                    FINGERPRINT_META: digest,
                    RESULT_META: json.dumps(result or {}, separators=(",", ":")),
                },
                **tags,
            },
        )

    @contextmanager
    def workspace(self, *parts: str) -> Iterator[Path]:
        """A fresh folder for one invocation, removed when it ends whatever happens: a warm
        execution environment keeps /tmp between invocations, and every one must leave it
        as it found it."""
        path = self.settings.work_dir.joinpath(*parts)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def check_output_bucket(self, bucket: str, field: str) -> None:
        if bucket != self.settings.output_bucket:
            raise InvalidRequestError(
                f"{field}: {bucket!r} is not this deployment's output bucket "
                f"({self.settings.output_bucket!r})"
            )
