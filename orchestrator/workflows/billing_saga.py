"""Reserve before a render, capture what it really cost, release on anything else.

Used inside workflows. A hold is named by the workflow id and round plus the run that
reserved it (the ledger activity adds the run), and each step's idempotency key by the hold,
so a retried or replayed activity is a no-op that returns the first result while a reset or
a re-run holds anew; compensation (release) runs even when the workflow is being cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from orchestrator.activities.billing import BillingActivities
    from orchestrator.planning.resolve import total_frames
    from orchestrator.pricing import LedgerOp, PriceModel, actual, estimate_images, estimate_video
    from orchestrator.publish_carry import BillCarry
    from smm_runtime.contract.basetypes import ComputeUsage
    from smm_runtime.contract.errors import (
        INSUFFICIENT_CREDITS,
        INVALID_REQUEST,
        LEDGER_CONFLICT,
    )
    from smm_runtime.contract.validation import parse_image_spec, parse_spec
    from smm_runtime.contract.video_spec import FPS
    from smm_runtime.contract.workflow_io import RenderCost

LEDGER_TIMEOUT = timedelta(seconds=20)
LEDGER_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(
    seconds=30), non_retryable_error_types=[INVALID_REQUEST, INSUFFICIENT_CREDITS,
                                            LEDGER_CONFLICT])


class Billing:
    def __init__(self, account: str, hold_id: str) -> None:
        self.account = account
        self.hold_id = hold_id
        self.held = 0
        self.model: PriceModel | None = None

    async def _op(self, op: str, step: str, amount: int = 0, per_run: bool = False
                  ) -> dict[str, Any]:
        result: dict[str, Any] = await workflow.execute_activity_method(
            BillingActivities.ledger,
            LedgerOp(op=op, account=self.account, key=f"{self.hold_id}:{step}",
                     hold_id=self.hold_id, amount=amount, per_run=per_run),
            start_to_close_timeout=LEDGER_TIMEOUT, retry_policy=LEDGER_RETRY)
        return result

    async def reserve(self, price: Callable[[PriceModel], int]) -> int:
        """Hold what ``price`` estimates under the deployment's price model."""
        self.model = await workflow.execute_activity_method(
            BillingActivities.price_model, start_to_close_timeout=LEDGER_TIMEOUT,
            retry_policy=LEDGER_RETRY)
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
        return RenderCost(credits=int(entry["amount"]), gb_seconds=usage.gb_seconds,
                          estimate=self.held)

    async def release(self) -> None:
        await self._op("release", "release")

    def carry(self, usage: ComputeUsage | None) -> BillCarry:
        return BillCarry(account=self.account, hold_id=self.hold_id, held=self.held,
                         model=self.model, usage=usage)

    @classmethod
    def resume(cls, carried: BillCarry) -> tuple[Billing, ComputeUsage | None]:
        billing = cls(carried.account, carried.hold_id)
        billing.held, billing.model = carried.held, carried.model
        return billing, carried.usage


def creative_price(kind: str, creative: dict[str, Any]) -> Callable[[PriceModel], int]:
    """The estimate of one render of a creative: its length in frames (the same count the
    resolved timeline has) and presets for a video, its image count otherwise."""
    if kind == "video":
        video = parse_spec(creative)
        length = total_frames(video)
        return lambda model: estimate_video(length, FPS, video.presets, model)
    count = len(parse_image_spec(creative).jobs())
    return lambda model: estimate_images(count, model)


async def settle_all(bills: list[tuple[Billing, ComputeUsage | None]], *, capture: bool
                     ) -> tuple[int, int]:
    """Capture (with its usage) or release each hold; (credits charged, credits no longer
    held)."""
    charged = released = 0
    for billing, usage in bills:
        if capture and usage is not None:
            charged += (await billing.capture(usage)).credits
        else:
            await billing.release()
        released += billing.held
    return charged, released
