"""The soundtrack's sample grid, and how a long one is cut into pieces mixed in parallel.

Shared by the workflow, which plans the pieces, and the mixer, which encodes them: a piece
starts on an AAC frame (1024 samples at 48 kHz) so that the pieces' frames can be laid end to
end without re-encoding (functions/render_video/audio_pieces.py says why that is seamless).
"""

from __future__ import annotations

from pydantic import Field

from smm_runtime.contract.basetypes import Model

AUDIO_RATE = 48_000
AAC_FRAME = 1024  # samples per AAC frame
# Pieces of half a minute: each function mixes the same amount whatever the video's length,
# and its warm-up (3 s mixed before the piece, see audio_pieces) stays a tenth of its work.
PIECE_S = 30.0


class AudioPiece(Model):
    """Samples [start_sample, end_sample) of the soundtrack, at AUDIO_RATE."""

    start_sample: int = Field(ge=0, multiple_of=AAC_FRAME)
    end_sample: int = Field(gt=0)


def total_samples(total_frames: int, fps: int) -> int:
    return total_frames * AUDIO_RATE // fps


def piece_bounds(total: int, piece_s: float = PIECE_S) -> list[AudioPiece]:
    """Pieces of about ``piece_s`` that cover ``total`` samples; every boundary but the end
    is on an AAC frame, and a short tail joins the piece before it."""
    step = max(AAC_FRAME, round(piece_s * AUDIO_RATE) // AAC_FRAME * AAC_FRAME)
    starts = list(range(0, total, step))
    if len(starts) > 1 and total - starts[-1] < step // 2:
        starts.pop()
    return [
        AudioPiece(start_sample=s, end_sample=starts[i + 1] if i + 1 < len(starts) else total)
        for i, s in enumerate(starts)
    ]
