"""Credit holds from inside a workflow: reserve before a render, capture what it really cost,
release on anything else.

A hold is named by the workflow id and round plus the run that reserved it (the ledger
activity adds the run), and each step's idempotency key by the hold, so a retried or replayed
activity is a no-op that returns the first result while a reset or a re-run holds anew;
compensation (release) runs even when the workflow is being cancelled.

Two ways to use it: ``async with held(account, hold_id, price) as hold`` around one render
(released if the body raises, captured with ``hold.usage`` when it returns), or a
``CreditHold`` kept across rounds and continued runs (the publish workflow) and settled with
``settle_all``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from orchestrator.billing.ledger_activities import BillingActivities
    from orchestrator.billing.pricing import LedgerOp, PriceModel, actual
    from smm_runtime.contract.basetypes import ComputeUsage
    from smm_runtime.contract.errors import (
        INSUFFICIENT_CREDITS,
        INVALID_REQUEST,
        LEDGER_CONFLICT,
    )
    from smm_runtime.contract.workflow_io import RenderCost

LEDGER_TIMEOUT = timedelta(seconds=20)
LEDGER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=[INVALID_REQUEST, INSUFFICIENT_CREDITS, LEDGER_CONFLICT],
)
Price = Callable[[PriceModel], int]


class BillCarry(BaseModel):
    """A hold as it travels into the next run when a workflow continues as new."""

    account: str
    hold_id: str
    held: int
    model: PriceModel | None = None
    usage: ComputeUsage | None = None


class CreditHold:
    """One hold on an account's credits, and the three ledger steps that settle it."""

    def __init__(self, account: str, hold_id: str) -> None:
        self.account = account
        self.hold_id = hold_id
        self.held = 0
        self.model: PriceModel | None = None
        # What the work used, set by the body of ``held``; captured when the body returns.
        self.usage: ComputeUsage | None = None
        self.cost: RenderCost | None = None

    async def _op(
        self, op: str, step: str, amount: int = 0, per_run: bool = False
    ) -> dict[str, Any]:
        result: dict[str, Any] = await workflow.execute_activity_method(
            BillingActivities.ledger,
            LedgerOp(
                op=op,
                account=self.account,
                key=f"{self.hold_id}:{step}",
                hold_id=self.hold_id,
                amount=amount,
                per_run=per_run,
            ),
            start_to_close_timeout=LEDGER_TIMEOUT,
            retry_policy=LEDGER_RETRY,
        )
        return result

    async def reserve(self, price: Price) -> int:
        """Hold what ``price`` estimates under the deployment's price model."""
        self.model = await workflow.execute_activity_method(
            BillingActivities.price_model,
            start_to_close_timeout=LEDGER_TIMEOUT,
            retry_policy=LEDGER_RETRY,
        )
        self.held = price(self.model)
        entry = await self._op("reserve", "reserve", self.held, per_run=True)
        # The hold as the ledger named it (this run's); an entry from before holds were
        # per run carries the plain id.
        self.hold_id = str(entry.get("hold", self.hold_id))
        return self.held

    async def capture(self, usage: ComputeUsage) -> RenderCost:
        assert self.model is not None
        charge = actual(usage, self.model, self.held)
        entry = await self._op("capture", "capture", charge)
        self.cost = RenderCost(
            credits=int(entry["amount"]), gb_seconds=usage.gb_seconds, estimate=self.held
        )
        return self.cost

    async def release(self) -> None:
        await self._op("release", "release")

    def carry(self, usage: ComputeUsage | None) -> BillCarry:
        return BillCarry(
            account=self.account,
            hold_id=self.hold_id,
            held=self.held,
            model=self.model,
            usage=usage,
        )

    @classmethod
    def resume(cls, carried: BillCarry) -> tuple[CreditHold, ComputeUsage | None]:
        hold = cls(carried.account, carried.hold_id)
        hold.held, hold.model = carried.held, carried.model
        return hold, carried.usage


class NoHold(CreditHold):
    """Unbilled work (no account): every step is a no-op, so the code around it is one path."""

    def __init__(self) -> None:
        super().__init__("", "")

    async def reserve(self, price: Price) -> int:
        return 0

    async def capture(self, usage: ComputeUsage) -> RenderCost:
        raise AssertionError("unbilled work is never captured")

    async def release(self) -> None:
        return None


@asynccontextmanager
async def held(account: str | None, hold_id: str, price: Price) -> AsyncIterator[CreditHold]:
    """Reserve ``price`` on ``account`` before the body runs (nothing for unbilled work).
    The body sets ``hold.usage``; when it returns, that usage is captured (``hold.cost``);
    when it raises, or the workflow is cancelled, the hold is released and the error goes on."""
    hold = CreditHold(account, hold_id) if account else NoHold()
    await hold.reserve(price)  # before anything is dispatched
    try:
        yield hold
    except BaseException:
        await hold.release()  # compensation, also when cancelled
        raise
    if account:
        assert hold.usage is not None, "the body of held() sets hold.usage"
        await hold.capture(hold.usage)


async def settle_all(
    holds: list[tuple[CreditHold, ComputeUsage | None]], *, capture: bool
) -> tuple[int, int]:
    """Capture (with its usage) or release each hold; (credits charged, credits no longer
    held)."""
    charged = released = 0
    for hold, usage in holds:
        if capture and usage is not None:
            charged += (await hold.capture(usage)).credits
        else:
            await hold.release()
        released += hold.held
    return charged, released
