"""The 10-minute render's soundtrack mixed alone on this machine (for bench-long's model).

Inside the render the soundtrack functions share two cores with two segment renders, so their
spans there say more about this machine than about Lambda. Here the same commands the
function runs (audio_graph) mix the render's soundtrack with nothing beside them: once whole,
as one function did before pieces, and piece by piece, as the functions do now.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from functions.render_video.audio_graph import command
from functions.render_video.audio_pieces import window
from smm_runtime.contract.kinds import AudioRequest, VoiceOverTrack
from smm_runtime.contract.soundtrack import PIECE_S, piece_bounds, total_samples
from smm_runtime.contract.video_spec import MusicBed
from smm_runtime.media_tools import ffmpeg_binary


@dataclass(frozen=True)
class SoundtrackAlone:
    whole_s: float  # one function mixing it all
    pieces: int
    longest_piece_s: float
    pieces_total_s: float  # every piece, one after another (what they cost together)


def _download(s3: Any, uri: str, to: Path) -> Path:
    bucket, _, key = uri[5:].partition("/")
    s3.download_file(bucket, key, str(to))
    return to


def _timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(s3: Any, spec: dict[str, Any], total_frames: int, work: Path) -> SoundtrackAlone:
    music = _download(s3, spec["music"]["uri"], work / "music")
    voice = _download(s3, spec["voiceover"]["uri"], work / "voice")
    fps = int(spec.get("fps", 30))
    req = AudioRequest(
        total_frames=total_frames,
        fps=fps,
        music=MusicBed.model_validate(spec["music"]),
        voiceover=VoiceOverTrack(
            uri=spec["voiceover"]["uri"],
            start_frame=round(spec["voiceover"].get("start_s", 0) * fps),
            volume=1.0,
            duck_music=True,
        ),
        bucket="bench-bucket",
    )
    binary = ffmpeg_binary()
    whole = _timed(command(req, music, voice, work / "whole.m4a", binary))
    total = total_samples(total_frames, fps)
    took = [
        _timed(
            command(
                req,
                music,
                voice,
                work / "piece.aac",
                binary,
                window(p.start_sample, p.end_sample, total),
            )
        )
        for p in piece_bounds(total, PIECE_S)
    ]
    return SoundtrackAlone(whole, len(took), max(took), sum(took))
