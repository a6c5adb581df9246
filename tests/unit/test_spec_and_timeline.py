from __future__ import annotations

from typing import Any

import pytest

from orchestrator.render.resolve import SpecResolutionError, resolve
from orchestrator.render.segments import frame_costs, plan_segments, window
from smm_runtime.contract.errors import INVALID_REQUEST
from smm_runtime.contract.timeline import RGradient, RSolid
from smm_runtime.contract.validation import ContractError, parse_spec
from smm_runtime.contract.video_spec import VideoSpec
from tests.factories import brand_kit, scene, spec


def timeline_of(**overrides: Any) -> Any:
    return resolve(VideoSpec.model_validate(spec(**overrides)), brand_kit())


def test_crossfade_overlaps_scenes_and_shortens_the_timeline() -> None:
    tl = timeline_of()
    first, second = tl.scenes
    assert (first.start_frame, first.frames) == (0, 60)
    assert (second.start_frame, second.frames, second.fade_in_frames) == (45, 60, 15)
    assert tl.total_frames == 105  # 2 s + 2 s - 0.5 s, in whole frames


@pytest.mark.parametrize("fps", [24, 25, 30, 50, 60])
def test_every_frame_rate_counts_whole_frames_at_its_own_rate(fps: int) -> None:
    tl = timeline_of(
        fps=fps,
        scenes=[scene(1), scene(1.5)],
        captions=[{"start_s": 0.5, "end_s": 2.0, "text": "x"}],
    )
    assert tl.fps == fps
    assert [(s.start_frame, s.frames) for s in tl.scenes] == [(0, fps), (fps, round(1.5 * fps))]
    assert (tl.captions[0].start_frame, tl.captions[0].end_frame) == (round(0.5 * fps), 2 * fps)


def test_a_refused_frame_rate_says_which_are_allowed() -> None:
    with pytest.raises(ContractError) as err:
        parse_spec(spec(fps=23.976))
    assert "24, 25, 30, 50 or 60" in str(err.value)


def test_cuts_butt_scenes_end_to_start() -> None:
    tl = timeline_of(scenes=[scene(1), scene(1.5), scene(0.5)])
    assert [(s.start_frame, s.end_frame) for s in tl.scenes] == [(0, 30), (30, 75), (75, 90)]
    assert all(s.fade_in_frames == 0 for s in tl.scenes)


def test_brand_colours_and_fonts_are_resolved_from_the_kit() -> None:
    tl = timeline_of()
    assert isinstance(tl.scenes[1].background, RGradient)
    assert tl.scenes[1].background.from_color == "#1E3A8A"
    assert isinstance(tl.scenes[0].background, RSolid)
    assert tl.scenes[0].texts[0].font == "s3://assets-bucket/shared/fonts/heading.ttf"
    assert tl.logo is not None and tl.logo.uri == "s3://assets-bucket/shared/logo.png"


def test_an_unknown_brand_colour_names_the_field_and_the_choices() -> None:
    with pytest.raises(SpecResolutionError) as err:
        timeline_of(scenes=[scene(1, texts=[{"text": "x", "color": "teal"}])])
    assert err.value.field == "scenes.0.texts.0.color"
    assert "accent, primary" in str(err.value)


def test_an_unknown_font_role_names_the_field() -> None:
    with pytest.raises(SpecResolutionError, match=r"scenes\.0\.texts\.0\.font"):
        timeline_of(scenes=[scene(1, texts=[{"text": "x", "font": "script"}])])


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"scenes": []}, "spec.scenes"),
        ({"presets": ["9:16", "9:16"]}, "spec.presets"),
        ({"presets": ["4:5"]}, "spec.presets.0"),
        ({"quality": "ultra"}, "spec.quality"),
        (
            {"scenes": [scene(1, background={"type": "image", "uri": "http://x/y.png"})]},
            "spec.scenes.0.background.image.uri",
        ),
        (
            {
                "scenes": [
                    scene(1),
                    scene(1, transition_in={"type": "crossfade", "duration_s": 1.0}),
                ]
            },
            "scenes.1.transition_in.duration_s",
        ),
        ({"scenes": [scene(1, transition_in={"type": "crossfade"})]}, "scenes.0.transition_in"),
        ({"captions": [{"start_s": 2, "end_s": 1, "text": "x"}]}, "spec.captions.0"),
        ({"brand_kit": "Not An Id"}, "spec.brand_kit"),
        ({"fps": 29.97}, "spec.fps"),
        ({"fps": 120}, "spec.fps"),
    ],
)
def test_bad_specs_are_refused_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ContractError) as err:
        parse_spec(spec(**overrides))
    assert err.value.error_type == INVALID_REQUEST
    assert field in str(err.value)


def test_planner_balances_segments_so_there_is_no_runt() -> None:
    assert plan_segments(61, 30, 32) == [(0, 20), (20, 41), (41, 61)]
    sizes = [b - a for a, b in plan_segments(901, 150, 32)]
    assert max(sizes) - min(sizes) <= 1
    assert min(sizes) > 1


def test_planner_covers_every_frame_exactly_once() -> None:
    for total in (1, 2, 29, 30, 31, 149, 150, 151, 1799):
        for target in (1, 30, 150):
            windows = plan_segments(total, target, 64)
            covered = [f for a, b in windows for f in range(a, b)]
            assert covered == list(range(total)), (total, target)


def test_a_one_frame_video_and_a_video_shorter_than_a_segment_are_one_segment() -> None:
    assert plan_segments(1, 150, 32) == [(0, 1)]
    assert plan_segments(40, 150, 32) == [(0, 40)]


def test_planner_gives_expensive_frames_shorter_segments() -> None:
    costs = [2.0] * 300 + [1.0] * 600  # a clip, then plain backgrounds
    windows = plan_segments(900, 450, 2, costs)
    assert windows == [(0, 300), (300, 900)]
    shares = [sum(costs[a:b]) for a, b in windows]
    assert abs(shares[0] - shares[1]) <= 2.0


def test_frame_costs_follow_what_is_on_screen() -> None:
    tl = timeline_of(
        scenes=[
            scene(
                1, background={"type": "image", "uri": "s3://assets-bucket/p.jpg", "ken_burns": {}}
            ),
            scene(
                1,
                transition_in={"type": "crossfade", "duration_s": 0.5},
                background={"type": "gradient", "from_color": "primary", "to_color": "accent"},
            ),
        ]
    )
    costs = frame_costs(tl)
    assert len(costs) == tl.total_frames == 45
    assert costs[0] > costs[-1]  # zooming a photo costs more than a gradient
    assert costs[20] > costs[0]  # during the cross-fade both scenes are drawn


def test_planner_never_makes_an_empty_segment_even_with_skewed_costs() -> None:
    windows = plan_segments(10, 2, 5, [100.0] + [0.001] * 9)
    assert len(windows) == 5
    assert all(b > a for a, b in windows)
    assert [f for a, b in windows for f in range(a, b)] == list(range(10))


def test_planner_respects_the_segment_bound() -> None:
    assert len(plan_segments(18000, 30, 16)) == 16
    assert len(plan_segments(5, 1, 64)) == 5  # never more segments than frames


def test_a_window_across_a_transition_keeps_both_scenes() -> None:
    tl = timeline_of()  # scene 1 fades in over frames 45..59
    crossing = window(tl, 40, 70)
    assert [s.index for s in crossing.scenes] == [0, 1]
    inside_first = window(tl, 0, 40)
    assert [s.index for s in inside_first.scenes] == [0]
    assert window(tl, 60, 105).scenes[0].index == 1


def test_a_window_keeps_only_the_texts_and_captions_it_shows() -> None:
    tl = timeline_of(
        captions=[
            {"start_s": 0, "end_s": 0.5, "text": "early"},
            {"start_s": 3, "end_s": 3.4, "text": "late"},
        ]
    )
    late = window(tl, 60, 105)
    assert [c.text for c in late.captions] == ["late"]
    assert late.has_captions
    assert all(not s.texts for s in late.scenes)
