"""The FFmpeg filter graph of a branded vertical video, as a pure function.

It takes local paths (already fetched and checked) and returns the ffmpeg-python output
node; nothing runs here, so tests can assert the exact command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from smm_runtime.contracts import BrandedVideoSpec
from smm_runtime.media_tools import PROTOCOL_WHITELIST

WIDTH, HEIGHT, FPS = 1080, 1920, 30
AUDIO_RATE = 48_000
LOGO_WIDTH = 220
LOGO_MARGIN_X, LOGO_MARGIN_Y = 64, 120  # inside the 9:16 safe area, clear of the status bar
TITLE_FADE_IN = (0.2, 0.6)  # start, duration in seconds


@dataclass(frozen=True)
class LocalInputs:
    title_card: Path
    background_image: Path | None = None
    logo: Path | None = None
    music: Path | None = None


def frame_count(duration_s: float) -> int:
    return max(1, round(duration_s * FPS))


def _file(path: Path, **options: Any) -> Any:
    return ffmpeg.input(str(path), protocol_whitelist=PROTOCOL_WHITELIST, **options)


def build_graph(spec: BrandedVideoSpec, inputs: LocalInputs, output: Path) -> Any:
    duration = frame_count(spec.duration_s) / FPS
    if inputs.background_image is not None:
        video = (
            _file(inputs.background_image, loop=1, framerate=FPS, t=duration)
            .filter("scale", WIDTH, HEIGHT, force_original_aspect_ratio="increase")
            .filter("crop", WIDTH, HEIGHT)
        )
    else:
        color = spec.background.color or "#000000"
        video = ffmpeg.input(
            f"color=c=0x{color.lstrip('#')}:s={WIDTH}x{HEIGHT}:r={FPS}:d={duration}", f="lavfi"
        )
    video = video.filter("setsar", 1).filter("fps", FPS)

    card = _file(inputs.title_card, loop=1, framerate=FPS, t=duration).filter(
        "fade", type="in", start_time=TITLE_FADE_IN[0], duration=TITLE_FADE_IN[1], alpha=1
    )
    video = ffmpeg.overlay(video, card, x=0, y=0, eof_action="pass")

    if inputs.logo is not None:
        logo = _file(inputs.logo, loop=1, framerate=FPS, t=duration).filter(
            "scale", LOGO_WIDTH, -1
        )
        video = ffmpeg.overlay(video, logo, x=f"W-w-{LOGO_MARGIN_X}", y=LOGO_MARGIN_Y,
                               eof_action="pass")
    video = video.filter("format", "yuv420p")

    if inputs.music is not None:
        audio = (
            _file(inputs.music).audio
            .filter("atrim", start=0, end=duration)
            .filter("asetpts", "PTS-STARTPTS")
            .filter("volume", spec.music_volume)
        )
        if spec.fade_out_s > 0:
            fade = min(spec.fade_out_s, duration)
            audio = audio.filter("afade", type="out", start_time=duration - fade, duration=fade)
        # A music bed shorter than the video is padded with silence, never cut short.
        audio = audio.filter("apad").filter("aresample", AUDIO_RATE)
    else:
        audio = ffmpeg.input(f"anullsrc=r={AUDIO_RATE}:cl=stereo", f="lavfi")

    return ffmpeg.output(
        video, audio, str(output),
        vcodec="libx264", preset="veryfast", crf=20, pix_fmt="yuv420p", **{"profile:v": "high"},
        r=FPS, g=FPS * 2, acodec="aac", audio_bitrate="160k", ar=AUDIO_RATE, ac=2,
        t=duration, movflags="+faststart", f="mp4",
    )


def command(spec: BrandedVideoSpec, inputs: LocalInputs, output: Path, binary: str) -> list[str]:
    """The full argv, with progress reporting on stdout and nothing interactive."""
    args: list[str] = build_graph(spec, inputs, output).compile(cmd=binary)
    return [args[0], "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error",
            "-progress", "pipe:1", "-y", *args[1:]]
