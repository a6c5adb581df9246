"""A decision that reaches a continued publish run in its first activation.

A continued run's first workflow task carries its start and every signal that arrived while
no worker had picked it up (during a worker restart, minutes). Temporal applies the signal
jobs before ``run()`` begins, so the handlers must find the run's input already in place:
the workflow builds it in ``@workflow.init``. Signal-with-start puts the decision in that
first activation deterministically."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from orchestrator.publish.workflow import MAX_APPROVALS, PublishCreativeWorkflow
from smm_runtime.contract.publish_io import PublishStatus
from tests.fakes import PublishFakes, approval, publish_input, waiting_carry


@asynccontextmanager
async def continued_run(
    env: WorkflowEnvironment, fakes: PublishFakes, decision: dict[str, str] | None = None
) -> AsyncIterator[WorkflowHandle[Any, PublishStatus]]:
    """A continued run waiting for its first decision, served by a worker; ``decision``
    arrives in its first activation (signal-with-start)."""
    queue = f"tq-{uuid.uuid4()}"
    first_signal: dict[str, Any] = (
        {"start_signal": "agent_approval", "start_signal_args": [decision]} if decision else {}
    )
    async with Worker(
        env.client, task_queue=queue, workflows=[PublishCreativeWorkflow], activities=fakes.all()
    ):
        yield await env.client.start_workflow(
            PublishCreativeWorkflow.run,
            args=[publish_input(), waiting_carry(timedelta(hours=1))],
            id=f"pub-first-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            **first_signal,
        )


async def test_an_approval_in_a_continued_runs_first_activation_publishes(
    dev_env: WorkflowEnvironment,
) -> None:
    """It used to fail every workflow task (``assert self._params is not None`` in the
    handler), leaving the publish stuck for good with its credits held."""
    fakes = PublishFakes()
    async with continued_run(dev_env, fakes, approval(comment="while you restarted")) as handle:
        status = await asyncio.wait_for(handle.result(), timeout=60)
    assert status.stage == "published"
    assert [a.decision for a in status.approvals if a.accepted] == ["approve"]
    assert status.approvals[-1].comment == "while you restarted"
    assert len(fakes.posts) == 1 and fakes.uploads[0].source.key == "renders/pub/card.png"


async def test_a_malformed_decision_in_the_first_activation_is_recorded_not_fatal(
    dev_env: WorkflowEnvironment,
) -> None:
    fakes = PublishFakes()
    malformed = {"decision": "maybe", "reviewer": "ana@example.com"}
    async with continued_run(dev_env, fakes, malformed) as handle:
        for _ in range(100):
            status = await handle.query(PublishCreativeWorkflow.status)
            if status.approvals:
                break
            await asyncio.sleep(0.1)
        assert status.stage == "awaiting_approval"
        assert [(a.decision, a.accepted) for a in status.approvals] == [("maybe", False)]
        await handle.signal("agent_approval", approval())
        final = await asyncio.wait_for(handle.result(), timeout=60)
    assert final.stage == "published" and len(fakes.posts) == 1


async def test_a_flood_of_decisions_keeps_only_the_newest_in_the_status(
    dev_env: WorkflowEnvironment,
) -> None:
    """Every decision, refused ones included, was appended to the status and carried into
    each continued run without bound."""
    async with continued_run(dev_env, PublishFakes()) as handle:
        for i in range(MAX_APPROVALS + 20):
            await handle.signal("agent_approval", {"decision": f"no-{i}", "reviewer": "x"})
        await handle.signal("agent_approval", approval())
        final = await asyncio.wait_for(handle.result(), timeout=60)
    assert len(final.approvals) == MAX_APPROVALS
    assert final.approvals[-1].accepted and final.approvals[0].decision == "no-21"
