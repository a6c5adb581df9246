"""Every way a publish can end reaches Payload as a stage: published, rejected and expired
(tests/workflows/test_publish_creative.py), and failed, cancelled and insufficient credits
here, each with the holds released and nothing posted."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from orchestrator.billing.pricing import LedgerOp, PriceModel
from smm_runtime.contract.errors import INSUFFICIENT_CREDITS, INVALID_REQUEST
from smm_runtime.contract.kinds import ImageRequest, ImageResult
from smm_runtime.contract.publish_io import CreatePostRequest, CreatePostResult, PublishStatus
from tests.fakes import PublishFakes, approval, publish_input, run_with_worker, until_stage


class Endings(PublishFakes):
    """The publish fakes plus a ledger, and a Postiz that can refuse for good."""

    def __init__(self, *, refuse_post: bool = False, short_on_round: int | None = None) -> None:
        super().__init__()
        self.refuse_post = refuse_post
        self.short_on_round = short_on_round
        self.ledger_ops: list[LedgerOp] = []

    @activity.defn(name="create_postiz_post")
    async def create_post(self, request: CreatePostRequest) -> CreatePostResult:
        if self.refuse_post:
            self.posts.append(request)
            raise ApplicationError(
                "POST /public/v1/posts: 400 Integration with id x-1 not found",
                type=INVALID_REQUEST,
                non_retryable=True,
            )
        return await super().create_post(request)

    @activity.defn(name="price_model")
    async def price_model(self) -> PriceModel:
        return PriceModel()

    @activity.defn(name="ledger")
    async def ledger(self, op: LedgerOp) -> dict[str, Any]:
        self.ledger_ops.append(op)
        if (
            op.op == "reserve"
            and self.short_on_round is not None
            and op.key.endswith(f"/render-{self.short_on_round}:reserve")
        ):
            raise ApplicationError(
                f"account: {op.account} has 1 credit, this needs {op.amount}",
                type=INSUFFICIENT_CREDITS,
                non_retryable=True,
            )
        return {"op": op.op, "key": op.key, "amount": op.amount}

    def all(self) -> list[Any]:
        return [*super().all(), self.price_model, self.ledger]


def stages(fakes: PublishFakes) -> list[str]:
    return [u.data["engineStage"] for u in fakes.payload]


async def test_postiz_refusing_the_post_ends_as_failed_with_the_error(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Endings(refuse_post=True)

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        await until_stage(handle, "awaiting_approval")
        await handle.signal("agent_approval", approval())

    with pytest.raises(WorkflowFailureError):
        await run_with_worker(skipping_env, fakes, publish_input(), script)
    assert stages(fakes)[-2:] == ["publishing", "failed"]
    assert "Integration with id x-1 not found" in fakes.payload[-1].data["engineError"]


async def test_a_cancelled_publish_ends_as_cancelled_and_releases_its_hold(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Endings()

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        await until_stage(handle, "awaiting_approval")
        await handle.cancel()

    with pytest.raises(WorkflowFailureError):
        await run_with_worker(skipping_env, fakes, publish_input(account="acme"), script)
    assert stages(fakes)[-1] == "cancelled"
    assert [op.op for op in fakes.ledger_ops] == ["reserve", "release"]
    assert fakes.posts == []


async def test_credits_running_out_on_a_revision_ends_as_insufficient_credits(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Endings(short_on_round=2)

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        await until_stage(handle, "awaiting_approval")
        await handle.signal(
            "agent_approval", approval("revise", changes={"props": {"quote": "Ship it today"}})
        )

    with pytest.raises(WorkflowFailureError):
        await run_with_worker(skipping_env, fakes, publish_input(account="acme"), script)
    assert stages(fakes)[-1] == "insufficient_credits"
    assert "has 1 credit" in fakes.payload[-1].data["engineError"]
    # Round 1's hold is released (nothing was approved), round 2 never held anything.
    assert [op.op for op in fakes.ledger_ops] == ["reserve", "reserve", "release"]
    assert fakes.posts == []


async def test_a_revision_by_text_edits_renders_the_new_text_and_refuses_unknown_paths(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Endings()
    refusals: list[str] = []

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        waiting = await until_stage(handle, "awaiting_approval")
        assert waiting.editable == {"props.quote": "Ship it", "props.author": "Ops"}
        try:  # a prop quote_card does not take: refused at once, nothing spent
            await handle.execute_update(
                "approve", approval("revise", edits={"props.headline": "New"})
            )
        except WorkflowUpdateFailedError as err:
            refusals.append(str(err.cause))
        await handle.execute_update(
            "approve", approval("revise", edits={"props.quote": "Ship it today"})
        )
        for _ in range(200):
            status = await handle.query("status", result_type=PublishStatus)
            if status.round == 2 and status.stage == "awaiting_approval":
                break
        assert status.editable["props.quote"] == "Ship it today"
        await handle.signal("agent_approval", approval())

    status = await run_with_worker(skipping_env, fakes, publish_input(), script)
    assert status.stage == "published" and status.round == 2
    assert refusals and "edits.props.headline: this creative has no such text" in refusals[0]
    assert [r.props["quote"] for r in fakes.images] == ["Ship it", "Ship it today"]


@pytest.mark.parametrize(
    ("allowed", "field"), [(["x-1"], "post.integrations[1]"), (None, "post.integrations")]
)
async def test_a_channel_the_account_may_not_post_to_fails_before_anything_is_held(
    skipping_env: WorkflowEnvironment, allowed: list[str] | None, field: str
) -> None:
    """Checked in the workflow as at the trigger (a publish started by the CLI or a direct
    client never passed the trigger): before the render, the hold and the review links."""
    fakes = Endings()
    fakes.allowed = allowed

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        pass

    with pytest.raises(WorkflowFailureError) as failed:
        await run_with_worker(skipping_env, fakes, publish_input(account="acme"), script)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == INVALID_REQUEST
    assert cause.message.startswith(f"{field}:"), cause
    assert fakes.channel_reads == ["acme"]
    assert (fakes.ledger_ops, fakes.images, fakes.announcements, fakes.posts) == ([], [], [], [])
    assert stages(fakes)[-1] == "failed"


class SlowRender(Endings):
    """An image render that runs until it is cancelled."""

    @activity.defn(name="dispatch_image")
    async def dispatch_image(self, request: ImageRequest) -> ImageResult:
        self.images.append(request)
        while True:
            activity.heartbeat()
            await asyncio.sleep(0.2)


async def test_a_publish_cancelled_while_it_renders_ends_as_cancelled(
    dev_env: WorkflowEnvironment,
) -> None:
    """The child render's cancellation reached the publish as a ChildWorkflowError, which
    was reported as failed."""
    fakes = SlowRender()

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        for _ in range(200):
            if fakes.images:
                break
            await asyncio.sleep(0.05)
        await handle.cancel()

    with pytest.raises(WorkflowFailureError):
        await run_with_worker(dev_env, fakes, publish_input(account="acme"), script)
    assert stages(fakes)[-1] == "cancelled"
    assert [op.op for op in fakes.ledger_ops] == ["reserve", "release"]


class FailingRevision(Endings):
    """The second render (the revision's) fails for good."""

    @activity.defn(name="dispatch_image")
    async def dispatch_image(self, request: ImageRequest) -> ImageResult:
        if self.images:
            self.images.append(request)
            raise ApplicationError(
                "props.quote: the font has no glyph for it", type=INVALID_REQUEST,
                non_retryable=True,
            )  # fmt: skip
        return await super().dispatch_image(request)


async def test_a_revision_whose_render_fails_returns_to_review_with_the_last_render(
    skipping_env: WorkflowEnvironment,
) -> None:
    """A failed revision used to end the whole publish (and its approval) as failed; the
    reviewer now gets the last good render back, told why the revision failed."""
    fakes = FailingRevision()
    seen: list[PublishStatus] = []

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        first = await until_stage(handle, "awaiting_approval")
        await handle.signal(
            "agent_approval", approval("revise", changes={"props": {"quote": "Ship it today"}})
        )
        for _ in range(200):
            status = await handle.query("status", result_type=PublishStatus)
            if status.round == 2 and status.stage == "awaiting_approval":
                break
            await asyncio.sleep(0.05)
        seen.extend([first, status])
        await handle.signal("agent_approval", approval())

    final = await run_with_worker(skipping_env, fakes, publish_input(account="acme"), script)
    first, back = seen
    assert back.stage == "awaiting_approval" and back.outputs == first.outputs
    assert back.error is not None and "revision" in back.error and "glyph" in back.error
    assert final.stage == "published" and len(fakes.posts) == 1
    # Round 2's hold is released at once; round 1's render is what was approved and charged.
    assert [op.op for op in fakes.ledger_ops] == ["reserve", "reserve", "release", "capture"]
    assert stages(fakes)[-1] == "published"
