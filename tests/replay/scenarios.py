"""Every workflow path, driven on the time-skipping server with fakes at the activity
boundary, so its history can be recorded (record.py) and replayed (test_replay.py).

A scenario returns the handles whose histories it wants kept, by name. Names are the files
under histories/; test_replay.py checks that each required path has one.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import activity
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from orchestrator.billing.grants import GrantCreditsWorkflow, GrantInput
from orchestrator.billing.pricing import LedgerOp, PriceModel
from orchestrator.cap.activities import PermitActivities
from orchestrator.publish.workflow import PublishCreativeWorkflow
from orchestrator.render.image import GenerateImageWorkflow
from orchestrator.render.video import RenderVideoWorkflow
from orchestrator.worker import WORKFLOWS
from smm_runtime.contract.errors import UNSAFE_MEDIA
from smm_runtime.contract.kinds import SegmentRequest, SegmentResult
from smm_runtime.contract.soundtrack import PIECE_S
from smm_runtime.contract.workflow_io import GenerateImageInput, RenderVideoInput
from tests.factories import scene, spec
from tests.fakes import (
    FAST,
    FakeEngine,
    PublishFakes,
    approval,
    publish_input,
    revise_then_approve,
    until_stage,
)
from tests.replay.long_lived import LONG_LIVED
from tests.replay.release_020 import RELEASE_020

Handles = dict[str, WorkflowHandle[Any, Any]]
Scenario = Callable[[WorkflowEnvironment], Awaitable[Handles]]


class FakeLedger:
    """An always-solvent ledger: the billing saga's activities, in memory."""

    def __init__(self) -> None:
        self.ops: list[LedgerOp] = []

    @activity.defn(name="price_model")
    async def price_model(self) -> PriceModel:
        return PriceModel()

    @activity.defn(name="ledger")
    async def ledger(self, op: LedgerOp) -> dict[str, Any]:
        self.ops.append(op)
        return {"op": op.op, "amount": op.amount, "key": op.key}


class StuckEngine(FakeEngine):
    """Segments that run until cancelled, heartbeating so the cancel reaches them."""

    @activity.defn(name="dispatch_segment")
    async def dispatch_segment(self, request: SegmentRequest) -> SegmentResult:
        while True:
            activity.heartbeat()
            await asyncio.sleep(0.05)


class ResumingEngine(FakeEngine):
    """The first attempt of each segment dies after a checkpoint; the retry resumes from it."""

    @activity.defn(name="dispatch_segment")
    async def dispatch_segment(self, request: SegmentRequest) -> SegmentResult:
        if activity.info().attempt == 1:
            activity.heartbeat({"frames_done": 10})
            raise ApplicationError("function timed out", type="DispatchError")
        assert activity.info().heartbeat_details, "the retry did not get the checkpoint"
        return await super().dispatch_segment(request)


def _worker(env: WorkflowEnvironment, queue: str, activities: list[Any]) -> Worker:
    return Worker(env.client, task_queue=queue, workflows=WORKFLOWS, activities=activities)


async def _render(
    env: WorkflowEnvironment,
    engine: FakeEngine,
    *,
    account: str | None = None,
    caps: dict[str, int] | None = None,
    cancel: bool = False,
    video: dict[str, Any] | None = None,
    audio_piece_s: float = PIECE_S,
) -> Handles:
    queue = f"replay-{uuid.uuid4()}"
    ledger = FakeLedger()
    activities = [*engine.activities(), ledger.price_model, ledger.ledger]
    if caps is not None:
        permits = PermitActivities(env.client, caps)
        activities = [a for a in activities if a != engine.pool_caps]
        activities += [permits.pool_caps, permits.request_permit]
    async with _worker(env, queue, activities):
        handle = await env.client.start_workflow(
            RenderVideoWorkflow.run,
            RenderVideoInput(
                spec=video or spec(),
                output_bucket="out-bucket",
                dispatch=FAST,
                account=account,
                audio_piece_s=audio_piece_s,
            ),
            id=f"render-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        if cancel:
            await asyncio.sleep(1.0)
            await handle.cancel()
        # The failure and cancel paths end with an error; their history is the point.
        with contextlib.suppress(WorkflowFailureError):
            await handle.result()
        handles: Handles = {"render": handle}
        if caps is not None:
            handles["semaphore"] = env.client.get_workflow_handle(
                f"semaphore-{queue}-video-segments"
            )
        return handles


async def render_success(env: WorkflowEnvironment) -> Handles:
    return {"render_success": (await _render(env, FakeEngine()))["render"]}


async def render_billed_with_cap(env: WorkflowEnvironment) -> Handles:
    handles = await _render(env, FakeEngine(), account="acme-agency", caps={"video-segments": 1})
    return {
        "render_billed_with_cap": handles["render"],
        "semaphore_video_segments": handles["semaphore"],
    }


async def render_failure(env: WorkflowEnvironment) -> Handles:
    unsafe = ApplicationError(
        "logo: not an allowed image format", type=UNSAFE_MEDIA, non_retryable=True
    )
    engine = FakeEngine(fail_segments=1, error=unsafe)
    return {"render_failure": (await _render(env, engine, account="acme-agency"))["render"]}


async def render_cancel(env: WorkflowEnvironment) -> Handles:
    engine = StuckEngine()
    return {
        "render_cancel": (await _render(env, engine, account="acme-agency", cancel=True))["render"]
    }


async def render_checkpoint_resume(env: WorkflowEnvironment) -> Handles:
    return {"render_checkpoint_resume": (await _render(env, ResumingEngine()))["render"]}


# Music and a voice-over over 70 s: one mix before the soundtrack-pieces patch (the history
# render_soundtrack_whole, recorded with the code of bf1f225), two pieces of about 30 s after.
WITH_SOUNDTRACK = spec(
    scenes=[scene(35, texts=[{"text": "Hello"}]), scene(35)],
    music={"uri": "s3://assets-bucket/m.mp3"},
    voiceover={"uri": "s3://assets-bucket/v.mp3", "start_s": 1},
    segment_target_s=35,
)


async def render_soundtrack_pieces(env: WorkflowEnvironment) -> Handles:
    handles = await _render(env, FakeEngine(), video=WITH_SOUNDTRACK)
    return {"render_soundtrack_pieces": handles["render"]}


async def image_carousel(env: WorkflowEnvironment) -> Handles:
    fakes, ledger = PublishFakes(), FakeLedger()
    queue = f"replay-{uuid.uuid4()}"
    image = {
        "brand_kit": "acme",
        "carousel": [{"title": "One", "body": "First"}, {"title": "Two", "body": "Second"}],
    }
    async with _worker(env, queue, [*fakes.all(), ledger.price_model, ledger.ledger]):
        handle = await env.client.start_workflow(
            GenerateImageWorkflow.run,
            GenerateImageInput(spec=image, output_bucket="out-bucket", account="acme-agency"),
            id=f"image-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        await handle.result()
    return {"image_carousel": handle}


def _publish(
    name: str,
    script: Callable[[WorkflowHandle[Any, Any]], Awaitable[None]],
    postiz_states: list[dict[str, str]] | None = None,
    **overrides: Any,
) -> Scenario:
    async def scenario(env: WorkflowEnvironment) -> Handles:
        fakes, ledger = PublishFakes(), FakeLedger()
        fakes.postiz_states = list(postiz_states or [])
        queue = f"replay-{uuid.uuid4()}"
        async with _worker(env, queue, [*fakes.all(), ledger.price_model, ledger.ledger]):
            handle = await env.client.start_workflow(
                PublishCreativeWorkflow.run,
                publish_input(**overrides),
                id=f"publish-{uuid.uuid4().hex[:8]}",
                task_queue=queue,
            )
            await script(handle)
            await handle.result()
        return {name: handle}

    scenario.__name__ = name
    return scenario


async def _approve(handle: WorkflowHandle[Any, Any]) -> None:
    await until_stage(handle, "awaiting_approval")
    await handle.signal("agent_approval", approval(comment="lgtm"))


async def _approve_by_update(handle: WorkflowHandle[Any, Any]) -> None:
    await until_stage(handle, "awaiting_approval")
    await handle.execute_update("approve", approval())


async def _approve_then_retry(handle: WorkflowHandle[Any, Any]) -> None:
    await _approve(handle)
    await until_stage(handle, "publish_failed")
    await handle.execute_update("retry_publish")


async def _reject(handle: WorkflowHandle[Any, Any]) -> None:
    await until_stage(handle, "awaiting_approval")
    await handle.signal("agent_approval", {"decision": "maybe", "reviewer": "ana@example.com"})
    await handle.signal("agent_approval", approval("reject", comment="off brand"))


async def _wait(handle: WorkflowHandle[Any, Any]) -> None:
    await until_stage(handle, "awaiting_approval")


async def grant_credits(env: WorkflowEnvironment) -> Handles:
    ledger = FakeLedger()
    queue = f"replay-{uuid.uuid4()}"
    async with _worker(env, queue, [ledger.ledger]):
        handle = await env.client.start_workflow(
            GrantCreditsWorkflow.run,
            GrantInput(account="acme-agency", amount=500),
            id=f"grant-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        await handle.result()
    return {"grant_credits": handle}


SCENARIOS: list[Scenario] = [
    render_success,
    render_billed_with_cap,
    render_failure,
    render_cancel,
    render_checkpoint_resume,
    render_soundtrack_pieces,
    image_carousel,
    grant_credits,
    _publish("publish_approve", _approve),
    _publish("publish_approve_by_update", _approve_by_update),
    _publish("publish_reject", _reject),
    _publish("publish_revise", revise_then_approve),
    _publish("publish_expiry", _wait),
    # Recorded after the review-links patch: the histories above predate it, and both
    # kinds must replay.
    _publish("publish_approve_with_review_links", _approve),
    # Recorded after the follow-until-live patch: Postiz queues, then publishes one channel
    # and fails the other; and a publish whose posts all go live after a wait.
    _publish("publish_follow_until_live", _approve, [{"x-1": "QUEUE", "li-2": "QUEUE"}, {}]),
    _publish(
        "publish_follow_failed",
        _approve,
        [{"x-1": "QUEUE"}, {"li-2": "ERROR"}],
        distribution={"retry_window_s": 60},
    ),
    _publish("publish_follow_retry", _approve_then_retry, [{"li-2": "ERROR"}, {}]),
    *LONG_LIVED,
    *RELEASE_020,
]
