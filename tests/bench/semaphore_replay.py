"""`make bench` (grants): what a full replay of the semaphore costs after a burst of signals,
as deployed (unsandboxed) against the same class in the sandbox, side by side in one run.

Why it matters: a burst of more than 100 signals during one workflow task makes the server
fail that task (FORCE_CLOSE_COMMAND) and the worker evict the run, so the next task replays
the whole history; while it replays, the next burst arrives. The replay's length decides
whether the semaphore catches up or keeps failing (orchestrator/cap/semaphore.py).
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer, Worker

from orchestrator.cap.models import Holder, PermitRequest, SemaphoreState
from orchestrator.cap.semaphore import SemaphoreWorkflow
from tests.bench.results import Figure

ACQUIRES = 3000  # with the releases, past the semaphore's MAX_HISTORY (4,000 events)


@workflow.defn(name="SemaphoreWorkflow", sandboxed=True)
class SandboxedSemaphore(SemaphoreWorkflow):
    """The semaphore as it ran before: the same class in the default sandbox."""

    @workflow.run
    async def run(self, state: SemaphoreState) -> None:
        await super().run(state)


async def flood_history(client: Client) -> WorkflowHistory:
    """A semaphore run that took 3,000 acquires and 1,500 releases, 64 signals in flight."""
    queue = f"flood-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    ghost = Holder(workflow_id="gone", acquired_at=now, lease_until=now + timedelta(days=1))
    async with Worker(client, task_queue=queue, workflows=[SemaphoreWorkflow]):
        handle = await client.start_workflow(
            SemaphoreWorkflow.run,
            SemaphoreState(pool="flood", capacity=1, holders={"ghost": ghost}),
            id=f"flood-sem-{queue}",
            task_queue=queue,
        )
        first_run = (await handle.describe()).run_id
        latest = client.get_workflow_handle(handle.id)
        gate = asyncio.Semaphore(64)

        async def send(name: str, arg: Any) -> None:
            async with gate:
                await latest.signal(name, arg)

        acquires = (PermitRequest(permit_id=f"w{i}", workflow_id="gone") for i in range(ACQUIRES))
        await asyncio.gather(*(send("acquire", request) for request in acquires))
        await asyncio.gather(*(send("release", f"w{i}") for i in range(0, ACQUIRES, 2)))
        while (await latest.describe()).run_id == first_run:
            await asyncio.sleep(0.5)
        history = await client.get_workflow_handle(handle.id, run_id=first_run).fetch_history()
        await latest.terminate("bench over")
    return history


async def replay_seconds(
    history: WorkflowHistory, cls: type, converter: DataConverter, rounds: int = 3
) -> float:
    """The median time to replay ``history`` with ``cls``, in a fresh replayer each time."""
    spans = []
    for _ in range(rounds):
        started = time.monotonic()
        replayer = Replayer(workflows=[cls], data_converter=converter)
        await replayer.replay_workflow(history)
        spans.append(time.monotonic() - started)
    return statistics.median(spans)


async def replay_figures(client: Client) -> list[Figure]:
    history = await flood_history(client)
    deployed = await replay_seconds(history, SemaphoreWorkflow, client.data_converter)
    sandboxed = await replay_seconds(history, SandboxedSemaphore, client.data_converter)
    print(
        f"(grants) replaying a {len(history.events):,}-event semaphore history after a flood: "
        f"{deployed:.2f} s as deployed (unsandboxed) against {sandboxed:.2f} s in the sandbox "
        f"({sandboxed / deployed:.1f}x)"
    )
    return [
        ("grants.flood_replay_s", deployed, "s", "lower"),
        ("grants.flood_replay_sandbox_ratio", sandboxed / deployed, "x", "higher"),
    ]
