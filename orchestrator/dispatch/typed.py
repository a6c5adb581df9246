"""What every workflow uses to send work to a function: ``dispatch(kind, request, policy)``.

The result type follows from the kind (the table in ``smm_runtime.contract.kinds``), so a
workflow cannot ask a function for the wrong shape; so do the Web UI's line for the activity
and the cap pool whose permit it holds. Also here: the retry policy built from a
``DispatchPolicy``, and ``all_or_cancel`` for fan-outs.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from smm_runtime.contract.errors import INVALID_REQUEST, UNSAFE_MEDIA, UNSUPPORTED_CONTRACT
    from smm_runtime.contract.kinds import Kind, RequestT, ResultT
    from smm_runtime.contract.workflow_io import DispatchPolicy

if TYPE_CHECKING:
    from orchestrator.cap.permits import Permits

NON_RETRYABLE_TYPES = [INVALID_REQUEST, UNSAFE_MEDIA, UNSUPPORTED_CONTRACT]


def retry_policy(policy: DispatchPolicy) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(seconds=policy.initial_interval_s),
        backoff_coefficient=policy.backoff,
        maximum_interval=timedelta(seconds=policy.max_interval_s),
        maximum_attempts=policy.max_attempts,
        non_retryable_error_types=NON_RETRYABLE_TYPES,
    )


async def dispatch(
    kind: Kind[RequestT, ResultT],
    request: RequestT,
    policy: DispatchPolicy,
    *,
    permits: Permits | None = None,
    permit_id: str | None = None,
    wait_for_cancellation: bool = True,
    summary: str | None = None,
) -> ResultT:
    """Run ``request`` in the kind's function and return its result.

    With ``permits`` (the workflow's), a kind that has a cap pool waits for a permit of that
    pool named ``permit_id`` first and holds it until the function is done. With
    ``wait_for_cancellation`` (renders), a cancelled workflow ends only after the function
    confirms it stopped its work (FFmpeg killed, nothing half-written). ``summary`` is the
    Web UI's line for the activity (default: the kind's, from the request)."""
    if permits is not None and kind.pool is not None:
        assert permit_id is not None, "a capped dispatch names its permit"
        async with permits.permit(kind.pool, permit_id):
            return await dispatch(
                kind, request, policy, wait_for_cancellation=wait_for_cancellation, summary=summary
            )
    cancellation = (
        workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
        if wait_for_cancellation
        else workflow.ActivityCancellationType.TRY_CANCEL
    )
    result: ResultT = await workflow.execute_activity(
        kind.activity,
        request,
        result_type=kind.result,
        start_to_close_timeout=policy.start_to_close,
        heartbeat_timeout=policy.heartbeat_timeout,
        retry_policy=retry_policy(policy),
        cancellation_type=cancellation,
        summary=summary or kind.summary(request),
    )
    return result


async def all_or_cancel(tasks: list[asyncio.Future[Any]]) -> None:
    """Wait for all; on the first failure cancel the rest (no orphan renders), then raise."""
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


__all__ = ["NON_RETRYABLE_TYPES", "all_or_cancel", "dispatch", "retry_policy"]
