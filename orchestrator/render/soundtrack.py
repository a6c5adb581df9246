"""What a render asks of the soundtrack function: one mix, or pieces mixed in parallel.

A long soundtrack mixed by one function was the render's critical path (13 of the 20 s a
10-minute render models on Lambda): its work grew with the video. Cut into pieces of
``audio_piece_s``, each function mixes the same amount whatever the length, beside the
segments, and the finalize function lays the pieces' AAC frames end to end (see
functions/render_video/audio_pieces.py for why the joins are seamless).
"""

from __future__ import annotations

from smm_runtime.contract.kinds import AudioRequest, VoiceOverTrack
from smm_runtime.contract.soundtrack import piece_bounds, total_samples
from smm_runtime.contract.timeline import Timeline
from smm_runtime.contract.video_spec import VideoSpec

# Executions that planned one mix before pieces existed replay without this marker and keep
# one mix; a render whose soundtrack fits one piece never asks.
PIECES_PATCH = "soundtrack-pieces"


def soundtrack(
    spec: VideoSpec, timeline: Timeline, bucket: str, account: str | None
) -> AudioRequest | None:
    """The whole soundtrack's request, or None when the spec has neither music nor voice."""
    if spec.music is None and spec.voiceover is None:
        return None
    voice = None
    if spec.voiceover is not None:
        voice = VoiceOverTrack(
            uri=spec.voiceover.uri,
            start_frame=round(spec.voiceover.start_s * timeline.fps),
            volume=spec.voiceover.volume,
            duck_music=spec.voiceover.duck_music,
        )
    return AudioRequest(
        total_frames=timeline.total_frames,
        fps=timeline.fps,
        music=spec.music,
        voiceover=voice,
        bucket=bucket,
        account=account,
    )


def pieces(whole: AudioRequest, piece_s: float) -> list[AudioRequest]:
    """The requests for the soundtrack in pieces of about ``piece_s``: just ``whole`` when
    it fits in one."""
    bounds = piece_bounds(total_samples(whole.total_frames, whole.fps), piece_s)
    if len(bounds) == 1:
        return [whole]
    fields = whole.model_dump()
    return [AudioRequest.model_validate({**fields, "piece": b.model_dump()}) for b in bounds]
