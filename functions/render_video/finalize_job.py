"""Join a preset's segments by stream copy, mux the soundtrack, write the poster and the
scenes' contact sheet."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from functions.render_video.finalize_graph import (
    concat_list,
    contact_sheet_command,
    join_command,
    poster_command,
)
from functions.render_video.storage import Storage, fingerprint
from smm_runtime.contract.basetypes import MediaInfo
from smm_runtime.contract.errors import RENDER_FAILED, WorkError
from smm_runtime.contract.kinds import FinalizeRequest, FinalizeResult
from smm_runtime.ffmpeg_run import run_ffmpeg
from smm_runtime.media_tools import ffmpeg_binary, media_info
from smm_runtime.work import WorkContext


@dataclass
class Finalizer:
    storage: Storage

    def __call__(self, req: FinalizeRequest, ctx: WorkContext) -> FinalizeResult:
        self.storage.check_output_bucket(req.output.bucket, "output.bucket")
        self.storage.check_output_bucket(req.poster.bucket, "poster.bucket")
        digest = fingerprint(req)
        done = self.storage.finished(req.output, digest)
        if done is not None and "media" in done:
            return FinalizeResult(
                output=req.output,
                poster=req.poster,
                contact_sheet=req.contact_sheet if req.sheet_frames else None,
                media=MediaInfo.model_validate(done["media"]),
                reused=True,
                usage=ctx.usage(),
            )
        with self.storage.workspace("finalize", uuid.uuid4().hex) as work:
            parts = []
            for index, (segment, frames) in enumerate(
                zip(req.segments, req.segment_frames, strict=True)
            ):
                self.storage.check_output_bucket(segment.bucket, f"segments.{index}.bucket")
                name = f"seg_{index:04d}.mp4"
                self.storage.s3.download_file(segment.bucket, segment.key, str(work / name))
                parts.append((name, frames))
            ctx.report(stage="joining", percent=10.0)
            audio = self._soundtrack(req, work)
            (work / "segments.ffconcat").write_text(concat_list(parts, req.fps))
            output = work / "final.mp4"
            duration = req.total_frames / req.fps
            run_ffmpeg(
                join_command(ffmpeg_binary(), work / "segments.ffconcat", audio, output, duration),
                total_s=duration,
                on_progress=lambda pct, t: None,
                cancelled=lambda: ctx.cancelled,
            )
            media = media_info(output, count=True)
            if media.frames != req.total_frames:
                raise WorkError(
                    f"the joined {req.preset} video has {media.frames} frames, "
                    f"expected {req.total_frames}",
                    error_type=RENDER_FAILED,
                    non_retryable=True,
                )
            poster = work / "poster.jpg"
            run_ffmpeg(
                poster_command(ffmpeg_binary(), output, min(1.0, duration / 2), poster),
                total_s=0,
                on_progress=lambda pct, t: None,
                cancelled=lambda: ctx.cancelled,
            )
            sheet = req.contact_sheet if req.sheet_frames else None
            if sheet is not None:
                self.storage.check_output_bucket(sheet.bucket, "contact_sheet.bucket")
                run_ffmpeg(
                    contact_sheet_command(
                        ffmpeg_binary(),
                        output,
                        [f / req.fps for f in req.sheet_frames],
                        work / "sheet.jpg",
                    ),
                    total_s=0,
                    on_progress=lambda pct, t: None,
                    cancelled=lambda: ctx.cancelled,
                )
            ctx.report(stage="uploading", percent=90.0)
            self.storage.publish(poster, req.poster, digest, "image/jpeg")
            if sheet is not None:
                self.storage.publish(work / "sheet.jpg", sheet, digest, "image/jpeg")
            # The video last: its fingerprint is what marks this step done.
            self.storage.publish(
                output, req.output, digest, "video/mp4", {"media": media.model_dump(mode="json")}
            )
            return FinalizeResult(
                output=req.output,
                poster=req.poster,
                contact_sheet=sheet,
                media=media,
                reused=False,
                usage=ctx.usage(),
            )

    def _soundtrack(self, req: FinalizeRequest, work: Path) -> Path | None:
        """The soundtrack, downloaded: a whole mix's M4A, or the pieces' AAC frames laid end
        to end, which decode as one stream (audio_pieces)."""
        if req.audio is not None:
            audio = work / "soundtrack.m4a"
            self.storage.s3.download_file(req.audio.bucket, req.audio.key, str(audio))
            return audio
        if not req.audio_pieces:
            return None
        audio = work / "soundtrack.aac"
        with audio.open("wb") as joined:
            for index, piece in enumerate(req.audio_pieces):
                self.storage.check_output_bucket(piece.bucket, f"audio_pieces.{index}.bucket")
                body = self.storage.s3.get_object(Bucket=piece.bucket, Key=piece.key)["Body"]
                for chunk in body.iter_chunks(1 << 20):
                    joined.write(chunk)
        return audio
