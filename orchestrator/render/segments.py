"""Segment planning over a resolved timeline (pure; runs inside workflows).

Windows of whole frames with equal shares of an estimated per-frame cost, so parallel
segments finish together; a window keeps only what it shows, so its checkpoint key changes
only when something it shows changes.
"""

from __future__ import annotations

import math

from smm_runtime.contract.timeline import RImage, Timeline
from smm_runtime.contract.video_spec import PRESET_SIZES

# Relative CPU cost of one frame, by what is on it (measured with `make bench`: encoding is
# the base; decoding and scaling a clip or zooming a still nearly doubles it).
FRAME_COST_BASE = 1.0
BACKGROUND_COST = {"solid": 0.0, "gradient": 0.05, "image": 0.1, "ken_burns": 0.8, "video": 0.9}


def frame_costs(timeline: Timeline) -> list[float]:
    costs = [FRAME_COST_BASE] * timeline.total_frames
    for scene in timeline.scenes:
        bg = scene.background
        kind = "ken_burns" if isinstance(bg, RImage) and bg.ken_burns else bg.type
        for frame in range(scene.start_frame, scene.end_frame):
            costs[frame] += BACKGROUND_COST[kind]
    return costs


def plan_segments(
    total_frames: int, target_frames: int, max_segments: int, costs: list[float] | None = None
) -> list[tuple[int, int]]:
    """Split [0, total) into contiguous windows of whole frames.

    The count is ceil(total / target), bounded by ``max_segments``. Windows carry equal shares
    of the estimated cost (``costs`` per frame; equal frames when absent), so parallel
    segments finish together; no window is empty, so there is never a 0-frame segment, and
    with equal costs sizes differ by at most one frame (no 1-frame runt).
    """
    if total_frames < 1:
        raise ValueError("a video has at least one frame")
    if costs is not None and len(costs) != total_frames:
        raise ValueError("one cost per frame")
    count = max(1, min(max_segments, math.ceil(total_frames / max(1, target_frames))))
    count = min(count, total_frames)
    weights = costs or [1.0] * total_frames
    total_cost = sum(weights)
    cuts = [0]
    running = 0.0
    for frame, weight in enumerate(weights):
        # Cut before this frame once the previous window holds its share, as long as every
        # remaining window can still get at least one frame.
        share = total_cost * len(cuts) / count
        remaining_windows = count - len(cuts)
        if (
            len(cuts) < count
            and frame > cuts[-1]
            and running + weight / 2 > share
            and total_frames - frame >= remaining_windows
        ):
            cuts.append(frame)
        running += weight
    while len(cuts) < count:  # only when costs are extremely skewed: split the largest window
        bounds = [*cuts, total_frames]
        widest = max(range(len(cuts)), key=lambda i: bounds[i + 1] - bounds[i])
        cuts.insert(widest + 1, (bounds[widest] + bounds[widest + 1]) // 2)
    bounds = [*cuts, total_frames]
    return [(bounds[i], bounds[i + 1]) for i in range(count)]


def window(timeline: Timeline, start: int, end: int) -> Timeline:
    """Only what is visible in [start, end): a segment's request carries nothing else, so its
    checkpoint key changes only when something it shows changes."""
    scenes = [s for s in timeline.scenes if s.start_frame < end and s.end_frame > start]
    scenes = [
        s.model_copy(
            update={"texts": [t for t in s.texts if t.start_frame < end and t.end_frame > start]}
        )
        for s in scenes
    ]
    captions = [c for c in timeline.captions if c.start_frame < end and c.end_frame > start]
    return timeline.model_copy(update={"scenes": scenes, "captions": captions})


def preset_size(preset: str) -> tuple[int, int]:
    return PRESET_SIZES[preset]
