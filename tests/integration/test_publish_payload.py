"""Payload hears every stage of a publish, in order, whatever happens to the worker or to
Payload itself (killed worker, Payload down, Payload hanging past the activity timeout)."""

from __future__ import annotations

import asyncio
import signal
import uuid

import pytest
from temporalio.client import Client

from orchestrator.publish.workflow import PublishCreativeWorkflow
from smm_local.stack import LocalStack
from tests.integration.publish_helpers import (
    EXPECTED,
    collapse,
    new_doc,
    params,
    stage,
    stages_for,
)

pytestmark = pytest.mark.integration


async def test_payload_hears_every_stage_in_order_across_a_worker_kill(
    client: Client, stack: LocalStack, assets: dict[str, str]
) -> None:
    queue = f"tq-{uuid.uuid4()}"
    env = {"SMM_TASK_QUEUE": queue}
    worker = stack.start_worker(env, name="worker-payload")
    doc = new_doc(stack)
    handle = await client.start_workflow(
        PublishCreativeWorkflow.run, params(stack, assets, doc), id=f"pub-{doc}", task_queue=queue
    )
    await stage(handle, "awaiting_approval")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    await handle.signal("agent_approval", {"decision": "approve", "reviewer": "ana@example.com"})
    stack.start_worker(env, name="worker-payload-again")
    await asyncio.wait_for(handle.result(), 120)
    assert collapse(stages_for(stack, doc)) == collapse(EXPECTED)


async def test_payload_being_down_delays_nothing_else(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    assert stack.payload is not None
    doc = new_doc(stack)
    stack.payload.stop()
    try:
        handle = await client.start_workflow(
            PublishCreativeWorkflow.run,
            params(stack, assets, doc),
            id=f"pub-{doc}",
            task_queue=task_queue,
        )
        await stage(handle, "awaiting_approval")
        await handle.signal(
            "agent_approval", {"decision": "approve", "reviewer": "ana@example.com"}
        )
        published = await stage(handle, "published")
        assert published.postiz_post_ids  # posted while Payload was unreachable
    finally:
        stack.payload.start()
    status = await asyncio.wait_for(handle.result(), 120)
    assert status.stage == "published"
    assert stages_for(stack, doc) == EXPECTED  # caught up, in order


async def test_payload_slower_than_the_activity_timeout_delays_nothing_and_ends_in_order(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    """Payload hangs (connections open, no answer) beyond the write-back's timeout: the
    reports are retried, rendering and publishing go on, and once Payload answers again the
    document holds every stage in order and ends published (a late retry never wins)."""
    assert stack.payload is not None
    doc = new_doc(stack)
    stack.payload.pause()
    try:
        handle = await client.start_workflow(
            PublishCreativeWorkflow.run,
            params(stack, assets, doc),
            id=f"pub-{doc}",
            task_queue=task_queue,
        )
        await stage(handle, "awaiting_approval")
        await handle.signal(
            "agent_approval", {"decision": "approve", "reviewer": "ana@example.com"}
        )
        published = await stage(handle, "published")
        assert published.postiz_post_ids
    finally:
        stack.payload.resume()
    status = await asyncio.wait_for(handle.result(), 180)
    assert status.stage == "published"
    assert collapse(stages_for(stack, doc)) == collapse(EXPECTED)
    final = stack.payload.doc("posts", doc)
    assert final is not None and final["engineStage"] == "published"
    assert sorted(final["enginePostizPostIds"]) == sorted(status.postiz_post_ids)
