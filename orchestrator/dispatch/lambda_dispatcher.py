"""Dispatch activities: build the event, invoke the function asynchronously, complete async.

Nothing else happens here. One activity per kind in the table of kinds
(``smm_runtime.contract.kinds``). The function reports back by task token; the worker holds
no thread or memory for the render while it runs, so one small worker can keep thousands of
renders in flight.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from orchestrator.executors import on_aws
from smm_runtime import tracing
from smm_runtime.contract.errors import DISPATCH_ERROR
from smm_runtime.contract.events import build_event
from smm_runtime.contract.kinds import KINDS, Kind

ASYNC_PAYLOAD_LIMIT = 1024 * 1024  # Lambda's limit for Event invocations
# A deployment problem, not a transient one: retrying cannot make the function appear.
NON_RETRYABLE_INVOKE_ERRORS = frozenset(
    {
        "ResourceNotFoundException",
        "RequestEntityTooLargeException",
        "InvalidRequestContentException",
        "AccessDeniedException",
    }
)


class LambdaDispatcher:
    """The dispatch activities, bound to one boto3 Lambda client and a kind name -> deployed
    function name map."""

    def __init__(
        self, lambda_client: Any, functions: Mapping[str, str], counters: Any | None = None
    ) -> None:
        self._lambda = lambda_client
        self._functions = dict(functions)
        self._counters = counters  # orchestrator.health.DispatchCounters, when exposed

    def activities(self) -> list[Callable[..., Any]]:
        """One activity per kind, named as the table says (histories record the names)."""
        return [self._activity(kind) for kind in KINDS]

    def _activity(self, kind: Kind[Any, Any]) -> Callable[..., Any]:
        async def dispatch(request: Any) -> Any:
            await self._dispatch(kind, request)  # raises CompleteAsyncError: never returns

        # The SDK reads the annotations to decode the request into the kind's model.
        dispatch.__annotations__ = {"request": kind.request, "return": kind.result}
        dispatch.__name__ = dispatch.__qualname__ = kind.activity
        return activity.defn(name=kind.activity)(dispatch)

    async def _dispatch(self, kind: Kind[Any, Any], request: BaseModel) -> None:
        info = activity.info()
        checkpoint = info.heartbeat_details[0] if info.heartbeat_details else None
        event = build_event(
            kind,
            request,
            task_token=info.task_token,
            workflow_id=info.workflow_id or "",
            run_id=info.workflow_run_id or "",
            activity_id=info.activity_id,
            attempt=info.attempt,
            heartbeat_details=checkpoint if isinstance(checkpoint, dict) else None,
            heartbeat_timeout_s=info.heartbeat_timeout.total_seconds()
            if info.heartbeat_timeout
            else None,
            trace=tracing.carrier(),
        )  # the function's span continues this activity's trace
        payload = event.model_dump_json().encode()
        if len(payload) > ASYNC_PAYLOAD_LIMIT:
            raise ApplicationError(
                f"request: the {kind.name} event is {len(payload)} bytes, over Lambda's "
                f"{ASYNC_PAYLOAD_LIMIT}-byte async limit; pass S3 keys, not media bytes",
                type=DISPATCH_ERROR,
                non_retryable=True,
            )
        function = self._functions[kind.name]
        started = time.monotonic()
        try:
            await self._invoke(function, payload)
        except ApplicationError:
            if self._counters is not None:
                self._counters.add(kind.name, "error")
            raise
        if self._counters is not None:
            self._counters.add(kind.name, "dispatched")
        activity.logger.info(
            "dispatched %s to %s",
            kind.name,
            function,
            extra={"invoke_ms": round((time.monotonic() - started) * 1000, 2)},
        )
        activity.raise_complete_async()

    async def _invoke(self, function: str, payload: bytes) -> None:
        try:
            response = await on_aws(
                self._lambda.invoke, FunctionName=function, InvocationType="Event", Payload=payload
            )
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "Unknown")
            raise ApplicationError(
                f"invoking {function} failed: {code}",
                type=DISPATCH_ERROR,
                non_retryable=code in NON_RETRYABLE_INVOKE_ERRORS,
            ) from None
        except BotoCoreError as err:
            raise ApplicationError(
                f"invoking {function} failed: {type(err).__name__}", type=DISPATCH_ERROR
            ) from None
        if response.get("StatusCode") != 202:
            raise ApplicationError(
                f"invoking {function} returned status {response.get('StatusCode')}, not 202",
                type=DISPATCH_ERROR,
            )
