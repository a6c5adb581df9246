"""Credits around real renders: reserve before dispatch, capture on success, release on
failure, cancellation, rejection and expiry; exactly one charge across a worker kill."""

from __future__ import annotations

import asyncio
import signal
import uuid
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError

from orchestrator.publish.workflow import PublishCreativeWorkflow
from orchestrator.render.video import RenderVideoWorkflow
from smm_local.postiz_double import CHANNEL_SETTINGS
from smm_local.stack import LocalStack
from smm_runtime.account_channels import AccountChannels
from smm_runtime.contract.publish_io import PublishInput
from smm_runtime.contract.workflow_io import RenderVideoInput
from smm_runtime.ledger import Ledger
from tests.integration.conftest import QUICK_RETRY, segment_invocations, video_spec

pytestmark = pytest.mark.integration


def ledger(stack: LocalStack) -> Ledger:
    return Ledger(stack.dynamodb(), stack.ledger_table)


def funded(stack: LocalStack, credits: int) -> str:
    account = f"acct-{uuid.uuid4().hex[:8]}"
    if credits:
        ledger(stack).grant(account, credits, f"test-grant:{account}")
    # Where its publishes go (an account posts only where the operator allowed it).
    AccountChannels(stack.dynamodb(), stack.ledger_table).allow(account, ["x-1"])
    return account


def consistent(stack: LocalStack, account: str) -> Any:
    b = ledger(stack).balance(account)
    assert b.granted == b.balance + b.captured + b.held and b.balance >= 0
    return b


async def render(
    client: Client, stack: LocalStack, queue: str, account: str, spec: dict[str, Any]
) -> Any:
    return await client.start_workflow(
        RenderVideoWorkflow.run,
        RenderVideoInput(
            spec=spec, output_bucket=stack.bucket, dispatch=QUICK_RETRY, account=account
        ),
        id=f"bill-{uuid.uuid4().hex[:10]}",
        task_queue=queue,
    )


async def test_a_successful_render_charges_what_it_measured_and_no_more_than_it_held(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    account = funded(stack, 100)
    result = await asyncio.wait_for(
        (await render(client, stack, task_queue, account, video_spec(assets))).result(), 180
    )
    cost = result.cost
    assert cost is not None and 1 <= cost.credits <= cost.estimate
    assert cost.gb_seconds == result.usage.gb_seconds
    b = consistent(stack, account)
    assert (b.balance, b.held, b.captured) == (100 - cost.credits, 0, cost.credits)


async def test_not_enough_credits_fails_at_once_and_dispatches_nothing(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    account = funded(stack, 1)
    before = segment_invocations(stack)
    handle = await render(client, stack, task_queue, account, video_spec(assets))
    with pytest.raises(WorkflowFailureError) as err:
        await asyncio.wait_for(handle.result(), 60)
    assert isinstance(err.value.cause, ActivityError)
    inner = err.value.cause.cause
    assert isinstance(inner, ApplicationError) and inner.type == "InsufficientCredits"
    assert inner.non_retryable and "has 1 credits; this needs" in inner.message
    assert segment_invocations(stack) == before
    assert consistent(stack, account).balance == 1


async def test_a_failed_render_releases_its_hold(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    account = funded(stack, 100)
    # The account's own prefix, but no such object: only the function can find that out.
    spec = video_spec(
        assets,
        scenes=[
            {
                "duration_s": 1,
                "background": {
                    "type": "image",
                    "uri": f"s3://{stack.bucket}/accounts/{account}/missing.jpg",
                },
            }
        ],
    )
    with pytest.raises(WorkflowFailureError):
        await asyncio.wait_for(
            (await render(client, stack, task_queue, account, spec)).result(), 60
        )
    b = consistent(stack, account)
    assert (b.balance, b.held, b.captured) == (100, 0, 0)
    assert [e["op"] for e in ledger(stack).history(account)] == ["release", "reserve", "grant"]


async def test_another_accounts_object_is_refused_before_anything_is_held_or_run(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    account, victim = funded(stack, 100), funded(stack, 100)
    s3 = stack.s3()
    s3.put_object(
        Bucket=stack.bucket,
        Key=f"accounts/{victim}/private.jpg",
        Body=s3.get_object(Bucket=stack.bucket, Key=assets["photo"].split("/", 3)[3])[
            "Body"
        ].read(),
    )
    before = segment_invocations(stack)
    spec = video_spec(
        assets,
        scenes=[
            {
                "duration_s": 1,
                "background": {
                    "type": "image",
                    "uri": f"s3://{stack.bucket}/accounts/{victim}/private.jpg",
                },
            }
        ],
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await asyncio.wait_for(
            (await render(client, stack, task_queue, account, spec)).result(), 60
        )
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidRequest"
    assert cause.message.startswith("spec.scenes.0.background.uri: ") and victim in cause.message
    assert segment_invocations(stack) == before  # no function ran
    assert [e["op"] for e in ledger(stack).history(account)] == ["grant"]  # nothing held


async def test_a_cancelled_render_releases_its_hold(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    account = funded(stack, 200)
    spec = video_spec(
        assets,
        segment_target_s=60,
        presets=["16:9"],
        scenes=[{"duration_s": 60, "background": {"type": "video", "uri": assets["clip"]}}],
    )
    handle = await render(client, stack, task_queue, account, spec)
    for _ in range(300):
        if consistent(stack, account).held:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    await handle.cancel()
    with pytest.raises(WorkflowFailureError):
        await asyncio.wait_for(handle.result(), 60)
    b = consistent(stack, account)
    assert (b.balance, b.held, b.captured) == (200, 0, 0)


def publish(
    stack: LocalStack, assets: dict[str, str], account: str, **approval: Any
) -> PublishInput:
    return PublishInput.model_validate(
        {
            "creative": {
                "kind": "image",
                "spec": {
                    "brand_kit": assets["brand_kit"],
                    "template": "quote_card",
                    "props": {"quote": "Billed on approval", "author": "Ledger"},
                },
            },
            "post": {
                "content": "Billed on approval",
                "integrations": ["x-1"],
                "type": "now",
                "channel_settings": CHANNEL_SETTINGS,
            },
            "approval": {"reviewers": ["ana@example.com"], **approval},
            "account": account,
            "output_bucket": stack.bucket,
            "distribution": {
                "create_timeout_s": 5,
                "retry_initial_s": 1,
                "retry_max_s": 2,
                "follow_every_s": 1,
            },
        }
    )


@pytest.mark.parametrize("ending", ["reject", "expiry", "approve"])
async def test_publishing_charges_on_approval_and_refunds_rejection_and_expiry(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str], ending: str
) -> None:
    account = funded(stack, 50)
    policy = {"expire_after_s": 3, "reminder_every_s": 1} if ending == "expiry" else {}
    handle = await client.start_workflow(
        PublishCreativeWorkflow.run,
        publish(stack, assets, account, **policy),
        id=f"bill-pub-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )
    if ending != "expiry":
        for _ in range(300):
            if (await handle.query(PublishCreativeWorkflow.status)).stage == "awaiting_approval":
                break
            await asyncio.sleep(0.1)
        assert consistent(stack, account).held > 0  # reserved while waiting
        await handle.signal("agent_approval", {"decision": ending, "reviewer": "ana@example.com"})
    status = await asyncio.wait_for(handle.result(), 120)
    b = consistent(stack, account)
    assert b.held == 0
    if ending == "approve":
        assert status.stage == "published" and status.credits_charged >= 1
        assert b.captured == status.credits_charged == 50 - b.balance
    else:
        assert status.stage == ("rejected" if ending == "reject" else "expired")
        assert (b.balance, b.captured, status.credits_charged) == (50, 0, 0)


async def test_a_worker_killed_between_capture_and_completion_charges_once(
    client: Client, stack: LocalStack, assets: dict[str, str]
) -> None:
    account = funded(stack, 100)
    queue = f"tq-{uuid.uuid4()}"
    env = {"SMM_TASK_QUEUE": queue}
    worker = stack.start_worker(env, name="worker-billing")
    handle = await render(client, stack, queue, account, video_spec(assets))
    book = ledger(stack)
    for _ in range(1200):
        if any(e["op"] == "capture" for e in book.history(account)):
            break
        await asyncio.sleep(0.05)
    worker.send_signal(signal.SIGKILL)  # the capture is written; the workflow has not finished
    worker.wait()
    stack.start_worker(env, name="worker-billing-again")
    result = await asyncio.wait_for(handle.result(), 120)
    captures = [e for e in book.history(account) if e["op"] == "capture"]
    assert len(captures) == 1
    b = consistent(stack, account)
    assert result.cost is not None and b.captured == result.cost.credits == captures[0]["amount"]
