"""Asking a pool's semaphore for a permit: signal-with-start, which only a client can do."""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client

from orchestrator.cap.models import AcquireRequest, SemaphoreState, semaphore_id, semaphore_pool
from orchestrator.cap.semaphore import SemaphoreWorkflow


class PermitActivities:
    def __init__(self, client: Client, caps: dict[str, int]) -> None:
        self._client = client
        self._caps = caps

    @activity.defn(name="pool_caps")
    async def pool_caps(self) -> dict[str, int]:
        return dict(self._caps)

    @activity.defn(name="request_permit")
    async def request_permit(self, request: AcquireRequest) -> None:
        await self._client.start_workflow(
            SemaphoreWorkflow.run,
            SemaphoreState(
                pool=semaphore_pool(request.task_queue, request.pool), capacity=request.capacity
            ),
            id=semaphore_id(request.task_queue, request.pool),
            task_queue=activity.info().task_queue,
            start_signal="acquire",
            start_signal_args=[request.request],
        )
