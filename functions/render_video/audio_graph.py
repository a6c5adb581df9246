"""The soundtrack, mixed once for the whole timeline (pure).

Music bed with fade in/out; an optional voice-over placed at its start frame, which ducks the
music through a sidechain compressor while it speaks. The result is exactly
total_frames / fps seconds long, to the sample, so it muxes against any preset's video with
no drift.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ffmpeg

from smm_runtime.contract.kinds import AudioRequest
from smm_runtime.media_tools import PROTOCOL_WHITELIST, ROLES

RATE = 48_000
BITRATE = "160k"


def total_samples(req: AudioRequest) -> int:
    return req.total_frames * RATE // req.fps


def audio_stream(req: AudioRequest, music: Path | None, voice: Path | None) -> Any:
    """The mixed soundtrack, exactly total_frames / fps long (not yet encoded)."""
    samples = total_samples(req)
    duration = samples / RATE
    tracks = []
    music_stream = None
    if req.music is not None and music is not None:
        m = req.music
        music_stream = (
            ffmpeg.input(
                str(music),
                protocol_whitelist=PROTOCOL_WHITELIST,
                format_whitelist=ROLES["audio"].demuxers,
            )
            .audio.filter("aresample", RATE)
            .filter("aformat", channel_layouts="stereo")
            .filter("atrim", end_sample=samples)
            .filter("asetpts", "N/SR/TB")
            .filter("volume", m.volume)
        )
        if m.fade_in_s:
            music_stream = music_stream.filter(
                "afade", type="in", start_time=0, duration=min(m.fade_in_s, duration)
            )
        if m.fade_out_s:
            fade = min(m.fade_out_s, duration)
            music_stream = music_stream.filter(
                "afade", type="out", start_time=f"{duration - fade:.6f}", duration=fade
            )
    if req.voiceover is not None and voice is not None:
        v = req.voiceover
        delay_ms = round(v.start_frame * 1000 / req.fps)
        voice_stream = (
            ffmpeg.input(
                str(voice),
                protocol_whitelist=PROTOCOL_WHITELIST,
                format_whitelist=ROLES["audio"].demuxers,
            )
            .audio.filter("aresample", RATE)
            .filter("aformat", channel_layouts="stereo")
            .filter("volume", v.volume)
            .filter("adelay", delays=delay_ms, all=1)
            .filter("apad", whole_len=samples)
        )
        if music_stream is not None and v.duck_music:
            split = voice_stream.filter_multi_output("asplit", 2)
            music_stream = ffmpeg.filter(
                [music_stream.filter("apad", whole_len=samples), split[0]],
                "sidechaincompress",
                threshold=0.02,
                ratio=8,
                attack=20,
                release=400,
            )
            voice_stream = split[1]
        tracks.append(voice_stream)
    if music_stream is not None:
        tracks.insert(0, music_stream.filter("apad", whole_len=samples))
    if not tracks:
        mixed = ffmpeg.input(f"anullsrc=r={RATE}:cl=stereo", f="lavfi").audio
    elif len(tracks) == 1:
        mixed = tracks[0]
    else:
        mixed = ffmpeg.filter(tracks, "amix", inputs=len(tracks), duration="longest", normalize=0)
    return (
        mixed.filter("alimiter", limit=0.95)
        .filter("apad", whole_len=samples)
        .filter("atrim", end_sample=samples)
    )


ENCODER_OPTIONS: dict[str, Any] = {"acodec": "aac", "audio_bitrate": BITRATE, "ar": RATE, "ac": 2}


def build_graph(req: AudioRequest, music: Path | None, voice: Path | None, output: Path) -> Any:
    return ffmpeg.output(
        audio_stream(req, music, voice), str(output), f="mp4", vn=None, **ENCODER_OPTIONS
    )


def command(
    req: AudioRequest, music: Path | None, voice: Path | None, output: Path, binary: str
) -> list[str]:
    args: list[str] = build_graph(req, music, voice, output).compile(cmd=binary)
    return [
        args[0],
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "error",
        "-progress",
        "pipe:1",
        "-y",
        *args[1:],
    ]
