"""The whole video in one FFmpeg process: the reference the segmented render is held to.

The same composition (the segment graph over the full timeline) and the same soundtrack graph,
encoded together. The benchmark measures the parallel render against it, and the exactness
test compares the two picture by picture.
"""

from __future__ import annotations

from pathlib import Path

import ffmpeg

from functions.render_video import audio_graph, segment_graph
from functions.render_video.segment_graph import SegmentAssets
from smm_runtime.contract.kinds import AudioRequest, SegmentRequest


def command(
    video: SegmentRequest,
    assets: SegmentAssets,
    audio: AudioRequest,
    music: Path | None,
    voice: Path | None,
    output: Path,
    binary: str,
) -> list[str]:
    if (video.start_frame, video.end_frame) != (0, video.timeline.total_frames):
        raise ValueError("a single pass covers the whole timeline")
    out = ffmpeg.output(
        segment_graph.video_stream(video, assets),
        audio_graph.audio_stream(audio, music, voice),
        str(output),
        movflags="+faststart",
        f="mp4",
        **segment_graph.encoder_options(video),
        **audio_graph.ENCODER_OPTIONS,
    )
    args: list[str] = out.compile(cmd=binary)
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
