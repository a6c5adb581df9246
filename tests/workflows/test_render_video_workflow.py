"""RenderVideoWorkflow against the time-skipping server, with in-memory fakes of the
functions (the dispatch activities) and of the brand kit store."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from orchestrator.workflows.render_video import RenderVideoWorkflow
from smm_runtime.basetypes import ComputeUsage, MediaInfo, S3Object
from smm_runtime.contracts import (
    AudioRequest,
    AudioResult,
    FinalizeRequest,
    FinalizeResult,
    SegmentRequest,
    SegmentResult,
)
from smm_runtime.errors import INVALID_REQUEST, UNSAFE_MEDIA
from smm_runtime.video_spec import BrandKit
from smm_runtime.workflow_io import BrandKitRef, DispatchPolicy, RenderVideoInput
from tests.factories import brand_kit, scene, spec

FAST = DispatchPolicy(initial_interval_s=1, max_attempts=3)
USAGE = ComputeUsage(duration_ms=10, memory_mb=3008, gb_seconds=0.03)


class FakeEngine:
    def __init__(self, fail_segments: int = 0, error: ApplicationError | None = None) -> None:
        self.segments: list[SegmentRequest] = []
        self.audio: list[AudioRequest] = []
        self.finals: list[FinalizeRequest] = []
        self.fail_segments = fail_segments
        self.error = error or ApplicationError("throttled", type="DispatchError")
        self.in_flight = 0
        self.max_in_flight = 0

    @activity.defn(name="load_brand_kit")
    async def load_brand_kit(self, ref: BrandKitRef) -> BrandKit:
        if ref.id != "acme":
            raise ApplicationError(f"brand_kit: {ref.id!r} not found", type=INVALID_REQUEST,
                                   non_retryable=True)
        return brand_kit()

    @activity.defn(name="pool_caps")
    async def pool_caps(self) -> dict[str, int]:
        return {}  # no cluster-wide cap in these tests

    @activity.defn(name="dispatch_segment")
    async def dispatch_segment(self, request: SegmentRequest) -> SegmentResult:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.02)
            if self.fail_segments:
                self.fail_segments -= 1
                raise self.error
            self.segments.append(request)
            return SegmentResult(
                segment=S3Object(bucket=request.bucket,
                                 key=f"intermediates/{request.preset}-{request.start_frame}"),
                start_frame=request.start_frame, frames=request.end_frame - request.start_frame,
                reused=request.start_frame == 0, usage=USAGE)
        finally:
            self.in_flight -= 1

    @activity.defn(name="dispatch_audio")
    async def dispatch_audio(self, request: AudioRequest) -> AudioResult:
        self.audio.append(request)
        return AudioResult(audio=S3Object(bucket=request.bucket, key="intermediates/a.m4a"),
                           duration_s=request.total_frames / 30, reused=False, usage=USAGE)

    @activity.defn(name="dispatch_finalize")
    async def dispatch_finalize(self, request: FinalizeRequest) -> FinalizeResult:
        self.finals.append(request)
        return FinalizeResult(
            output=request.output, poster=request.poster, reused=False, usage=USAGE,
            media=MediaInfo(duration_s=request.total_frames / 30, width=1080, height=1920,
                            fps=30, video_codec="h264", audio_codec="aac", format_name="mp4",
                            size_bytes=1, frames=request.total_frames))

    def activities(self) -> list[Any]:
        return [self.load_brand_kit, self.pool_caps, self.dispatch_segment, self.dispatch_audio,
                self.dispatch_finalize]


async def _run(env: WorkflowEnvironment, fake: FakeEngine, video: dict[str, Any],
               workflow_id: str | None = None, parallel: int = 8) -> Any:
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=[RenderVideoWorkflow],
                      activities=fake.activities()):
        handle = await env.client.start_workflow(
            RenderVideoWorkflow.run,
            RenderVideoInput(spec=video, output_bucket="out-bucket", dispatch=FAST,
                             max_parallel_segments=parallel),
            id=workflow_id or f"wf-{uuid.uuid4().hex[:8]}", task_queue=queue)
        return await handle.result()


async def test_each_preset_is_planned_rendered_and_joined_from_its_own_segments(
        skipping_env: WorkflowEnvironment) -> None:
    fake = FakeEngine()
    video = spec(presets=["9:16", "16:9"], segment_target_s=1)
    result = await _run(skipping_env, fake, video, workflow_id="render-abc")
    assert result.total_frames == 105
    assert [o.preset for o in result.outputs] == ["9:16", "16:9"]
    assert result.by_preset("16:9").uri == "s3://out-bucket/renders/render-abc/landscape.mp4"
    by_preset = {f.preset: f for f in fake.finals}
    for preset in ("9:16", "16:9"):
        windows = sorted((s.start_frame, s.end_frame) for s in fake.segments
                         if s.preset == preset)
        assert len(windows) == 4
        assert [f for a, b in windows for f in range(a, b)] == list(range(105))
        assert [k.key for k in by_preset[preset].segments] == [
            f"intermediates/{preset}-{a}" for a, _ in sorted(windows)]
    assert {(s.width, s.height) for s in fake.segments} == {(1080, 1920), (1920, 1080)}
    assert result.segments_total == 8
    assert (result.segments_rendered, result.segments_reused) == (6, 2)
    assert fake.audio == []  # no music and no voice: the join adds a silent track


async def test_the_soundtrack_is_mixed_once_for_all_presets(
        skipping_env: WorkflowEnvironment) -> None:
    fake = FakeEngine()
    video = spec(presets=["9:16", "1:1", "16:9"],
                 music={"uri": "s3://assets-bucket/m.mp3"},
                 voiceover={"uri": "s3://assets-bucket/v.mp3", "start_s": 1})
    await _run(skipping_env, fake, video)
    assert len(fake.audio) == 1
    assert fake.audio[0].total_frames == 105
    assert fake.audio[0].voiceover is not None and fake.audio[0].voiceover.start_frame == 30
    assert {f.audio.key for f in fake.finals if f.audio} == {"intermediates/a.m4a"}


async def test_segments_in_flight_are_bounded_per_workflow(
        skipping_env: WorkflowEnvironment) -> None:
    fake = FakeEngine()
    await _run(skipping_env, fake, spec(segment_target_s=0.5, presets=["9:16", "1:1"]),
               parallel=3)
    assert len(fake.segments) > 6
    assert fake.max_in_flight <= 3


async def test_invalid_spec_fails_at_once_naming_the_field_and_dispatches_nothing(
        skipping_env: WorkflowEnvironment) -> None:
    fake = FakeEngine()
    with pytest.raises(WorkflowFailureError) as err:
        await _run(skipping_env, fake, spec(scenes=[scene(0)]))
    cause = err.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.non_retryable) == (INVALID_REQUEST, True)
    assert "spec.scenes.0.duration_s" in cause.message
    assert fake.segments == []


async def test_a_colour_missing_from_the_brand_kit_fails_naming_the_field(
        skipping_env: WorkflowEnvironment) -> None:
    fake = FakeEngine()
    with pytest.raises(WorkflowFailureError) as err:
        await _run(skipping_env, fake, spec(scenes=[scene(1, background={
            "type": "solid", "color": "chartreuse"})]))
    assert isinstance(err.value.cause, ApplicationError)
    assert "spec.scenes.0.background.color" in err.value.cause.message
    assert fake.segments == []


async def test_an_unknown_brand_kit_fails_without_retrying(
        skipping_env: WorkflowEnvironment) -> None:
    fake = FakeEngine()
    with pytest.raises(WorkflowFailureError) as err:
        await _run(skipping_env, fake, spec(brand_kit="nope"))
    assert isinstance(err.value.cause, ActivityError)
    assert "brand_kit: 'nope' not found" in str(err.value.cause.cause)


async def test_transient_failures_are_retried_by_temporal(
        skipping_env: WorkflowEnvironment) -> None:
    fake = FakeEngine(fail_segments=2)
    result = await _run(skipping_env, fake, spec())
    assert result.outputs[0].media.frames == 105


async def test_unsafe_media_is_not_retried_and_stops_the_render(
        skipping_env: WorkflowEnvironment) -> None:
    fake = FakeEngine(fail_segments=99, error=ApplicationError(
        "scenes.1.background.uri: GIF images are not allowed", type=UNSAFE_MEDIA,
        non_retryable=True))
    with pytest.raises(WorkflowFailureError) as err:
        await _run(skipping_env, fake, spec(segment_target_s=10))
    assert isinstance(err.value.cause, ActivityError)
    assert isinstance(err.value.cause.cause, ApplicationError)
    assert err.value.cause.cause.type == UNSAFE_MEDIA
    assert fake.finals == []
