"""Ledger operations and the price model, as light activities in the worker."""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from orchestrator.billing.pricing import LedgerOp, PriceModel
from orchestrator.executors import on_aws
from smm_runtime.account_channels import AccountChannels
from smm_runtime.contract.errors import INSUFFICIENT_CREDITS, INVALID_REQUEST, LEDGER_CONFLICT
from smm_runtime.ledger import InsufficientCreditsError, Ledger, LedgerConflictError


class BillingActivities:
    def __init__(
        self, ledger: Ledger | None, prices: PriceModel, channels: AccountChannels | None = None
    ) -> None:
        self._ledger = ledger
        self._prices = prices
        self._channels = channels

    @activity.defn(name="account_channels")
    async def account_channels(self, account: str) -> list[str] | None:
        """The Postiz channels the account may post to (None: none were ever allowed)."""
        if self._channels is None:
            return None
        allowed = await on_aws(self._channels.allowed, account)
        return None if allowed is None else sorted(allowed)

    @activity.defn(name="price_model")
    async def price_model(self) -> PriceModel:
        return self._prices

    @activity.defn(name="ledger")
    async def ledger(self, op: LedgerOp) -> dict[str, Any]:
        if self._ledger is None:
            raise ApplicationError(
                "billing: no ledger table configured (SMM_LEDGER_TABLE)",
                type=INVALID_REQUEST,
                non_retryable=True,
            )
        ledger = self._ledger
        try:
            if op.op == "grant":
                return await on_aws(ledger.grant, op.account, op.amount, op.key)
            assert op.hold_id is not None
            if op.op == "reserve" and op.per_run:
                info = activity.info()
                hold = f"{op.hold_id}@{info.workflow_run_id}"
                return await on_aws(
                    ledger.reserve,
                    op.account,
                    hold,
                    op.amount,
                    f"{hold}:reserve",
                    {"workflow_id": info.workflow_id or "", "run_id": info.workflow_run_id or ""},
                )
            if op.op == "reserve":
                return await on_aws(ledger.reserve, op.account, op.hold_id, op.amount, op.key)
            if op.op == "capture":
                return await on_aws(ledger.capture, op.account, op.hold_id, op.amount, op.key)
            return await on_aws(ledger.release, op.account, op.hold_id, op.key)
        except InsufficientCreditsError as err:
            raise ApplicationError(
                str(err), type=INSUFFICIENT_CREDITS, non_retryable=True
            ) from None
        except LedgerConflictError as err:
            raise ApplicationError(str(err), type=LEDGER_CONFLICT, non_retryable=True) from None
