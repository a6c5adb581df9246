"""Asking a pool's semaphore for a permit: signal-with-start, which only a client can do."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from orchestrator.cap.models import AcquireRequest, SemaphoreState, semaphore_id, semaphore_pool
from orchestrator.cap.semaphore import SemaphoreWorkflow

QUERY_TIMEOUT = timedelta(seconds=10)


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


async def apply_pool_caps(client: Client, task_queue: str, caps: dict[str, int]) -> list[str]:
    """Bring each running semaphore to the configured cap (at worker start): a semaphore
    lives for ever and took its capacity when it first started, so a changed
    SMM_POOL_CAPS never reached it. Returns "pool: old -> new" for each one changed. (With
    workers of different settings, the last one started wins: keep them the same.)"""
    changed = []
    for pool, cap in sorted(caps.items()):
        handle = client.get_workflow_handle(semaphore_id(task_queue, pool))
        try:
            state = await handle.query(
                SemaphoreWorkflow.snapshot, rpc_timeout=timedelta(seconds=10)
            )
        except RPCError as err:
            if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
                continue  # not started yet (or closed): it starts with the cap
            raise
        if state.capacity != cap:
            await handle.signal(SemaphoreWorkflow.configure, cap)
            changed.append(f"{pool}: {state.capacity} -> {cap}")
    return changed
