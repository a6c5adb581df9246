"""Histories that carry the patches of release 0.2.0 (CHANGELOG.md), so each new branch is
replayed as well as the old one: a billed publish (`account-channels`, `price-at-spec-fps`,
`reminder-floor`), a revision whose render fails (`revision-failure-back-to-review`), a
renewal delivered after its release (`semaphore-no-phantom-renewal`), and a semaphore whose
first activation's signals carry it past its history limit (`semaphore-continue-before-wait`,
recorded at the lowered limit of long_lived.SEMAPHORE_THRESHOLD)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from orchestrator.cap import semaphore
from orchestrator.cap.models import Holder, PermitRequest, RenewRequest, SemaphoreState
from orchestrator.cap.semaphore import SemaphoreWorkflow
from orchestrator.publish.workflow import PublishCreativeWorkflow
from orchestrator.worker import WORKFLOWS
from tests.fakes import approval, publish_input, revise_then_approve, until_stage
from tests.replay.long_lived import SEMAPHORE_THRESHOLD, lowered, runs_of
from tests.workflows.test_publish_endings import Endings, FailingRevision

Handles = dict[str, WorkflowHandle[Any, Any]]


async def _billed(env: WorkflowEnvironment, name: str, fakes: Endings, script: Any) -> Handles:
    queue = f"replay-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=WORKFLOWS, activities=fakes.all()):
        handle = await env.client.start_workflow(
            PublishCreativeWorkflow.run,
            publish_input(account="acme-agency"),
            id=f"publish-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        await script(handle)
        await handle.result()
    return {name: handle}


async def _approve(handle: WorkflowHandle[Any, Any]) -> None:
    await until_stage(handle, "awaiting_approval")
    await handle.signal("agent_approval", approval())


async def publish_billed_020(env: WorkflowEnvironment) -> Handles:
    return await _billed(env, "publish_billed_020", Endings(), _approve)


async def publish_revision_failed(env: WorkflowEnvironment) -> Handles:
    return await _billed(env, "publish_revision_failed", FailingRevision(), revise_then_approve)


async def semaphore_renewal_after_release(env: WorkflowEnvironment) -> Handles:
    queue = f"replay-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=WORKFLOWS):
        handle = await env.client.start_workflow(
            SemaphoreWorkflow.run,
            SemaphoreState(pool="p", capacity=1),
            id=f"semaphore-{queue}",
            task_queue=queue,
        )
        await handle.signal("acquire", PermitRequest(permit_id="x", workflow_id="gone"))
        await handle.signal("release", "x")
        await handle.signal("renew", RenewRequest(permit_id="x", workflow_id="gone", lease_s=60))
        for _ in range(100):
            state = await handle.query(SemaphoreWorkflow.snapshot)
            if state.granted_total and not state.holders:
                break
            await asyncio.sleep(0.05)
    return {"semaphore_renewal_after_release": handle}


async def semaphore_continue_before_wait(env: WorkflowEnvironment) -> Handles:
    """Signals that queue while no worker polls arrive in the first activation together and
    carry the history past the limit: the run continues as new before it waits."""
    queue = f"replay-{uuid.uuid4()}"
    now = await env.get_current_time()
    ghost = Holder(workflow_id="gone", acquired_at=now, lease_until=now + timedelta(days=1))
    with lowered(semaphore, *SEMAPHORE_THRESHOLD[1:]):
        handle = await env.client.start_workflow(
            SemaphoreWorkflow.run,
            SemaphoreState(pool="p", capacity=1, holders={"ghost": ghost}),
            id=f"semaphore-{queue}",
            task_queue=queue,
        )
        for i in range(SEMAPHORE_THRESHOLD[2] + 5):
            await handle.signal("acquire", PermitRequest(permit_id=f"w{i}", workflow_id="gone"))
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=WORKFLOWS,
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            first, second = await runs_of(env, handle, 2)
            continued = env.client.get_workflow_handle(handle.id, run_id=second)
            for _ in range(100):
                state = await continued.query(SemaphoreWorkflow.snapshot)
                if state.waiting == SEMAPHORE_THRESHOLD[2] + 5:
                    break
                await asyncio.sleep(0.05)
    return {
        "semaphore_continue_before_wait": env.client.get_workflow_handle(handle.id, run_id=first),
        "semaphore_continued_before_wait": continued,
    }


RELEASE_020 = [
    publish_billed_020,
    publish_revision_failed,
    semaphore_renewal_after_release,
    semaphore_continue_before_wait,
]
