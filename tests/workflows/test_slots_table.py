"""`smm-engine slots` reads every pool's semaphore into one table: held of capacity, the
queue, the totals; pools whose semaphore never started are idle, not an error."""

from __future__ import annotations

import asyncio
import json
import uuid

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from orchestrator.cap.models import POOLS, PermitRequest, SemaphoreState, semaphore_id
from orchestrator.cap.semaphore import SemaphoreWorkflow
from orchestrator.cli.slots import rows, table
from tests.workflows.test_semaphore import Listener


async def test_the_table_shows_holders_queue_and_idle_pools(dev_env: WorkflowEnvironment) -> None:
    queue = f"slots-{uuid.uuid4().hex[:6]}"
    client = dev_env.client
    async with Worker(client, task_queue=queue, workflows=[SemaphoreWorkflow, Listener]):
        listener = await client.start_workflow(Listener.run, id=f"l-{queue}", task_queue=queue)
        semaphore = await client.start_workflow(
            SemaphoreWorkflow.run,
            SemaphoreState(pool="video-segments", capacity=2),
            id=semaphore_id(queue, "video-segments"),
            task_queue=queue,
        )
        for n in range(9):
            await semaphore.signal(
                "acquire",
                PermitRequest(permit_id=f"render-{n}/9:16/{n * 120}", workflow_id=listener.id),
            )
        for _ in range(50):
            found = {r["pool"]: r for r in await rows(client, queue)}
            if found["video-segments"].get("waiting") == 7:
                break
            await asyncio.sleep(0.2)
        await listener.terminate()
        await semaphore.terminate()
    segments = found["video-segments"]
    assert (
        segments["held"],
        segments["capacity"],
        segments["waiting"],
        segments["granted_total"],
    ) == (2, 2, 7, 2)
    assert [h["permit_id"] for h in segments["holders"]] == ["render-0/9:16/0", "render-1/9:16/120"]
    assert segments["queue_head"][0] == "render-2/9:16/240" and len(segments["queue_head"]) == 5
    assert all(not found[p]["started"] for p in POOLS if p != "video-segments")
    json.dumps(list(found.values()))  # what --json prints

    text = table(list(found.values()), detail=True)
    row = next(line for line in text.splitlines() if line.startswith("video-segments"))
    assert "2 of 2" in row and "[##########]" in row and row.split()[-4] == "7"
    assert "holds  render-0/9:16/0" in text and "#1    render-2/9:16/240" in text
    assert "... and 2 more" in text
    assert "images" in text and "idle (no semaphore started yet)" in text
    assert "holds" not in table(list(found.values()), detail=False)
