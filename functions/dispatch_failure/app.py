"""Lambda on-failure destination: fail the activity at once when a function died.

Lambda sends here the record of an async invocation that failed outside our code — a timeout,
running out of memory, a crash of the runtime. The event inside still carries the task token,
so the activity fails now with the Lambda error (and Temporal retries it) instead of waiting
for the heartbeat timeout to notice the silence.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from smm_runtime.contract.errors import FUNCTION_ERROR
from smm_runtime.contract.events import extract_task_token
from smm_runtime.lambda_entry import lambda_entry
from smm_runtime.temporal_conn import CachedClient

logger = Logger(service="dispatch-failure")
tracer = Tracer(service="dispatch-failure")  # X-Ray; off locally (POWERTOOLS_TRACE_DISABLED)
_loop = asyncio.new_event_loop()  # kept across warm invocations, with the client
_clients = CachedClient()


def function_name(arn: str) -> str:
    """The function's name in the record's ARN, which Lambda qualifies with the version
    (``arn:aws:lambda:<region>:<account>:function:<name>:$LATEST``)."""
    parts = arn.split(":")
    return parts[6] if len(parts) > 6 and parts[5] == "function" else arn or "?"


async def _fail(record: dict[str, Any]) -> str:
    token = extract_task_token(record.get("requestPayload"))
    if token is None:
        logger.warning("failure record without a task token: nothing to report")
        return "ignored"
    context = record.get("requestContext") or {}
    function = function_name(str(context.get("functionArn", "")))
    if context.get("condition") == "EventAgeExceeded":
        # Queued past MaximumEventAgeInSeconds (throttled at the function's concurrency):
        # it may never have run. Retryable, as a timeout is.
        error_type = "EventAgeExceeded"
        detail = (
            f"the event waited past its maximum age and was not run again "
            f"(invoked {context.get('approximateInvokeCount', 0)} time(s))"
        )
    else:
        response = record.get("responsePayload") or {}
        error_type = str(response.get("errorType") or "Unknown")
        detail = str(response.get("errorMessage", ""))
    message = f"{function} failed: {error_type}: {detail}"[:1000]
    client = await _clients.get()
    try:
        await client.get_async_activity_handle(task_token=token).fail(
            ApplicationError(message, type=FUNCTION_ERROR)
        )  # retryable: Temporal decides
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return "stale"  # the attempt was already over
    logger.info(
        "activity failed on behalf of a dead function",
        extra={"function": function, "error_type": error_type},
    )
    return "failed"


def _handle(event: dict[str, Any], context: Any) -> dict[str, str]:
    return {"outcome": _loop.run_until_complete(_fail(event))}


# The record's requestPayload carries a task token: lambda_entry never logs the event.
lambda_handler = lambda_entry(logger, tracer, _handle)
