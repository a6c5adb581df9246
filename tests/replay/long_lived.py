"""Histories of the two long-lived workflows at their riskiest points for a deploy: a
continue-as-new (both the run that ends with it and the run that goes on) and a signal that
arrives in a continued run's first activation, before ``run()`` starts.

A run continues as new past a history length, a module constant far above what a test can
reach; the scenarios lower it, and RECORDED_WITH says to what, so the replay test lowers it
the same way (the decision to continue is taken from the replayed history's length). Both
run those workflows unsandboxed: the sandbox imports its own copy of the module.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from orchestrator.cap import semaphore
from orchestrator.cap.models import Holder, PermitRequest, RenewRequest, SemaphoreState
from orchestrator.cap.semaphore import SemaphoreWorkflow
from orchestrator.publish import workflow as publish_workflow
from orchestrator.publish.workflow import PublishCreativeWorkflow
from orchestrator.worker import WORKFLOWS
from tests.fakes import PublishFakes, approval, publish_input, until_stage, waiting_carry

Handles = dict[str, WorkflowHandle[Any, Any]]

PUBLISH_THRESHOLD = ("orchestrator.publish.workflow", "CONTINUE_AS_NEW_AFTER", 60)
SEMAPHORE_THRESHOLD = ("orchestrator.cap.semaphore", "MAX_HISTORY", 40)
# History name -> the module constant it was recorded with.
RECORDED_WITH: dict[str, tuple[str, str, int]] = {
    "publish_continue_as_new": PUBLISH_THRESHOLD,
    "semaphore_continue_as_new": SEMAPHORE_THRESHOLD,
    "semaphore_continue_before_wait": SEMAPHORE_THRESHOLD,
    "semaphore_continued_before_wait": SEMAPHORE_THRESHOLD,
}


@contextlib.contextmanager
def lowered(module: Any, name: str, value: int) -> Iterator[None]:
    before = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, before)


async def runs_of(
    env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any], count: int
) -> list[str]:
    """The run ids of the execution's first ``count`` runs, once it has that many."""
    workflow_id = handle.id
    for _ in range(600):
        run_id = handle.first_execution_run_id
        ids: list[str] = []
        while run_id and len(ids) < count:
            ids.append(run_id)
            last = [
                e
                async for e in env.client.get_workflow_handle(
                    workflow_id, run_id=run_id
                ).fetch_history_events()
            ][-1]
            run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
        if len(ids) == count:
            return ids
        await asyncio.sleep(0.1)
    raise AssertionError(f"{workflow_id} never reached {count} runs")


async def publish_continue_as_new(env: WorkflowEnvironment) -> Handles:
    """A wait for approval with a reminder a second continues as new; the next run is
    approved and publishes."""
    queue = f"replay-{uuid.uuid4()}"
    fakes = PublishFakes()
    with (
        lowered(publish_workflow, *PUBLISH_THRESHOLD[1:]),
        lowered(publish_workflow, "MIN_REMINDER_S", 1),
    ):
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=WORKFLOWS,
            activities=fakes.all(),
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            handle = await env.client.start_workflow(
                PublishCreativeWorkflow.run,
                publish_input(approval={"reviewers": ["ana@example.com"], "reminder_every_s": 1}),
                id=f"publish-{uuid.uuid4().hex[:8]}",
                task_queue=queue,
            )
            first, second = await runs_of(env, handle, 2)
            await until_stage(handle, "awaiting_approval")
            await handle.signal("agent_approval", approval(comment="after the carry"))
            await handle.result()
    return {
        "publish_continue_as_new": env.client.get_workflow_handle(handle.id, run_id=first),
        "publish_continued_run": env.client.get_workflow_handle(handle.id, run_id=second),
    }


async def publish_signal_in_first_activation(env: WorkflowEnvironment) -> Handles:
    """A continued run whose first activation holds an approval (signal-with-start)."""
    queue = f"replay-{uuid.uuid4()}"
    fakes = PublishFakes()
    async with Worker(env.client, task_queue=queue, workflows=WORKFLOWS, activities=fakes.all()):
        handle = await env.client.start_workflow(
            PublishCreativeWorkflow.run,
            args=[publish_input(), waiting_carry(timedelta(days=3650))],
            id=f"publish-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            start_signal="agent_approval",
            start_signal_args=[approval(comment="while you restarted")],
        )
        await handle.result()
    return {"publish_signal_in_first_activation": handle}


async def semaphore_continue_as_new(env: WorkflowEnvironment) -> Handles:
    """Holders come, renew and go until the semaphore continues as new; the next run grants
    from the carried queue."""
    queue = f"replay-{uuid.uuid4()}"
    sem_id = f"semaphore-{queue}"
    with lowered(semaphore, *SEMAPHORE_THRESHOLD[1:]):
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=WORKFLOWS,
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            handle = await env.client.start_workflow(
                SemaphoreWorkflow.run,
                SemaphoreState(pool="p", capacity=1),
                id=sem_id,
                task_queue=queue,
            )
            for i in range(12):
                # Holders whose workflows do not exist: each grant's signal fails, which
                # frees the slot (the path a terminated holder takes).
                await handle.signal(
                    "acquire", PermitRequest(permit_id=f"p{i}", workflow_id="gone", lease_s=60)
                )
                await handle.signal(
                    "renew", RenewRequest(permit_id=f"p{i}", workflow_id="gone", lease_s=60)
                )
                await handle.signal("release", f"p{i}")
            first, second = await runs_of(env, handle, 2)
            await handle.signal("configure", 2)
            await asyncio.sleep(0.5)
    return {
        "semaphore_continue_as_new": env.client.get_workflow_handle(sem_id, run_id=first),
        "semaphore_continued_run": env.client.get_workflow_handle(sem_id, run_id=second),
    }


async def semaphore_signal_in_first_activation(env: WorkflowEnvironment) -> Handles:
    """A continued semaphore whose first activation releases a carried holder."""
    queue = f"replay-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=WORKFLOWS):
        now = await env.get_current_time()
        held = Holder(
            workflow_id="gone",
            acquired_at=now,
            lease_until=now + timedelta(hours=1),
        )
        handle = await env.client.start_workflow(
            SemaphoreWorkflow.run,
            SemaphoreState(pool="p", capacity=1, holders={"a": held}),
            id=f"semaphore-{queue}",
            task_queue=queue,
            start_signal="release",
            start_signal_args=["a"],
        )
        for _ in range(100):
            state = await handle.query(SemaphoreWorkflow.snapshot)
            if not state.holders:
                break
            await asyncio.sleep(0.05)
    return {"semaphore_signal_in_first_activation": handle}


LONG_LIVED = [
    publish_continue_as_new,
    publish_signal_in_first_activation,
    semaphore_continue_as_new,
    semaphore_signal_in_first_activation,
]
