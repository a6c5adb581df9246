"""Small value types shared by the spec, the timeline and the dispatch contract."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

HexColor = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]
S3Uri = Annotated[
    str,
    StringConstraints(pattern=r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/[^\x00-\x1f]{1,1024}$"),
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class S3Object(Model):
    bucket: str = Field(min_length=3, max_length=63)
    key: str = Field(min_length=1, max_length=1024)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @classmethod
    def from_uri(cls, uri: str) -> S3Object:
        if not uri.startswith("s3://") or "/" not in uri[5:]:
            raise ValueError(f"{uri!r} is not an s3://bucket/key URI")
        bucket, key = uri[5:].split("/", 1)
        return cls(bucket=bucket, key=key)


class MediaInfo(Model):
    duration_s: float
    width: int
    height: int
    fps: float
    video_codec: str
    audio_codec: str | None
    format_name: str
    size_bytes: int
    frames: int | None = None


class ComputeUsage(Model):
    """What a function measured about itself; billing turns this into credits."""

    duration_ms: int
    memory_mb: int
    gb_seconds: float

    @classmethod
    def total(cls, usages: Iterable[ComputeUsage]) -> ComputeUsage:
        """The usage of a whole render from its parts: time and GB-seconds add up, memory is
        the largest any part had (at least one part)."""
        parts = list(usages)
        return cls(
            duration_ms=sum(u.duration_ms for u in parts),
            memory_mb=max(u.memory_mb for u in parts),
            gb_seconds=round(sum(u.gb_seconds for u in parts), 6),
        )
