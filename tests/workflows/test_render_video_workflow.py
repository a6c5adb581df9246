"""RenderVideoWorkflow against the time-skipping server, with in-memory fakes of the
functions (the dispatch activities) and of the brand kit store."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment

from smm_runtime.contract.errors import INVALID_REQUEST, UNSAFE_MEDIA
from tests.factories import scene, spec
from tests.fakes import FakeEngine
from tests.fakes import run_render as _run


async def test_each_preset_is_planned_rendered_and_joined_from_its_own_segments(
    skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeEngine()
    video = spec(presets=["9:16", "16:9"], segment_target_s=1)
    result = await _run(skipping_env, fake, video, workflow_id="render-abc")
    assert result.total_frames == 105
    assert [o.preset for o in result.outputs] == ["9:16", "16:9"]
    assert result.by_preset("16:9").uri == "s3://out-bucket/renders/render-abc/landscape.mp4"
    by_preset = {f.preset: f for f in fake.finals}
    for preset in ("9:16", "16:9"):
        windows = sorted((s.start_frame, s.end_frame) for s in fake.segments if s.preset == preset)
        assert len(windows) == 4
        assert [f for a, b in windows for f in range(a, b)] == list(range(105))
        assert [k.key for k in by_preset[preset].segments] == [
            f"intermediates/{preset}-{a}" for a, _ in sorted(windows)
        ]
    assert {(s.width, s.height) for s in fake.segments} == {(1080, 1920), (1920, 1080)}
    assert result.segments_total == 8
    assert (result.segments_rendered, result.segments_reused) == (6, 2)
    assert fake.audio == []  # no music and no voice: the join adds a silent track


async def test_the_soundtrack_is_mixed_once_for_all_presets(
    skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeEngine()
    video = spec(
        presets=["9:16", "1:1", "16:9"],
        music={"uri": "s3://assets-bucket/m.mp3"},
        voiceover={"uri": "s3://assets-bucket/v.mp3", "start_s": 1},
    )
    await _run(skipping_env, fake, video)
    assert len(fake.audio) == 1
    assert fake.audio[0].total_frames == 105
    assert fake.audio[0].voiceover is not None and fake.audio[0].voiceover.start_frame == 30
    assert {f.audio.key for f in fake.finals if f.audio} == {"intermediates/a.m4a"}


async def test_a_long_soundtrack_is_mixed_in_pieces_beside_the_segments(
    skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeEngine()
    video = spec(
        presets=["9:16", "1:1"],
        music={"uri": "s3://assets-bucket/m.mp3"},
        voiceover={"uri": "s3://assets-bucket/v.mp3", "start_s": 1},
    )
    await _run(skipping_env, fake, video, audio_piece_s=1)
    # 105 frames at 30 fps: 168,000 samples in pieces of 46 AAC frames (47,104 samples).
    bounds = sorted((a.piece.start_sample, a.piece.end_sample) for a in fake.audio if a.piece)
    assert len(fake.audio) == len(bounds) == 4
    assert bounds == [(0, 47_104), (47_104, 94_208), (94_208, 141_312), (141_312, 168_000)]
    assert all(a.voiceover == fake.audio[0].voiceover for a in fake.audio)
    for final in fake.finals:  # every preset joins the same pieces, in order, and no whole mix
        assert final.audio is None
        assert [p.key for p in final.audio_pieces] == [
            f"intermediates/a-{start}.aac" for start, _ in bounds
        ]


async def test_segments_in_flight_are_bounded_per_workflow(
    skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeEngine()
    await _run(skipping_env, fake, spec(segment_target_s=0.5, presets=["9:16", "1:1"]), parallel=3)
    assert len(fake.segments) > 6
    assert fake.max_in_flight <= 3


async def test_invalid_spec_fails_at_once_naming_the_field_and_dispatches_nothing(
    skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeEngine()
    with pytest.raises(WorkflowFailureError) as err:
        await _run(skipping_env, fake, spec(scenes=[scene(0)]))
    cause = err.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.non_retryable) == (INVALID_REQUEST, True)
    assert "spec.scenes.0.duration_s" in cause.message
    assert fake.segments == []


async def test_a_colour_missing_from_the_brand_kit_fails_naming_the_field(
    skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeEngine()
    with pytest.raises(WorkflowFailureError) as err:
        await _run(
            skipping_env,
            fake,
            spec(scenes=[scene(1, background={"type": "solid", "color": "chartreuse"})]),
        )
    assert isinstance(err.value.cause, ApplicationError)
    assert "spec.scenes.0.background.color" in err.value.cause.message
    assert fake.segments == []


async def test_an_unknown_brand_kit_fails_without_retrying(
    skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeEngine()
    with pytest.raises(WorkflowFailureError) as err:
        await _run(skipping_env, fake, spec(brand_kit="nope"))
    assert isinstance(err.value.cause, ActivityError)
    assert "brand_kit: 'nope' not found" in str(err.value.cause.cause)


async def test_transient_failures_are_retried_by_temporal(
    skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeEngine(fail_segments=2)
    result = await _run(skipping_env, fake, spec())
    assert result.outputs[0].media.frames == 105


async def test_unsafe_media_is_not_retried_and_stops_the_render(
    skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeEngine(
        fail_segments=99,
        error=ApplicationError(
            "scenes.1.background.uri: GIF images are not allowed",
            type=UNSAFE_MEDIA,
            non_retryable=True,
        ),
    )
    with pytest.raises(WorkflowFailureError) as err:
        await _run(skipping_env, fake, spec(segment_target_s=10))
    assert isinstance(err.value.cause, ActivityError)
    assert isinstance(err.value.cause.cause, ApplicationError)
    assert err.value.cause.cause.type == UNSAFE_MEDIA
    assert fake.finals == []
