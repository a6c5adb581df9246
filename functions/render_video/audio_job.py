"""Mix the soundtrack, whole or one piece of it; a checkpoint like a segment's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from functions.render_video.audio_graph import command
from functions.render_video.audio_pieces import Window, adts_frames, kept_frames, window
from functions.render_video.storage import Storage
from smm_runtime.contract.basetypes import S3Object
from smm_runtime.contract.kinds import AudioRequest, AudioResult
from smm_runtime.contract.ownership import owned_prefix
from smm_runtime.contract.soundtrack import AUDIO_RATE as RATE
from smm_runtime.contract.soundtrack import total_samples
from smm_runtime.ffmpeg_run import run_ffmpeg
from smm_runtime.media_tools import check_input, ffmpeg_binary, probe
from smm_runtime.work import WorkContext


@dataclass
class AudioMixer:
    storage: Storage

    def __call__(self, req: AudioRequest, ctx: WorkContext) -> AudioResult:
        self.storage.check_output_bucket(req.bucket, "bucket")
        uris = [track.uri for track in (req.music, req.voiceover) if track is not None]
        digest = self.storage.content_fingerprint(req, uris, "bucket")
        # A whole mix is an M4A; a piece is raw AAC frames, joined with the others by the
        # finalize function.
        suffix = "m4a" if req.piece is None else "aac"
        target = S3Object(
            bucket=req.bucket,
            key=f"{owned_prefix(req.account)}intermediates/audio/{digest[:48]}.{suffix}",
        )
        total = total_samples(req.total_frames, req.fps)
        start, end = (
            (0, total) if req.piece is None else (req.piece.start_sample, req.piece.end_sample)
        )
        duration = (end - start) / RATE
        if self.storage.finished(target, digest) is not None:
            return AudioResult(audio=target, duration_s=duration, reused=True, usage=ctx.usage())
        with self.storage.workspace("audio", uuid.uuid4().hex) as work:
            music = voice = None
            if req.music is not None:
                music = self.storage.fetch("music.uri", req.music.uri)
                check_input(music, "audio", "music.uri")
            if req.voiceover is not None:
                voice = self.storage.fetch("voiceover.uri", req.voiceover.uri)
                check_input(voice, "audio", "voiceover.uri")
            span = None if req.piece is None else window(start, end, total)
            output = work / f"soundtrack.{suffix}"
            run_ffmpeg(
                command(req, music, voice, output, ffmpeg_binary(), span),
                total_s=(span.encode_to - span.encode_from) / RATE if span else duration,
                on_progress=lambda pct, t: ctx.report(stage="mixing", percent=round(pct, 1)),
                cancelled=lambda: ctx.cancelled,
            )
            if span is None:
                duration = round(float(probe(output)["format"]["duration"]), 4)
            else:
                _keep_piece(output, start, end, total, span)
            content = "audio/mp4" if req.piece is None else "audio/aac"
            self.storage.publish(output, target, digest, content, intermediate=True)
            return AudioResult(audio=target, duration_s=duration, reused=False, usage=ctx.usage())


def _keep_piece(output: Path, start: int, end: int, total: int, span: Window) -> None:
    """Cut the encode down to the frames that code the piece's own samples."""
    frames = adts_frames(output.read_bytes())
    output.write_bytes(kept_frames(frames, start, end, total, span.encode_from))
