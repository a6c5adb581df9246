"""A publish holds what its render will cost: the video's seconds at its own frame rate.

The price used to divide the spec's frames by a constant 30 fps, so a 60 fps video held twice
the credits its render estimated for itself, and a 24 fps one too few."""

from __future__ import annotations

import pytest

from orchestrator.billing.pricing import PriceModel, estimate_video
from orchestrator.publish.render_round import creative_price
from orchestrator.render.resolve import resolve
from smm_runtime.contract.validation import parse_spec
from tests.factories import brand_kit, spec

MODEL = PriceModel()


@pytest.mark.parametrize("fps", [24, 25, 30, 50, 60])
def test_the_publish_holds_what_the_render_estimates_for_itself(fps: int) -> None:
    creative = spec(fps=fps, presets=["9:16", "1:1"])
    video = parse_spec(creative)
    timeline = resolve(video, brand_kit())
    own = estimate_video(timeline.total_frames, timeline.fps, video.presets, MODEL)
    assert creative_price("video", creative)(MODEL) == own


def test_the_same_seconds_cost_the_same_at_any_rate() -> None:
    prices = {fps: creative_price("video", spec(fps=fps))(MODEL) for fps in (24, 30, 60)}
    assert len(set(prices.values())) == 1, prices


def test_executions_from_before_keep_the_price_they_were_given() -> None:
    """Replayed without the patch, the old price (30 fps) is what their history recorded."""
    at_60 = spec(fps=60)
    assert creative_price("video", at_60, spec_fps=False)(MODEL) > creative_price("video", at_60)(
        MODEL
    )
