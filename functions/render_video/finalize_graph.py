"""Joining segments without re-encoding, muxing the soundtrack, and the poster (pure)."""

from __future__ import annotations

from pathlib import Path

from smm_runtime.contract.soundtrack import AAC_FRAME, AUDIO_RATE
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


def join_command(
    binary: str, concat: Path, audio: Path | None, output: Path, duration_s: float
) -> list[str]:
    argv = [
        binary,
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "error",
        "-progress",
        "pipe:1",
        "-y",
        "-f",
        "concat",
        "-safe",
        "1",
        "-protocol_whitelist",
        PROTOCOL_WHITELIST,
        "-i",
        str(concat),
    ]
    if audio is not None:
        if audio.suffix == ".aac":
            # Joined pieces: raw AAC frames, the first the encoder's priming. Starting the
            # stream one frame early makes the MP4 muxer write the edit list that skips it,
            # as it does for a whole mix's M4A.
            argv += ["-f", "aac", "-itsoffset", f"{-AAC_FRAME / AUDIO_RATE:.6f}"]
        argv += [
            "-protocol_whitelist",
            PROTOCOL_WHITELIST,
            "-i",
            str(audio),
            "-map",
            "0:v:0",
            "-map",
            "1:a:0",
            "-c",
            "copy",
        ]
    else:
        argv += [
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=48000:cl=stereo",
            "-map",
            "0:v:0",
            "-map",
            "1:a:0",
            "-c:v",
            "copy",
            "-c:a",
            "aac",
            "-b:a",
            "160k",
            "-t",
            f"{duration_s:.6f}",
        ]
    return [*argv, "-movflags", "+faststart", "-f", "mp4", str(output)]


def poster_command(binary: str, video: Path, at_s: float, output: Path) -> list[str]:
    return [
        binary,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-protocol_whitelist",
        PROTOCOL_WHITELIST,
        "-ss",
        f"{at_s:.3f}",
        "-i",
        str(video),
        "-frames:v",
        "1",
        "-q:v",
        "3",
        "-f",
        "image2",
        "-c:v",
        "mjpeg",
        str(output),
    ]


SHEET_COLUMNS = 4
SHEET_THUMB_WIDTH = 270


def contact_sheet_command(
    binary: str, video: Path, times_s: list[float], output: Path
) -> list[str]:
    """One JPEG of stills at ``times_s``, in rows of four. Each still is its own input seeked
    to its time (a keyframe at most one GOP before it is decoded, not the whole video)."""
    if not times_s:
        raise ValueError("a contact sheet needs at least one time")
    argv = [binary, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    for at in times_s:
        argv += ["-protocol_whitelist", PROTOCOL_WHITELIST, "-ss", f"{at:.3f}", "-i", str(video)]
    columns = min(SHEET_COLUMNS, len(times_s))
    rows = -(-len(times_s) // columns)
    stills = "".join(
        f"[{i}:v:0]trim=end_frame=1,scale={SHEET_THUMB_WIDTH}:-2,setsar=1,"
        f"setpts=PTS-STARTPTS[s{i}];"
        for i in range(len(times_s))
    )
    joined = "".join(f"[s{i}]" for i in range(len(times_s)))
    graph = (
        f"{stills}{joined}concat=n={len(times_s)}:v=1:a=0,"
        f"tile={columns}x{rows}:padding=6:margin=6:color=white[sheet]"
    )
    return [
        *argv,
        "-filter_complex",
        graph,
        "-map",
        "[sheet]",
        "-frames:v",
        "1",
        "-q:v",
        "4",
        "-f",
        "image2",
        "-c:v",
        "mjpeg",
        str(output),
    ]
