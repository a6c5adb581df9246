"""SemaphoreWorkflow: a cluster-wide cap on concurrent work in one pool (e.g. FFmpeg segments).

Why a workflow: its state is durable (it survives worker and server restarts), every
requester in any workflow on any worker talks to the same one, and work above the cap waits
here, in Temporal — first come, first served, cancellable, visible — instead of in Lambda's
hidden async queue. Permits are leases: a holder renews while it is alive, so a holder that
vanished (terminated, reset) is reclaimed when its lease runs out. The history is kept short
by continuing as new.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from orchestrator.permits_io import GRANT_SIGNAL, Holder, PermitRequest, SemaphoreState

IDLE_WAKEUP = timedelta(hours=1)
MAX_HISTORY = 4000


@workflow.defn
class SemaphoreWorkflow:
    def __init__(self) -> None:
        self._state = SemaphoreState(pool="?", capacity=1)
        self._dirty = False
        self._sending: set[asyncio.Task[None]] = set()

    @workflow.query
    def snapshot(self) -> SemaphoreState:
        return self._state

    @workflow.signal
    def acquire(self, request: PermitRequest) -> None:
        s = self._state
        if request.permit_id in s.holders:
            self._send(request.permit_id, s.holders[request.permit_id].workflow_id)  # a retry
        elif all(w.permit_id != request.permit_id for w in s.waiters):
            s.waiters.append(request)
        self._dirty = True

    @workflow.signal
    def release(self, permit_id: str) -> None:
        self._state.holders.pop(permit_id, None)
        self._state.waiters = [w for w in self._state.waiters if w.permit_id != permit_id]
        self._dirty = True

    @workflow.signal
    def renew(self, permit_id: str) -> None:
        holder = self._state.holders.get(permit_id)
        if holder is not None:
            lease = holder.lease_until - holder.acquired_at
            holder.lease_until = workflow.now() + lease
        self._dirty = True

    @workflow.signal
    def configure(self, capacity: int) -> None:
        self._state.capacity = max(1, capacity)
        self._dirty = True

    def _send(self, permit_id: str, workflow_id: str) -> None:
        task = asyncio.ensure_future(self._notify(permit_id, workflow_id))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _notify(self, permit_id: str, workflow_id: str) -> None:
        try:
            await workflow.get_external_workflow_handle(workflow_id).signal(GRANT_SIGNAL,
                                                                            permit_id)
        except Exception:
            self._state.holders.pop(permit_id, None)
            self._dirty = True

    def _grant(self) -> None:
        s = self._state
        while s.waiters and len(s.holders) < s.capacity:
            request = s.waiters.pop(0)
            now = workflow.now()
            s.holders[request.permit_id] = Holder(
                workflow_id=request.workflow_id, acquired_at=now,
                lease_until=now + timedelta(seconds=request.lease_s))
            s.granted_total += 1
            self._send(request.permit_id, request.workflow_id)

    def _expire(self) -> None:
        now = workflow.now()
        for permit_id, holder in list(self._state.holders.items()):
            if holder.lease_until <= now:
                del self._state.holders[permit_id]
                self._state.expired_total += 1

    @workflow.run
    async def run(self, state: SemaphoreState) -> None:
        # Signals that arrived with the start (or before a continue-as-new) are already
        # applied to the fresh instance; merge the carried-over state under them.
        carried = state.model_copy()
        carried.waiters += [w for w in self._state.waiters
                            if w.permit_id not in {c.permit_id for c in carried.waiters}]
        for permit_id in list(self._state.holders):
            carried.holders.setdefault(permit_id, self._state.holders[permit_id])
        self._state = carried
        while True:
            self._expire()
            self._grant()
            self._dirty = False
            leases = [h.lease_until for h in self._state.holders.values()]
            wake = min(leases) - workflow.now() if leases else IDLE_WAKEUP
            with contextlib.suppress(asyncio.TimeoutError):
                await workflow.wait_condition(lambda: self._dirty,
                                              timeout=max(wake, timedelta(seconds=1)))
            if workflow.info().get_current_history_length() > MAX_HISTORY or \
                    workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(lambda: not self._sending)
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._state)
