"""SemaphoreWorkflow: a cluster-wide cap on concurrent work in one pool (e.g. FFmpeg segments).

Why a workflow: its state is durable (it survives worker and server restarts), every
requester in any workflow on any worker talks to the same one, and work above the cap waits
here, in Temporal — first come, first served, cancellable, visible — instead of in Lambda's
hidden async queue. Permits are leases of a fixed length: a holder renews while it is alive,
so a holder that vanished (terminated, reset) is reclaimed when its lease runs out. A holder
whose lease ran out while it still works (an outage longer than the lease) is told, and keeps
its slot for a grace period in which its renewal readmits it; a renewal that arrives even
later readmits it too, above the cap if need be, because its work is running either way.
The history is kept short by continuing as new; the state is built in ``@workflow.init`` so
signals delivered in a new run's first activation apply to the carried state, not to a
placeholder that the run would then overwrite.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from orchestrator.cap.models import (
        EXPIRED_SIGNAL,
        GRANT_SIGNAL,
        MAX_WAITERS,
        RELEASED_KEPT,
        Holder,
        PermitRequest,
        RenewRequest,
        SemaphoreState,
        pack_waiters,
        unpack_waiters,
    )

IDLE_WAKEUP = timedelta(hours=1)
MAX_HISTORY = 4000
DEFAULT_LEASE_S = 300.0
GRACE = timedelta(seconds=60)  # a told holder's time to renew before its slot is reused
SNAPSHOT_WAITERS = 200  # the head of the queue the snapshot query shows
# Executions from before replay a renewal after its release as they did (a readmission).
NO_PHANTOM_PATCH = "semaphore-no-phantom-renewal"
# Executions from before checked the history only after a wake-up: signals that carried it
# past MAX_HISTORY in the activation before a wait left it waiting (up to the next lease or
# IDLE_WAKEUP, hours) with the whole history to replay on every eviction.
CONTINUE_BEFORE_WAIT_PATCH = "semaphore-continue-before-wait"


# Unsandboxed: every requester signals this one workflow, and a burst of more than 100 signals
# during a workflow task makes the server fail that task (FORCE_CLOSE_COMMAND), evicting the
# run so the next task replays the whole history. In the sandbox that replay took four times
# as long (1.9 s against 0.45 s for 4,500 events), long enough for the next burst to fail it
# again; under load the run stalled for minutes. Its logic is pure (time from workflow.now(),
# no I/O, its imports passed through), so the sandbox guards nothing here, and leaving it
# changes no command: running executions replay the same.
@workflow.defn(sandboxed=False)
class SemaphoreWorkflow:
    @workflow.init
    def __init__(self, state: SemaphoreState) -> None:
        self._state = state.model_copy(update={"waiters": [], "packed_waiters": ""})
        # The queue in arrival order, keyed for O(1) look-ups at tens of thousands.
        self._queue: dict[str, PermitRequest] = {
            w.permit_id: w for w in [*state.waiters, *unpack_waiters(state.packed_waiters)]
        }
        self._dirty = False
        self._sending: set[asyncio.Task[None]] = set()
        self._released: dict[str, None] = dict.fromkeys(state.released)

    @workflow.query
    def snapshot(self) -> SemaphoreState:
        head = [w for _, w in zip(range(SNAPSHOT_WAITERS), self._queue.values(), strict=False)]
        return self._state.model_copy(update={"waiters": head, "waiting": len(self._queue)})

    @workflow.signal
    def acquire(self, request: PermitRequest) -> None:
        s = self._state
        self._released.pop(request.permit_id, None)  # asked for anew: a live permit again
        if request.permit_id in s.holders:
            self._send(
                GRANT_SIGNAL, request.permit_id, s.holders[request.permit_id].workflow_id
            )  # a re-request: grant again
        elif request.permit_id in self._queue:
            pass  # already queued: keeps its place
        elif len(self._queue) >= MAX_WAITERS:
            s.refused_total += 1  # not queued; the requester asks again after its timeout
        else:
            self._queue[request.permit_id] = request
        self._dirty = True

    @workflow.signal
    def release(self, permit_id: str) -> None:
        self._state.holders.pop(permit_id, None)
        self._queue.pop(permit_id, None)
        self._released[permit_id] = None
        while len(self._released) > RELEASED_KEPT:
            del self._released[next(iter(self._released))]
        self._dirty = True

    @workflow.signal
    def renew(self, renewal: RenewRequest | str) -> None:
        # A bare permit id is what requesters sent before renewals carried their workflow.
        permit_id = renewal if isinstance(renewal, str) else renewal.permit_id
        holder = self._state.holders.get(permit_id)
        now = workflow.now()
        if holder is not None:
            # A fixed lease from now: never the previous lease span, which grew each time.
            holder.lease_until = now + timedelta(seconds=holder.lease_s or DEFAULT_LEASE_S)
            holder.told_expired = False
        elif isinstance(renewal, RenewRequest) and permit_id not in self._queue:
            if permit_id in self._released and workflow.patched(NO_PHANTOM_PATCH):
                return  # sent before its release, delivered after: nobody holds it
            # Its lease expired and its slot was reused, yet it still works: count it again
            # (above the cap if need be) so no new grant pretends that slot is free.
            self._state.holders[permit_id] = Holder(
                workflow_id=renewal.workflow_id,
                acquired_at=now,
                lease_s=renewal.lease_s,
                lease_until=now + timedelta(seconds=renewal.lease_s),
            )
            self._state.readmitted_total += 1
        self._dirty = True

    @workflow.signal
    def configure(self, capacity: int) -> None:
        self._state.capacity = max(1, capacity)
        self._dirty = True

    def _send(self, signal: str, permit_id: str, workflow_id: str) -> None:
        task = asyncio.ensure_future(self._notify(signal, permit_id, workflow_id))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _notify(self, signal: str, permit_id: str, workflow_id: str) -> None:
        try:
            await workflow.get_external_workflow_handle(workflow_id).signal(signal, permit_id)
        except Exception:  # the holder's workflow is gone: its slot is free now
            self._state.holders.pop(permit_id, None)
            self._dirty = True

    def _grant(self) -> None:
        s = self._state
        while self._queue and len(s.holders) < s.capacity:
            request = self._queue.pop(next(iter(self._queue)))
            now = workflow.now()
            s.holders[request.permit_id] = Holder(
                workflow_id=request.workflow_id,
                acquired_at=now,
                lease_s=request.lease_s,
                renewable=request.renewable,
                lease_until=now + timedelta(seconds=request.lease_s),
            )
            s.granted_total += 1
            self._send(GRANT_SIGNAL, request.permit_id, request.workflow_id)

    def _expire(self) -> None:
        now = workflow.now()
        for permit_id, holder in list(self._state.holders.items()):
            if holder.lease_until > now:
                continue
            if (
                holder.renewable
                and not holder.told_expired
                and workflow.patched("semaphore-expiry-notice")
            ):
                holder.told_expired = True
                holder.lease_until = now + GRACE
                self._send(EXPIRED_SIGNAL, permit_id, holder.workflow_id)
                continue
            del self._state.holders[permit_id]
            self._state.expired_total += 1

    @staticmethod
    def _history_full() -> bool:
        info = workflow.info()
        return info.get_current_history_length() > MAX_HISTORY or (
            info.is_continue_as_new_suggested()
        )

    async def _continue_as_new(self) -> None:
        await workflow.wait_condition(lambda: not self._sending)
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            self._state.model_copy(
                update={
                    "waiters": [],
                    "waiting": len(self._queue),
                    "packed_waiters": pack_waiters(list(self._queue.values())),
                    "released": list(self._released),
                }
            )
        )

    @workflow.run
    async def run(self, state: SemaphoreState) -> None:
        del state  # built in __init__
        while True:
            self._expire()
            self._grant()
            self._dirty = False
            if self._history_full() and workflow.patched(CONTINUE_BEFORE_WAIT_PATCH):
                await self._continue_as_new()  # before a wait that may last hours
            leases = [h.lease_until for h in self._state.holders.values()]
            wake = min(leases) - workflow.now() if leases else IDLE_WAKEUP
            with contextlib.suppress(asyncio.TimeoutError):
                await workflow.wait_condition(
                    lambda: self._dirty, timeout=max(wake, timedelta(seconds=1))
                )
            if self._history_full():
                await self._continue_as_new()
