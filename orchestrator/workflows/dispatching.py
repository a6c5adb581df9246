"""What every workflow uses to send work to a function: ``dispatch(kind, request, policy)``.

The result type follows from the kind (the table in ``smm_runtime.contract.kinds``), so a
workflow cannot ask a function for the wrong shape. Also here: the retry policy built from a
``DispatchPolicy``, and ``all_or_cancel`` for fan-outs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from smm_runtime.contract.errors import INVALID_REQUEST, UNSAFE_MEDIA, UNSUPPORTED_CONTRACT
    from smm_runtime.contract.kinds import Kind, RequestT, ResultT
    from smm_runtime.contract.workflow_io import DispatchPolicy

NON_RETRYABLE_TYPES = [INVALID_REQUEST, UNSAFE_MEDIA, UNSUPPORTED_CONTRACT]


def retry_policy(policy: DispatchPolicy) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(seconds=policy.initial_interval_s),
        backoff_coefficient=policy.backoff,
        maximum_interval=timedelta(seconds=policy.max_interval_s),
        maximum_attempts=policy.max_attempts,
        non_retryable_error_types=NON_RETRYABLE_TYPES,
    )


# The line the Web UI shows for each dispatched activity (its summary), so the eight
# `dispatch_segment` rows of a render no longer look alike.
SUMMARIES: dict[str, Callable[[Any], str]] = {
    "render_segment": lambda r: f"segment · {r.preset} · frames {r.start_frame}-{r.end_frame}",
    "render_audio": lambda r: f"soundtrack · {r.total_frames} frames",
    "finalize_video": lambda r: f"join {r.preset} · {len(r.segments)} segments + poster"
    + (" + scenes" if r.sheet_frames else ""),
    "render_image": lambda r: f"image · {r.template} · {r.output.key.rsplit('/', 1)[-1]}",
    "postiz_upload": lambda r: f"upload to Postiz · {r.filename}",
    "import_asset": lambda r: f"import · {r.target.key.rsplit('/', 1)[-1]}",
    "noop": lambda r: "noop",
}


async def dispatch(kind: Kind[RequestT, ResultT], request: RequestT, policy: DispatchPolicy,
                   *, wait_for_cancellation: bool = True, summary: str | None = None
                   ) -> ResultT:
    """Run ``request`` in the kind's function and return its result.

    With ``wait_for_cancellation`` (renders), a cancelled workflow ends only after the function
    confirms it stopped its work (FFmpeg killed, nothing half-written). ``summary`` is the
    Web UI's line for the activity (default: from the request)."""
    cancellation = (workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
                    if wait_for_cancellation else workflow.ActivityCancellationType.TRY_CANCEL)
    result: ResultT = await workflow.execute_activity(
        kind.activity, request, result_type=kind.result,
        start_to_close_timeout=policy.start_to_close,
        heartbeat_timeout=policy.heartbeat_timeout,
        retry_policy=retry_policy(policy),
        cancellation_type=cancellation,
        summary=summary or SUMMARIES[kind.name](request),
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
