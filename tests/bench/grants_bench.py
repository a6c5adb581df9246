"""`make bench` (grants): how many permits per second one pool's semaphore grants with 1,000
waiters queued — the ceiling of the cluster-wide cap, whatever the work behind it.

1,000 acquire signals queue at once from 40 holder workflows (25 permits each, as 40 renders
would ask); each holder releases a permit the moment it is granted, so every grant after the
first `capacity` waits for a release: the measure is the semaphore's whole cycle (release
in, grant out, a workflow task on each side), on the local stack's Temporal server, the
semaphore and the holders in one worker process. The holders work in parallel; the one
semaphore is the serial point being measured.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from orchestrator.cap.models import GRANT_SIGNAL, PermitRequest, SemaphoreState
from orchestrator.cap.semaphore import SemaphoreWorkflow
from smm_local.stack import LocalStack
from smm_runtime.process_exit import run_and_exit
from smm_runtime.temporal_conn import connect
from tests.bench.results import Figure, repeated_async
from tests.bench.semaphore_replay import replay_figures

ROOT = Path(__file__).resolve().parents[2]
WAITERS = 1000
HOLDERS = 40  # divides the waiters, also per shard (4 shards: 10 holders, 25 each)


@workflow.defn(sandboxed=False)
class InstantHolder:
    """Holds every permit it is granted for no time at all: it releases at once."""

    def __init__(self) -> None:
        self.granted = 0
        self.pending: list[str] = []

    @workflow.signal(name=GRANT_SIGNAL)
    def on_grant(self, permit_id: str) -> None:
        self.granted += 1
        self.pending.append(permit_id)

    @workflow.query
    def count(self) -> int:
        return self.granted

    @workflow.run
    async def run(self, semaphore: str, total: int) -> int:
        handle = workflow.get_external_workflow_handle(semaphore)
        while self.granted < total or self.pending:
            await workflow.wait_condition(lambda: bool(self.pending))
            batch, self.pending = self.pending, []
            await asyncio.gather(*[handle.signal("release", p) for p in batch])
        return self.granted


async def one_semaphore(
    client: Client, queue: str, capacity: int, waiters: int, holders: int
) -> None:
    """``waiters`` permits through one semaphore, asked for by ``holders`` workflows."""
    semaphore_id = f"grants-sem-{uuid.uuid4().hex[:6]}"
    started = [
        await client.start_workflow(
            InstantHolder.run,
            args=[semaphore_id, waiters // holders],
            id=f"holder-{semaphore_id}-{h}",
            task_queue=queue,
        )
        for h in range(holders)
    ]
    semaphore = await client.start_workflow(
        SemaphoreWorkflow.run,
        SemaphoreState(pool="bench", capacity=capacity),
        id=semaphore_id,
        task_queue=queue,
    )
    for batch in range(0, waiters, 100):
        await asyncio.gather(
            *[
                semaphore.signal(
                    "acquire",
                    PermitRequest(permit_id=f"p{i:05d}", workflow_id=started[i % holders].id),
                )
                for i in range(batch, min(waiters, batch + 100))
            ]
        )
    assert sum(await asyncio.gather(*[h.result() for h in started])) == waiters
    await semaphore.terminate("bench over")


async def grants_per_second(
    client: Client, capacity: int, shards: int = 1, waiters: int = WAITERS
) -> float:
    """``waiters`` permits through ``shards`` semaphores at once (each with its share of the
    capacity and of the waiters): the rate of them all together."""
    queue = f"grants-{uuid.uuid4().hex[:6]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[SemaphoreWorkflow, InstantHolder],
        max_cached_workflows=HOLDERS + 10 * shards,
    ):
        started = time.monotonic()
        await asyncio.gather(
            *[
                one_semaphore(
                    client, queue, max(1, capacity // shards), waiters // shards, HOLDERS // shards
                )
                for _ in range(shards)
            ]
        )
        elapsed = time.monotonic() - started
    rate = waiters / elapsed
    print(
        f"(grants) capacity {capacity:3d} in {shards} semaphore(s): {waiters} waiters "
        f"granted and released in {elapsed:.1f} s = {rate:.0f} grants/s"
    )
    return rate


async def measure(client: Client) -> list[Figure]:
    # One at a time is a strict cycle (release in, grant out): 200 show its rate.
    one = await grants_per_second(client, 1, waiters=200)
    sixteen = await grants_per_second(client, 16)
    sharded = await grants_per_second(client, 16, shards=4)
    print(
        f"(grants) one semaphore grants {sixteen:.0f}/s at the default segment cap (16): a "
        f"segment that takes 5 s needs {16 / 5:.1f} grants/s to keep 16 busy; four "
        f"semaphores sharing the pool together grant {sharded:.0f}/s "
        f"({sharded / sixteen:.2f}x): what is left is the server's own rate"
    )
    return [
        ("grants.per_second_capacity_1", one, "grants/s", "higher"),
        ("grants.per_second_capacity_16", sixteen, "grants/s", "higher"),
        ("grants.per_second_capacity_16_4_shards", sharded, "grants/s", "higher"),
        *await replay_figures(client),
    ]


async def run(stack: LocalStack) -> None:
    client = await connect(environ=stack.env())
    await repeated_async(lambda: measure(client))


def main() -> None:
    with LocalStack(
        state_dir=ROOT / ".local" / "bench-grants",
        log=open(ROOT / ".local" / "bench-grants.log", "w"),
    ) as stack:
        asyncio.run(run(stack))


if __name__ == "__main__":
    run_and_exit(main)  # a Temporal client can abort a finishing process (process_exit)
