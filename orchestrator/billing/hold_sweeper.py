"""Releases credit holds whose workflow run closed without settling them.

A workflow settles its holds itself (capture on approval, release on anything else, even
when cancelled). What it cannot settle: a chain terminated (by an operator or the history
limit) or timed out. A reset terminates a run too, but its chain goes on in the new run,
which settles the hold itself. Such a hold keeps the account's credits out of reach until
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


def owner_of_plain_hold(hold_id: str) -> str:
    """The workflow id in a hold id from before holds named their owner: a render's own id,
    or a publish round's ``<workflow id>/render-<round>``."""
    plain = hold_id.split("@", 1)[0]
    return plain.rsplit("/render-", 1)[0] if "/render-" in plain else plain


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
            if not self._old(hold):
                continue  # too young to judge: its reserve may still be on its way
            if hold["workflow_id"] and hold["run_id"]:
                if await self._owner_alive(hold["workflow_id"], hold["run_id"]):
                    continue
            elif await self._latest_running(owner_of_plain_hold(hold["hold_id"])):
                continue  # held before holds named their owner: by its workflow id
            outcome = await on_aws(
                self.ledger.release, hold["account"], hold["hold_id"], f"{hold['hold_id']}:release"
            )
            if outcome.get("noop"):
                continue  # settled since the index listed it (the index lags a moment)
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
        if not hold["at"]:
            return True  # from before holds were timed: old by definition
        return datetime.now(UTC) - datetime.fromisoformat(hold["at"]) >= self.min_age

    async def _latest_running(self, workflow_id: str) -> bool:
        try:
            latest = await self.client.get_workflow_handle(workflow_id).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return latest.status == WorkflowExecutionStatus.RUNNING

    async def _owner_alive(self, workflow_id: str, run_id: str) -> bool:
        """The chain the hold's run belongs to still runs: the run itself, the run it
        continued as new into, or the run a reset started from it. A hold belongs to the
        chain, not the run: a reset copies the reserve into the new run's history and that
        run captures the same hold. (Reset to before the reserve, the new run holds anew and
        the old hold waits here until the chain ends — held twice for that while, never
        lost.)"""
        try:
            run = await self.client.get_workflow_handle(workflow_id, run_id=run_id).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False  # closed so long ago that the server forgot it
            raise
        if run.status == WorkflowExecutionStatus.RUNNING:
            return True
        first = run.raw_description.workflow_execution_info.first_run_id
        latest = await self.client.get_workflow_handle(workflow_id).describe()
        return (
            latest.run_id != run_id
            and latest.status == WorkflowExecutionStatus.RUNNING
            and latest.raw_description.workflow_execution_info.first_run_id == first
        )
