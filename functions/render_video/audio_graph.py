"""The soundtrack's filter graph, for the whole timeline or one piece of it (pure).

Music bed with fade in/out; an optional voice-over placed at its start frame, which ducks the
music through a sidechain compressor while it speaks. The whole mix is exactly
total_frames / fps seconds long, to the sample, so it muxes against any preset's video with
no drift.

A piece (audio_pieces.Window) mixes the same graph over a stretch of the timeline: every
track is placed at its absolute sample position, the filters with memory (the resampler, the
ducking compressor, the limiter) run over a warm-up before the stretch so they reach the
state the whole mix has there, and fades are set on absolute timestamps. What comes out of a
piece is therefore, sample for sample, what the whole mix has at those positions, and pieces
mixed by different functions join without a seam.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ffmpeg

from functions.render_video.audio_pieces import Window
from smm_runtime.contract import soundtrack
from smm_runtime.contract.kinds import AudioRequest
from smm_runtime.contract.soundtrack import AUDIO_RATE as RATE
from smm_runtime.media_tools import PROTOCOL_WHITELIST, ROLES

BITRATE = "160k"


def total_samples(req: AudioRequest) -> int:
    return soundtrack.total_samples(req.total_frames, req.fps)


def voice_offset(req: AudioRequest) -> int:
    """Where the voice-over starts on the timeline, in samples."""
    return 0 if req.voiceover is None else req.voiceover.start_frame * RATE // req.fps


def _track(path: Path, offset: int, window: Window) -> Any:
    """A file's audio placed at sample ``offset`` of the timeline, starting at the window's
    ``mix_from`` (silence before the file starts), at RATE in stereo.

    The file is seeked to a whole second: a sample of every integer rate, so the resampler
    starts on the phase the whole mix has there. FFmpeg's seeks land on exact sample
    timestamps in every audio format we accept, MP3 and raw AAC included (it indexes their
    frames rather than guessing from the bit rate); test_soundtrack_pieces holds that for
    each format, a piece against the whole mix, sample for sample.
    """
    local = max(0, window.mix_from - offset)  # the first sample of the file the window needs
    seek_s = local // RATE
    options: dict[str, Any] = {
        "protocol_whitelist": PROTOCOL_WHITELIST,
        "format_whitelist": ROLES["audio"].demuxers,
    }
    if seek_s:
        options["ss"] = seek_s
    stream = (
        ffmpeg.input(str(path), **options)
        .audio.filter("aresample", RATE)
        .filter("aformat", channel_layouts="stereo")
    )
    first = offset + seek_s * RATE  # the timeline position of the stream's first sample
    if first < window.mix_from:
        stream = stream.filter("atrim", start_sample=window.mix_from - first)
    elif first > window.mix_from:
        stream = stream.filter("adelay", delays=f"{first - window.mix_from}S", all=1)
    # Timestamps on the timeline (fades are set on them); N counts samples, from the window.
    return stream.filter("asetpts", f"(N+{window.mix_from})/SR/TB")


def audio_stream(
    req: AudioRequest,
    music: Path | None,
    voice: Path | None,
    window: Window | None = None,
) -> Any:
    """The mixed soundtrack over ``window`` (the whole timeline by default), not yet encoded:
    exactly ``window.encode_to - window.encode_from`` samples."""
    samples = total_samples(req)
    window = window or Window(0, 0, samples, samples)
    length = window.mix_to - window.mix_from  # what every track is cut or padded to
    duration = samples / RATE
    tracks = []
    music_stream = None
    if req.music is not None and music is not None:
        m = req.music
        music_stream = (
            _track(music, 0, window).filter("atrim", end_sample=length).filter("volume", m.volume)
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
        voice_stream = (
            _track(voice, voice_offset(req), window)
            .filter("volume", v.volume)
            .filter("apad", whole_len=length)
            .filter("atrim", end_sample=length)
        )
        if music_stream is not None and v.duck_music:
            split = voice_stream.filter_multi_output("asplit", 2)
            music_stream = ffmpeg.filter(
                [music_stream.filter("apad", whole_len=length), split[0]],
                "sidechaincompress",
                threshold=0.02,
                ratio=8,
                attack=20,
                release=400,
            )
            voice_stream = split[1]
        tracks.append(voice_stream)
    if music_stream is not None:
        tracks.insert(0, music_stream.filter("apad", whole_len=length))
    if not tracks:
        mixed = ffmpeg.input(f"anullsrc=r={RATE}:cl=stereo", f="lavfi").audio
    elif len(tracks) == 1:
        mixed = tracks[0]
    else:
        mixed = ffmpeg.filter(tracks, "amix", inputs=len(tracks), duration="longest", normalize=0)
    return (
        mixed.filter("alimiter", limit=0.95)
        .filter("apad", whole_len=length)
        .filter(
            "atrim",
            start_sample=window.encode_from - window.mix_from,
            end_sample=window.encode_to - window.mix_from,
        )
        .filter("asetpts", "N/SR/TB")
    )


ENCODER_OPTIONS: dict[str, Any] = {"acodec": "aac", "audio_bitrate": BITRATE, "ar": RATE, "ac": 2}


def build_graph(
    req: AudioRequest,
    music: Path | None,
    voice: Path | None,
    output: Path,
    window: Window | None = None,
) -> Any:
    """The whole mix as an M4A (its edit list trims the encoder's priming and padding), or a
    piece as raw AAC frames (ADTS) for audio_pieces to cut at frame boundaries."""
    container = {"f": "mp4"} if window is None else {"f": "adts"}
    return ffmpeg.output(
        audio_stream(req, music, voice, window),
        str(output),
        vn=None,
        **container,
        **ENCODER_OPTIONS,
    )


def command(
    req: AudioRequest,
    music: Path | None,
    voice: Path | None,
    output: Path,
    binary: str,
    window: Window | None = None,
) -> list[str]:
    args: list[str] = build_graph(req, music, voice, output, window).compile(cmd=binary)
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
