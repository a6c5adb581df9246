"""RenderVideoWorkflow against the time-skipping server, with an in-memory dispatch fake."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from orchestrator.workflows.render_video import RenderVideoWorkflow
from smm_runtime.contracts import ComputeUsage, MediaInfo, RenderVideoRequest, RenderVideoResult
from smm_runtime.errors import INVALID_REQUEST, UNSAFE_MEDIA
from smm_runtime.workflow_io import DispatchPolicy, RenderProgress, RenderVideoInput

SPEC = {"duration_s": 4, "background": {"color": "#000000"}, "title": "Hi",
        "font": "s3://assets-bucket/f.ttf"}
FAST = DispatchPolicy(initial_interval_s=1, max_attempts=3)


class FakeDispatch:
    """Records each attempt; fails the first ``fail_first`` attempts with ``error``."""

    def __init__(self, fail_first: int = 0, error: ApplicationError | None = None) -> None:
        self.attempts: list[int] = []
        self.requests: list[RenderVideoRequest] = []
        self.fail_first = fail_first
        self.error = error or ApplicationError("lambda throttled", type="DispatchError")

    @activity.defn(name="dispatch_render_video")
    async def dispatch(self, request: RenderVideoRequest) -> RenderVideoResult:
        self.attempts.append(activity.info().attempt)
        self.requests.append(request)
        if len(self.attempts) <= self.fail_first:
            raise self.error
        return RenderVideoResult(
            output=request.output,
            media=MediaInfo(duration_s=4.0, width=1080, height=1920, fps=30, video_codec="h264",
                            audio_codec="aac", format_name="mp4", size_bytes=1000),
            usage=ComputeUsage(duration_ms=10, memory_mb=3008, gb_seconds=0.03),
            reused_existing=False,
        )


async def _run(env: WorkflowEnvironment, fake: FakeDispatch, spec: dict[str, Any],
               workflow_id: str) -> Any:
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=[RenderVideoWorkflow],
                      activities=[fake.dispatch]):
        handle = await env.client.start_workflow(
            RenderVideoWorkflow.run,
            RenderVideoInput(spec=spec, output_bucket="out-bucket", dispatch=FAST),
            id=workflow_id, task_queue=queue)
        try:
            return await handle.result()
        finally:
            progress = await handle.query(RenderVideoWorkflow.progress)
            fake.last_progress = progress  # type: ignore[attr-defined]


async def test_render_writes_to_a_key_derived_from_the_workflow_id(
        skipping_env: WorkflowEnvironment) -> None:
    fake = FakeDispatch()
    result = await _run(skipping_env, fake, SPEC, "render-abc")
    assert result.uri == "s3://out-bucket/renders/render-abc/video.mp4"
    assert fake.requests[0].output.key == "renders/render-abc/video.mp4"
    assert fake.last_progress == RenderProgress(stage="done", output_uri=result.uri)  # type: ignore[attr-defined]


async def test_invalid_spec_fails_at_once_naming_the_field_and_dispatches_nothing(
        skipping_env: WorkflowEnvironment) -> None:
    fake = FakeDispatch()
    with pytest.raises(WorkflowFailureError) as err:
        await _run(skipping_env, fake, {**SPEC, "duration_s": 0}, f"bad-{uuid.uuid4()}")
    cause = err.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == INVALID_REQUEST
    assert cause.non_retryable
    assert "spec.duration_s" in cause.message
    assert fake.attempts == []


async def test_transient_dispatch_failure_is_retried_by_temporal(
        skipping_env: WorkflowEnvironment) -> None:
    fake = FakeDispatch(fail_first=1)
    result = await _run(skipping_env, fake, SPEC, f"retry-{uuid.uuid4()}")
    assert fake.attempts == [1, 2]
    assert result.media.width == 1080


async def test_unsafe_media_is_not_retried(skipping_env: WorkflowEnvironment) -> None:
    fake = FakeDispatch(fail_first=5, error=ApplicationError(
        "logo: GIF images are not allowed", type=UNSAFE_MEDIA, non_retryable=True))
    with pytest.raises(WorkflowFailureError) as err:
        await _run(skipping_env, fake, SPEC, f"unsafe-{uuid.uuid4()}")
    assert isinstance(err.value.cause, ActivityError)
    assert isinstance(err.value.cause.cause, ApplicationError)
    assert err.value.cause.cause.type == UNSAFE_MEDIA
    assert fake.attempts == [1]
