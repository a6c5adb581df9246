"""GrantCreditsWorkflow: the monthly grant, started by a Temporal Schedule.

The grant's idempotency key is the account and the month the run was scheduled for, so a
schedule that fires twice (catch-up after an outage, a manual trigger) grants once a month.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from orchestrator.billing.holds import LEDGER_RETRY, LEDGER_TIMEOUT
    from orchestrator.billing.ledger_activities import BillingActivities
    from orchestrator.billing.pricing import LedgerOp
    from smm_runtime.contract.ownership import ACCOUNT_PATTERN


class GrantInput(BaseModel):
    account: str = Field(pattern=ACCOUNT_PATTERN)
    amount: int = Field(gt=0, le=10_000_000)
    period: str | None = Field(default=None, description="Override YYYY-MM (default: the run's).")


@workflow.defn
class GrantCreditsWorkflow:
    @workflow.run
    async def run(self, params: GrantInput) -> dict[str, object]:
        period = params.period or workflow.info().start_time.strftime("%Y-%m")
        result: dict[str, object] = await workflow.execute_activity_method(
            BillingActivities.ledger,
            LedgerOp(
                op="grant",
                account=params.account,
                amount=params.amount,
                key=f"grant:{params.account}:{period}",
            ),
            start_to_close_timeout=LEDGER_TIMEOUT,
            retry_policy=LEDGER_RETRY,
        )
        return result
