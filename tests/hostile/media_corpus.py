"""Hostile media: playlists that point at local files or internal URLs, files with absurd
dimensions or durations, truncated, mislabelled and decompression-bomb files.

Each case builds its file in a fresh folder (generated, not committed: a few are made by
FFmpeg itself) and names the role the file is offered for and what the refusal must say.
"""

from __future__ import annotations

import os
import struct
import subprocess
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from smm_runtime.media_tools import ffmpeg_binary


@dataclass(frozen=True)
class Target:
    folder: Path
    http: str  # the loopback canary's base URL
    local: Path  # the FIFO canary standing in for a local secret or segment


@dataclass(frozen=True)
class MediaCase:
    name: str
    role: str  # "video", "audio" (probed) or "still" (decoded by Pillow)
    build: Callable[[Target], Path]
    refusal: str  # a fragment of the error message


def _ffmpeg(out: Path, *args: str) -> Path:
    subprocess.run([ffmpeg_binary(), "-v", "error", "-y", *args, str(out)], check=True, timeout=120)
    return out


def _write(name: str, data: bytes | str) -> Callable[[Target], Path]:
    def build(t: Target) -> Path:
        path = t.folder / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    return build


def _template(name: str, text: str) -> Callable[[Target], Path]:
    def build(t: Target) -> Path:
        path = t.folder / name
        path.write_text(text.format(http=t.http, local=t.local))
        return path

    return build


def _mp4(t: Target, name: str = "real.mp4", size: str = "320x240") -> Path:
    return _ffmpeg(
        t.folder / name,
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size={size}:rate=30:d=1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    )


def _cut(source: Callable[[Target], Path], name: str, keep: slice) -> Callable[[Target], Path]:
    def build(t: Target) -> Path:
        data = source(t).read_bytes()
        path = t.folder / name
        path.write_bytes(data[keep])
        return path

    return build


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def _png_claiming(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _png_bomb(side: int, depth: int) -> Callable[[Target], Path]:
    """A side x side PNG of zeros (RGB at 8 bits, or grey at ``depth`` bits): hundreds of MB
    or GB of pixels in a file of a few hundred KB."""

    def build(t: Target) -> Path:
        channels = 3 if depth == 8 else 1
        row = b"\0" + b"\0" * (side * channels * depth // 8)
        compressor = zlib.compressobj(9)
        idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
        ihdr = struct.pack(">IIBBBBB", side, side, depth, 2 if depth == 8 else 0, 0, 0, 0)
        path = t.folder / f"bomb{side}.png"
        path.write_bytes(
            b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b"")
        )
        return path

    return build


def _jpeg_claiming(width: int, height: int) -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + sof + b"\xff\xd9"


def _image(fmt: str, name: str) -> Callable[[Target], Path]:
    def build(t: Target) -> Path:
        path = t.folder / name
        Image.new("RGB", (32, 32), (200, 30, 30)).save(path, format=fmt)
        return path

    return build


HLS_LOCAL = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{local}\n#EXT-X-ENDLIST\n"
HLS_URL = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{http}/segment.ts\n#EXT-X-ENDLIST\n"
HLS_PROC = (
    "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///proc/self/environ\n#EXT-X-ENDLIST\n"
)
HLS_NESTED = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n{http}/inner.m3u8\n"
CONCAT_LOCAL = "ffconcat version 1.0\nfile '{local}'\n"
CONCAT_URL = "ffconcat version 1.0\nfile '{http}/part.mp4'\n"
CONCAT_PROC = "ffconcat version 1.0\nfile '/proc/self/environ'\n"
SDP = (
    "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\n"
    "m=video 5004 RTP/AVP 96\na=rtpmap:96 H264/90000\n"
)

CONTAINERS = "not a readable file in an allowed container"

MEDIA_CASES: list[MediaCase] = [
    MediaCase(
        "hls playlist naming a local file", "video", _template("clip.m3u8", HLS_LOCAL), CONTAINERS
    ),
    MediaCase(
        "hls playlist disguised as mp4", "video", _template("clip.mp4", HLS_LOCAL), CONTAINERS
    ),
    MediaCase(
        "hls playlist naming an internal url", "video", _template("clip.mp4", HLS_URL), CONTAINERS
    ),
    MediaCase("hls playlist naming /proc", "video", _template("clip.mp4", HLS_PROC), CONTAINERS),
    MediaCase("nested hls master playlist", "video", _template("clip.mp4", HLS_NESTED), CONTAINERS),
    MediaCase(
        "hls playlist offered as music", "audio", _template("music.mp3", HLS_URL), CONTAINERS
    ),
    MediaCase(
        "concat script naming a local file",
        "video",
        _template("clip.mp4", CONCAT_LOCAL),
        CONTAINERS,
    ),
    MediaCase(
        "concat script naming an internal url",
        "audio",
        _template("music.m4a", CONCAT_URL),
        CONTAINERS,
    ),
    MediaCase(
        "concat script naming /proc", "video", _template("clip.mp4", CONCAT_PROC), CONTAINERS
    ),
    MediaCase("sdp session opening rtp sockets", "video", _template("clip.mp4", SDP), CONTAINERS),
    MediaCase(
        "a url as the whole file",
        "video",
        _write("clip.mp4", "file:///proc/self/environ\n"),
        CONTAINERS,
    ),
    MediaCase("empty file", "video", _write("clip.mp4", b""), "clip.uri:"),
    MediaCase("random bytes", "audio", _write("music.mp3", os.urandom(4096)), "music.uri:"),
    MediaCase(
        "mp4 truncated to its first 2 KB",
        "video",
        _cut(_mp4, "clip.mp4", slice(0, 2048)),
        "clip.uri:",
    ),
    MediaCase(
        "mp4 without its header", "video", _cut(_mp4, "clip.mp4", slice(4096, None)), "clip.uri:"
    ),
    MediaCase("png bytes named mp4", "video", _image("PNG", "clip.mp4"), "clip.uri:"),
    MediaCase("gif offered as video", "video", _image("GIF", "clip.gif"), "clip.uri:"),
    MediaCase(
        "wav offered as video",
        "video",
        lambda t: _ffmpeg(
            t.folder / "clip.wav", "-f", "lavfi", "-i", "sine=d=1", "-c:a", "pcm_s16le"
        ),
        CONTAINERS,
    ),
    MediaCase(
        "avi container",
        "video",
        lambda t: _ffmpeg(
            t.folder / "clip.avi", "-f", "lavfi", "-i", "testsrc2=size=64x64:d=1", "-c:v", "mpeg4"
        ),
        CONTAINERS,
    ),
    MediaCase(
        "mpeg-4 part 2 video in mp4",
        "video",
        lambda t: _ffmpeg(
            t.folder / "clip.mp4", "-f", "lavfi", "-i", "testsrc2=size=64x64:d=1", "-c:v", "mpeg4"
        ),
        "codec 'mpeg4' is not allowed",
    ),
    MediaCase(
        "matroska carrying a subtitle stream",
        "video",
        lambda t: _ffmpeg(
            t.folder / "clip.mkv",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=64x64:d=1",
            "-i",
            str(_srt(t)),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:s",
            "srt",
        ),
        "is not allowed for video",
    ),
    MediaCase(
        "video larger than 4096x4096",
        "video",
        lambda t: _mp4(t, "clip.mp4", "4608x4608"),
        "larger than allowed",
    ),
    MediaCase(
        "video offered as music",
        "audio",
        lambda t: _mp4(t, "music.mp4"),
        "codec 'h264' is not allowed for audio",
    ),
    MediaCase(
        "video nine hours long in three frames",
        "video",
        lambda t: _ffmpeg(
            t.folder / "clip.mp4",
            "-f",
            "lavfi",
            "-i",
            "color=size=64x64:rate=1/11000:d=33000",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ),
        "33000s is longer than allowed",
    ),
    MediaCase(
        "png header claiming 100000x100000",
        "still",
        _write("logo.png", _png_claiming(100_000, 100_000)),
        "logo: 100000x100000 is outside the allowed size",
    ),
    MediaCase(
        "png decompression bomb 12000x12000",
        "still",
        _png_bomb(12_000, 8),
        "logo: 12000x12000 is outside the allowed size",
    ),
    MediaCase(
        "png decompression bomb 30000x30000",
        "still",
        _png_bomb(30_000, 1),
        "logo: 30000x30000 is outside the allowed size",
    ),
    MediaCase(
        "jpeg header claiming 65000x65000",
        "still",
        _write("logo.jpg", _jpeg_claiming(65_000, 65_000)),
        "logo: 65000x65000 is outside the allowed size",
    ),
    MediaCase(
        "svg with an external reference",
        "still",
        _write(
            "logo.png",
            '<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>',
        ),
        "logo: not a readable image",
    ),
    MediaCase("gif still", "still", _image("GIF", "logo.gif"), "GIF images are not allowed"),
    MediaCase("tiff still", "still", _image("TIFF", "logo.tif"), "TIFF images are not allowed"),
    MediaCase("bmp named png", "still", _image("BMP", "logo.png"), "BMP images are not allowed"),
    MediaCase(
        "png truncated mid-stream",
        "still",
        _cut(_image("PNG", "full.png"), "logo.png", slice(0, 60)),
        "logo:",
    ),
]


def _srt(t: Target) -> Path:
    path = t.folder / "subs.srt"
    path.write_text("1\n00:00:00,000 --> 00:00:01,000\nhello\n")
    return path
