"""Render one branded video: fetch and check inputs, run FFmpeg, upload, probe.

Idempotent under duplicate delivery: the output key is deterministic and carries the
request's fingerprint in its metadata, so a second delivery of an event that already
rendered finds the object and returns its metadata instead of rendering again.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from smm_runtime.contracts import MediaInfo, RenderVideoRequest, RenderVideoResult, S3Object
from smm_runtime.errors import InvalidRequestError
from smm_runtime.ffmpeg_run import run_ffmpeg
from smm_runtime.image_inputs import normalize_image
from smm_runtime.media_tools import check_input, ffmpeg_binary, media_info
from smm_runtime.runner import WorkContext
from smm_runtime.s3keys import safe_segment
from text_cards import render_title_card
from video_graph import HEIGHT, WIDTH, LocalInputs, command, frame_count

FINGERPRINT_META = "request-sha256"
MEDIA_META = "media-info"
FONT_MAGIC = {b"\x00\x01\x00\x00": "TrueType", b"OTTO": "OpenType", b"true": "TrueType"}


class RenderSettings(BaseSettings):
    """Environment of the function, validated once at cold start."""

    model_config = SettingsConfigDict(env_prefix="SMM_")

    asset_buckets: str = Field(description="Comma-separated buckets inputs may come from.")
    output_bucket: str
    work_dir: Path = Path("/tmp/render")
    max_input_bytes: int = 512 * 1024 * 1024

    def allowed_buckets(self) -> set[str]:
        return {b.strip() for b in self.asset_buckets.split(",") if b.strip()}


def fingerprint(request: RenderVideoRequest) -> str:
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


@dataclass
class VideoRenderer:
    s3: Any
    settings: RenderSettings

    def __call__(self, request: RenderVideoRequest, ctx: WorkContext) -> RenderVideoResult:
        if request.output.bucket != self.settings.output_bucket:
            raise InvalidRequestError(
                f"output.bucket: {request.output.bucket!r} is not this deployment's output "
                f"bucket ({self.settings.output_bucket!r})"
            )
        digest = fingerprint(request)
        existing = self._existing(request.output, digest)
        if existing is not None:
            ctx.report(stage="done", percent=100.0)
            return RenderVideoResult(output=request.output, media=existing, usage=ctx.usage(),
                                     reused_existing=True)
        work = self.settings.work_dir / safe_segment(ctx.workflow_id) / safe_segment(
            ctx.activity_id)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            return self._render(request, ctx, work, digest)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _render(self, request: RenderVideoRequest, ctx: WorkContext, work: Path,
                digest: str) -> RenderVideoResult:
        spec = request.spec
        ctx.report(stage="fetching", percent=0.0)
        font = self._fetch("font", spec.font, work)
        self._check_font(font)
        background = logo = music = None
        if spec.background.image:
            background = normalize_image(
                self._fetch("background.image", spec.background.image, work),
                work / "background.tga", "background.image")
        if spec.logo:
            logo = normalize_image(self._fetch("logo", spec.logo, work), work / "logo.tga",
                                   "logo")
        if spec.music:
            music = self._fetch("music", spec.music, work)
            check_input(music, "audio", "music")
        ctx.raise_if_cancelled()
        card = render_title_card(title=spec.title, subtitle=spec.subtitle, font_path=font,
                                 color=spec.text_color, width=WIDTH, height=HEIGHT,
                                 out_path=work / "title.tga")
        output = work / "output.mp4"
        inputs = LocalInputs(title_card=card, background_image=background, logo=logo,
                             music=music)
        total = frame_count(spec.duration_s) / 30
        ctx.report(stage="rendering", percent=0.0)
        run_ffmpeg(
            command(spec, inputs, output, ffmpeg_binary()),
            total_s=total,
            on_progress=lambda pct, t: ctx.report(stage="rendering", percent=round(pct, 1),
                                                  out_time_s=round(t, 3)),
            cancelled=lambda: ctx.cancelled,
        )
        ctx.report(stage="uploading", percent=100.0)
        media = media_info(output)
        self.s3.upload_file(
            str(output), request.output.bucket, request.output.key,
            ExtraArgs={
                "ContentType": "video/mp4",
                "Metadata": {FINGERPRINT_META: digest, MEDIA_META: media.model_dump_json()},
            },
        )
        ctx.report(stage="done", percent=100.0)
        return RenderVideoResult(output=request.output, media=media, usage=ctx.usage(),
                                 reused_existing=False)

    def _existing(self, output: S3Object, digest: str) -> MediaInfo | None:
        try:
            head = self.s3.head_object(Bucket=output.bucket, Key=output.key)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        meta = head.get("Metadata", {})
        if meta.get(FINGERPRINT_META) != digest or MEDIA_META not in meta:
            return None  # a different request wrote here earlier: render and replace it
        return MediaInfo.model_validate(json.loads(meta[MEDIA_META]))

    def _fetch(self, field: str, uri: str, work: Path) -> Path:
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
            if err.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                raise InvalidRequestError(f"{field}: {uri} does not exist") from None
            raise
        if int(head.get("ContentLength", 0)) > self.settings.max_input_bytes:
            raise InvalidRequestError(
                f"{field}: {uri} is larger than {self.settings.max_input_bytes} bytes")
        suffix = Path(source.key).suffix.lower()[:8]
        local = work / f"{safe_segment(field)}{suffix}"
        self.s3.download_file(source.bucket, source.key, str(local))
        return local

    @staticmethod
    def _check_font(path: Path) -> None:
        magic = path.read_bytes()[:4]
        if magic == b"wOF2":
            raise InvalidRequestError("font: WOFF2 is not supported; upload the TTF or OTF file")
        if magic not in FONT_MAGIC:
            raise InvalidRequestError("font: not a TrueType or OpenType font file")
