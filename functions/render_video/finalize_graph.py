"""Joining segments without re-encoding, muxing the soundtrack, and the poster (pure)."""

from __future__ import annotations

from pathlib import Path

from smm_runtime.media_tools import PROTOCOL_WHITELIST


def concat_list(parts: list[tuple[str, int]], fps: int) -> str:
    """A concat-demuxer list of (bare file name, frame count) in the list's own folder.

    Safe mode (the default, ``-safe 1``) refuses anything but such names, so the list cannot
    point elsewhere. Each entry states its exact duration in frames: left to itself the
    demuxer takes each part's duration from its container, which MP4 rounds (and B-frame
    delay shifts), and the next part would start a fraction of a frame early or late.
    """
    lines = ["ffconcat version 1.0"]
    for name, frames in parts:
        if "/" in name or "'" in name or name.startswith("."):
            raise ValueError(f"unsafe segment file name {name!r}")
        if frames < 1:
            raise ValueError(f"{name}: a part has at least one frame")
        lines += [f"file '{name}'", f"duration {frames / fps:.9f}"]
    return "\n".join(lines) + "\n"


def join_command(binary: str, concat: Path, audio: Path | None, output: Path,
                 duration_s: float) -> list[str]:
    argv = [binary, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error",
            "-progress", "pipe:1", "-y",
            "-f", "concat", "-safe", "1", "-protocol_whitelist", PROTOCOL_WHITELIST,
            "-i", str(concat)]
    if audio is not None:
        argv += ["-protocol_whitelist", PROTOCOL_WHITELIST, "-i", str(audio),
                 "-map", "0:v:0", "-map", "1:a:0", "-c", "copy"]
    else:
        argv += ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-map", "0:v:0",
                 "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", "160k",
                 "-t", f"{duration_s:.6f}"]
    return [*argv, "-movflags", "+faststart", "-f", "mp4", str(output)]


def poster_command(binary: str, video: Path, at_s: float, output: Path) -> list[str]:
    return [binary, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-protocol_whitelist", PROTOCOL_WHITELIST, "-ss", f"{at_s:.3f}", "-i", str(video),
            "-frames:v", "1", "-q:v", "3", "-f", "image2", "-c:v", "mjpeg", str(output)]
