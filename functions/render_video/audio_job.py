"""Mix the soundtrack once per render; a checkpoint like a segment's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from functions.render_video.audio_graph import command, total_samples
from functions.render_video.storage import Storage
from smm_runtime.contract.basetypes import S3Object
from smm_runtime.contract.kinds import AudioRequest, AudioResult
from smm_runtime.contract.ownership import owned_prefix
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
        target = S3Object(
            bucket=req.bucket,
            key=f"{owned_prefix(req.account)}intermediates/audio/{digest[:48]}.m4a",
        )
        duration = total_samples(req) / 48_000
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
            output = work / "soundtrack.m4a"
            run_ffmpeg(
                command(req, music, voice, output, ffmpeg_binary()),
                total_s=duration,
                on_progress=lambda pct, t: ctx.report(stage="mixing", percent=round(pct, 1)),
                cancelled=lambda: ctx.cancelled,
            )
            measured = float(probe(output)["format"]["duration"])
            self.storage.publish(output, target, digest, "audio/mp4", intermediate=True)
            return AudioResult(
                audio=target, duration_s=round(measured, 4), reused=False, usage=ctx.usage()
            )
