"""Releases credit holds whose workflow run closed without settling them.

A workflow settles its holds itself (capture on approval, release on anything else, even
when cancelled). What it cannot settle: a run terminated (by an operator, a reset, the
history limit) or timed out. Such a hold keeps the account's credits out of reach until
released; the worker sweeps for them every few minutes. The release uses the same
idempotency key the workflow would, so a sweep racing the workflow's own release is a
no-op, and several workers sweeping at once are harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from orchestrator.executors import on_aws
from smm_runtime.ledger import Ledger

log = logging.getLogger("smm.holds")


@dataclass
class HoldSweeper:
    ledger: Ledger
    client: Client
    # Younger holds are left alone: their reserve may still be on its way to history.
    min_age: timedelta = timedelta(minutes=10)

    async def sweep_once(self) -> list[str]:
        """Release every stale hold; returns the hold ids released."""
        released = []
        for hold in await on_aws(self.ledger.open_holds):
            if not hold["workflow_id"] or not hold["run_id"] or not self._old(hold):
                continue  # held before holds named their owner, or too young to judge
            if await self._owner_alive(hold["workflow_id"], hold["run_id"]):
                continue
            await on_aws(
                self.ledger.release, hold["account"], hold["hold_id"], f"{hold['hold_id']}:release"
            )
            log.warning(
                "released stale hold %s (%s credits) of %s: its run %s closed",
                hold["hold_id"],
                hold["amount"],
                hold["account"],
                hold["run_id"],
            )
            released.append(hold["hold_id"])
        return released

    async def run(self, every: timedelta, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sweep_once()
            except Exception:  # a sweep that failed is tried again next time
                log.exception("hold sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every.total_seconds())

    def _old(self, hold: dict[str, Any]) -> bool:
        at = datetime.fromisoformat(hold["at"]) if hold["at"] else None
        return at is not None and datetime.now(UTC) - at >= self.min_age

    async def _owner_alive(self, workflow_id: str, run_id: str) -> bool:
        """The run that reserved the hold, or the chain it continued as new into, runs."""
        try:
            run = await self.client.get_workflow_handle(workflow_id, run_id=run_id).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False  # closed so long ago that the server forgot it
            raise
        if run.status == WorkflowExecutionStatus.RUNNING:
            return True
        if run.status != WorkflowExecutionStatus.CONTINUED_AS_NEW:
            return False
        first = run.raw_description.workflow_execution_info.first_run_id
        latest = await self.client.get_workflow_handle(workflow_id).describe()
        return (
            latest.status == WorkflowExecutionStatus.RUNNING
            and latest.raw_description.workflow_execution_info.first_run_id == first
        )
