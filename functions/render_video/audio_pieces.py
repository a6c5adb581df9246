"""Cutting an encoded soundtrack piece at AAC frame boundaries, and joining pieces (pure).

Why pieces join without a click: AAC codes audio in frames of 1024 samples, and decoding
frame k overlaps and adds the second half of frame k-1's transform to the first half of its
own. A piece is encoded from two frames before its first sample to two frames after its last
(ENCODER_ROLL), so the encoder sees the same signal around the piece's edges that a single
encode would, and only the frames that code the piece's own samples are kept. Laid end to end,
the kept frames of consecutive pieces decode like one stream: the overlap at each join is two
transforms of the same signal, which cancel their aliasing as within one encode.

Frame arithmetic, from FFmpeg's AAC encoder: it delays its output by one frame of priming
(``initial_padding`` = 1024), so the n-th packet of an encode that starts at sample s decodes
to samples [s + (n-1)·1024, s + n·1024). A piece that starts at sample ``start`` (a multiple
of 1024) and was encoded from ``encode_from`` keeps packets from (start - encode_from)/1024 +
1; the first piece keeps packet 0 as well (the priming, which the joined file's edit list
skips), the last keeps everything to the encoder's final packet.
"""

from __future__ import annotations

from dataclasses import dataclass

from smm_runtime.contract.soundtrack import AAC_FRAME
from smm_runtime.contract.soundtrack import AUDIO_RATE as RATE

ENCODER_ROLL = 2 * AAC_FRAME
# How long the filters with memory run before a piece's first encoded sample: the ducking
# compressor releases in 400 ms and the limiter in 50 ms, so three seconds leave no trace of
# where a piece began.
WARM_UP = 3 * RATE
# How far the filters run past a piece's last encoded sample: at the end of their input the
# compressor and the mixer settle their last frame differently, which must not reach the
# encoder's input.
COOL_DOWN = RATE // 2


@dataclass(frozen=True)
class Window:
    """The samples of the timeline one run of the mixer works on: the filters run over
    [mix_from, mix_to), the encoder over [encode_from, encode_to) within it."""

    mix_from: int
    encode_from: int
    encode_to: int
    mix_to: int


def window(start: int, end: int, total: int) -> Window:
    """The window that mixes and encodes the piece [start, end) of ``total`` samples."""
    encode_from = max(0, start - ENCODER_ROLL)
    encode_to = total if end == total else min(total, end + ENCODER_ROLL)
    mix_from = max(0, encode_from - WARM_UP)
    return Window(mix_from, encode_from, encode_to, min(total, encode_to + COOL_DOWN))


class AdtsError(ValueError):
    pass


def adts_frames(data: bytes) -> list[bytes]:
    """Split an ADTS stream into its frames (each with its 7- or 9-byte header)."""
    frames = []
    at = 0
    while at < len(data):
        head = data[at : at + 7]
        if len(head) < 7 or head[0] != 0xFF or head[1] & 0xF6 != 0xF0:
            raise AdtsError(f"no ADTS frame header at byte {at}")
        length = (head[3] & 0x03) << 11 | head[4] << 3 | head[5] >> 5
        if length < 7 or at + length > len(data):
            raise AdtsError(f"the ADTS frame at byte {at} runs past the end")
        frames.append(data[at : at + length])
        at += length
    return frames


def kept_frames(frames: list[bytes], start: int, end: int, total: int, encode_from: int) -> bytes:
    """The frames of a piece's encode that code its samples [start, end), joined."""
    if start % AAC_FRAME or (end != total and end % AAC_FRAME):
        raise ValueError("a piece starts, and ends unless it is the last, on a 1024-sample frame")
    first = 0 if start == 0 else (start - encode_from) // AAC_FRAME + 1
    stop = len(frames) if end == total else (end - encode_from) // AAC_FRAME + 1
    if stop > len(frames) or first >= stop:
        raise AdtsError(f"the encode has {len(frames)} frames, the piece needs {first}..{stop}")
    return b"".join(frames[first:stop])
