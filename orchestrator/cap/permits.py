"""Holding a permit of a pool's semaphore from inside a workflow (the requester side).

The requester asks (signal-with-start, through an activity), waits in Temporal until the
semaphore signals the grant, renews the lease while it works, and releases in every case —
success, failure, cancellation (also while still waiting in the queue). A waiter asks again
(idempotently: a queued request keeps its place, a granted one is granted again) every
REREQUEST_AFTER, so a semaphore that was terminated and restarted, or a full queue, strands
nobody; a holder told that its lease expired renews at once.

A workflow that holds permits makes one ``Permits()`` in its ``__init__``: that registers
the two signal handlers the semaphore calls (grants and expiry notices), so no workflow
declares them itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from orchestrator.cap.activities import PermitActivities
    from orchestrator.cap.models import (
        EXPIRED_SIGNAL,
        GRANT_SIGNAL,
        AcquireRequest,
        PermitRequest,
        RenewRequest,
        semaphore_id,
    )

REQUEST_TIMEOUT = timedelta(seconds=30)
REQUEST_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
LEASE_S = 300.0
REREQUEST_AFTER = timedelta(minutes=10)


class Permits:
    def __init__(self) -> None:
        self.granted: set[str] = set()
        self.expired: set[str] = set()  # told by the semaphore; renewed at once
        self.waiting: list[str] = []
        self.caps: dict[str, int] = {}
        # Call from the workflow's __init__: a grant sent to a run before its handlers exist
        # is buffered by the SDK and delivered when they are set here.
        workflow.set_signal_handler(GRANT_SIGNAL, self.on_granted)
        workflow.set_signal_handler(EXPIRED_SIGNAL, self.on_expired)

    def on_granted(self, permit_id: str) -> None:
        self.granted.add(permit_id)

    def on_expired(self, permit_id: str) -> None:
        if permit_id in self.granted:
            self.expired.add(permit_id)

    async def load_caps(self) -> None:
        self.caps = await workflow.execute_activity_method(
            PermitActivities.pool_caps,
            start_to_close_timeout=REQUEST_TIMEOUT,
            retry_policy=REQUEST_RETRY,
        )

    @asynccontextmanager
    async def permit(self, pool: str, permit_id: str) -> AsyncIterator[None]:
        capacity = int(self.caps.get(pool, 0))
        if capacity <= 0:  # no cap configured for this pool
            yield
            return
        queue = workflow.info().task_queue
        semaphore = workflow.get_external_workflow_handle(semaphore_id(queue, pool))
        self.waiting.append(permit_id)
        renewing: asyncio.Task[None] | None = None
        try:
            await self._granted(pool, queue, capacity, permit_id, LEASE_S)
            self.waiting.remove(permit_id)
            renewing = asyncio.ensure_future(self._renew(semaphore, permit_id))
            yield
        finally:
            if renewing is not None:
                renewing.cancel()
            if permit_id in self.waiting:
                self.waiting.remove(permit_id)
            self.granted.discard(permit_id)
            self.expired.discard(permit_id)
            # Released on success, failure and cancellation alike (also while still queued).
            await semaphore.signal("release", permit_id)

    async def _granted(
        self,
        pool: str,
        queue: str,
        capacity: int,
        permit_id: str,
        lease_s: float,
        renewable: bool = True,
    ) -> None:
        """Ask the pool's semaphore (signal-with-start, through an activity) and wait, in
        Temporal, until it signals the grant; ask again every REREQUEST_AFTER."""
        request = AcquireRequest(
            pool=pool,
            task_queue=queue,
            capacity=capacity,
            request=PermitRequest(
                permit_id=permit_id,
                workflow_id=workflow.info().workflow_id,
                lease_s=lease_s,
                renewable=renewable,
            ),
        )
        rerequest = workflow.patched("permit-rerequest")
        while True:
            await workflow.execute_activity_method(
                PermitActivities.request_permit,
                request,
                start_to_close_timeout=REQUEST_TIMEOUT,
                retry_policy=REQUEST_RETRY,
            )
            if not rerequest:  # executions from before re-requests: wait as they did
                await workflow.wait_condition(lambda: permit_id in self.granted)
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await workflow.wait_condition(
                    lambda: permit_id in self.granted, timeout=REREQUEST_AFTER
                )
                return

    async def _renew(
        self, semaphore: workflow.ExternalWorkflowHandle[object], permit_id: str
    ) -> None:
        renewal = RenewRequest(
            permit_id=permit_id, workflow_id=workflow.info().workflow_id, lease_s=LEASE_S
        )
        while True:
            # Wakes early when the semaphore says the lease expired (the grace is short).
            with contextlib.suppress(asyncio.TimeoutError):
                await workflow.wait_condition(
                    lambda: permit_id in self.expired, timeout=timedelta(seconds=LEASE_S / 3)
                )
            self.expired.discard(permit_id)
            await semaphore.signal("renew", renewal)

    async def take(self, pool: str, permit_id: str, hold_s: float) -> None:
        """A permit that is never released: it frees itself when its lease of ``hold_s``
        ends. With the pool's capacity as the limit, that is a rate budget: at most
        ``capacity`` takes in any ``hold_s`` window, granted in order of asking."""
        capacity = int(self.caps.get(pool, 0))
        if capacity <= 0:
            return
        queue = workflow.info().task_queue
        self.waiting.append(permit_id)
        try:
            await self._granted(pool, queue, capacity, permit_id, hold_s, renewable=False)
        except BaseException:  # cancelled while queued: leave the queue, spend nothing
            await workflow.get_external_workflow_handle(semaphore_id(queue, pool)).signal(
                "release", permit_id
            )
            raise
        finally:
            if permit_id in self.waiting:
                self.waiting.remove(permit_id)

    def position(self, permit_id: str) -> int | None:
        return self.waiting.index(permit_id) + 1 if permit_id in self.waiting else None
