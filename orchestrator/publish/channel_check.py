"""The channel preflight from inside the publish workflow: which channels the account may
post to and which Postiz has (activities, retried), and the check of a creative against
them (deterministic)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from orchestrator.billing.ledger_activities import BillingActivities
    from orchestrator.publish.postiz import PostizPublisher
    from smm_runtime.account_channels import channel_refusal
    from smm_runtime.contract.errors import INVALID_REQUEST
    from smm_runtime.contract.preflight import Preflight, facts_of, preflight
    from smm_runtime.contract.publish_io import PublishInput
    from smm_runtime.contract.validation import ContractError


async def postiz_channels() -> dict[str, str]:
    """The Postiz organisation's channels: integration id -> provider."""
    return await workflow.execute_activity_method(
        PostizPublisher.postiz_channels,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5), maximum_attempts=20),
    )


async def account_may_post(account: str, integrations: list[str]) -> None:
    """Refuse (non-retryably, naming the channel) a channel the account may not post to:
    one Postiz organisation serves every account, so Postiz would take any of them."""
    allowed = await workflow.execute_activity_method(
        BillingActivities.account_channels,
        account,
        start_to_close_timeout=timedelta(seconds=20),
        retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=20),
    )
    denied = channel_refusal(account, integrations, None if allowed is None else frozenset(allowed))
    if denied is not None:
        raise ApplicationError(denied[1], type=INVALID_REQUEST, non_retryable=True)


def checked(
    params: PublishInput, creative: dict[str, Any], providers: dict[str, str] | None
) -> Preflight:
    """The preflight of this creative; a ContractError naming every refusal."""
    result = preflight(params.post, facts_of(params.creative.kind, creative), providers)
    if result.refusals:
        raise ContractError(
            "; ".join(str(r) for r in result.refusals),
            error_type=INVALID_REQUEST,
            field=result.refusals[0].field,
        )
    return result
