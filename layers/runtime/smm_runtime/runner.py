"""The activity-runner wrapper every Python function uses.

It turns one dispatch event into exactly one of: complete(result), fail(typed error),
report_cancellation(), or a stop when the attempt is no longer live or cannot be reported
to. While the work runs in a thread it heartbeats the latest progress, which is also how it
learns of cancellation. Heartbeat answers are classified: NotFound (the attempt is over) and
a refusal that retrying cannot change (unauthenticated, permission denied, invalid argument)
stop the work at once, as does going a whole heartbeat timeout without one heartbeat getting
through (the server has timed the attempt out by then); anything else is a passing fault.
Every call to the server has its own deadline, and deliveries stop trying before Lambda
would end the invocation. The task token is a bearer capability: it is never logged.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel
from temporalio.client import AsyncActivityCancelledError, AsyncActivityHandle
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from smm_runtime.activity_metrics import emit_activity_metrics
from smm_runtime.claims import DuplicateDeliveryError
from smm_runtime.contract.errors import (
    FUNCTION_ERROR,
    INVALID_REQUEST,
    WorkCancelledError,
    WorkError,
)
from smm_runtime.contract.events import extract_task_token, parse_event
from smm_runtime.contract.kinds import Kind
from smm_runtime.contract.validation import ContractError
from smm_runtime.temporal_conn import CachedClient
from smm_runtime.tracing import configure as configure_tracing
from smm_runtime.tracing import invocation_span
from smm_runtime.work import LambdaContextLike, LambdaHandler, LazyWorks, Work, WorkContext

DEFAULT_HEARTBEAT_INTERVAL_S = 5.0
DEFAULT_DELIVER_WINDOW_S = 120.0
# UNKNOWN is not here: it is what the server answers for a garbled task token.
TRANSIENT_STATUSES = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.ABORTED,
        RPCStatusCode.INTERNAL,
    }
)
# Answers no retry can change: the key was revoked or rotated, the token is not one.
REFUSED_STATUSES = frozenset(
    {
        RPCStatusCode.UNAUTHENTICATED,
        RPCStatusCode.PERMISSION_DENIED,
        RPCStatusCode.INVALID_ARGUMENT,
        RPCStatusCode.UNKNOWN,
    }
)
# The answers to a key that is not (or no longer) valid: the one worth reading the key again.
KEY_REFUSED = frozenset({RPCStatusCode.UNAUTHENTICATED, RPCStatusCode.PERMISSION_DENIED})
RPC_TIMEOUT = timedelta(seconds=10)  # each call to the server; a hung one is retried
LAMBDA_MARGIN_S = 3.0  # stop delivering this long before the invocation would be killed


def _ms_since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 2)


def _is_not_found(err: BaseException) -> bool:
    return isinstance(err, RPCError) and err.status == RPCStatusCode.NOT_FOUND


class ActivityRunner:
    """Owns the long-lived event loop and Temporal client of one function process."""

    def __init__(
        self,
        logger: Logger,
        *,
        heartbeat_interval_s: float | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._logger = logger
        env = os.environ if environ is None else environ
        configure_tracing(str(getattr(logger, "service", "") or "smm-function"), env)
        self._interval = heartbeat_interval_s or float(
            env.get("SMM_HEARTBEAT_INTERVAL_S", DEFAULT_HEARTBEAT_INTERVAL_S)
        )
        self._deliver_window = float(env.get("SMM_DELIVER_WINDOW_S", DEFAULT_DELIVER_WINDOW_S))
        self._environ = environ
        self._loop = asyncio.new_event_loop()
        self._clients = CachedClient()
        self._result: BaseModel | None = None
        self._lambda_deadline = float("inf")  # monotonic; this invocation's end
        self._heartbeat_timeout_s: float | None = None
        self._last_beat = 0.0  # monotonic; the last heartbeat the server took
        self._phases: dict[str, float] = {}  # where the time went (ms), logged at the end

    def handler(self, works: Mapping[Kind[Any, Any], Callable[[], Work]]) -> LambdaHandler:
        """A Lambda handler serving the kinds of ``works`` (kind -> factory of its work, built
        on first use and kept warm); ``handler.kinds`` names them, so a test can hold every
        function in template.yaml against the table of kinds."""
        table = LazyWorks({kind.name: factory for kind, factory in works.items()})

        def handle(event: dict[str, Any], context: LambdaContextLike) -> dict[str, str]:
            return self.handle(event, context, table)

        handle.kinds = tuple(table)  # type: ignore[attr-defined]
        return handle

    def handle(
        self, raw_event: object, context: LambdaContextLike, works: Mapping[str, Work]
    ) -> dict[str, str]:
        """Run one event to its end; returns a small summary (never the token) for Lambda."""
        started = time.monotonic()
        self._result = None
        self._lambda_deadline = started + context.get_remaining_time_in_millis() / 1000
        with invocation_span(raw_event) as span:
            outcome = self._loop.run_until_complete(self._run(raw_event, context, works))
            span.set_attribute("smm.outcome", outcome)
        kind = raw_event.get("kind") if isinstance(raw_event, dict) else None
        emit_activity_metrics(
            str(kind or "unknown"), outcome, time.monotonic() - started, self._result
        )
        return {"outcome": outcome}

    async def _run(self, raw: object, context: LambdaContextLike, works: Mapping[str, Work]) -> str:
        token = extract_task_token(raw)
        if token is None:
            # Nobody to report to: Temporal will notice through the heartbeat timeout.
            self._logger.error("event rejected: it has no valid base64 task_token")
            return "rejected"
        client = await self._clients.get(self._environ)
        handle = client.get_async_activity_handle(task_token=token)
        try:
            event = parse_event(raw)
        except ContractError as err:
            self._logger.warning("event rejected", extra={"error": str(err), "field": err.field})
            await self._fail(
                handle, ApplicationError(str(err), type=err.error_type, non_retryable=True)
            )
            return "invalid"
        self._logger.append_keys(
            workflow_id=event.workflow_id,
            activity_id=event.activity_id,
            kind=event.kind,
            attempt=event.attempt,
        )
        self._heartbeat_timeout_s = event.heartbeat_timeout_s
        self._last_beat = time.monotonic()
        work = works.get(event.kind)
        if work is None:
            await self._fail(
                handle,
                ApplicationError(
                    f"kind: this function handles {sorted(works)}, not {event.kind!r}; "
                    "check the dispatch target in the worker configuration",
                    type=INVALID_REQUEST,
                    non_retryable=True,
                ),
            )
            return "invalid"
        ctx = WorkContext(
            workflow_id=event.workflow_id,
            activity_id=event.activity_id,
            attempt=event.attempt,
            checkpoint=event.heartbeat_details,
            memory_mb=int(context.memory_limit_in_mb),
        )
        if event.heartbeat_details:
            ctx.report(**event.heartbeat_details)
        # Heartbeat before spending compute: a stale or cancelled attempt stops here.
        started = time.monotonic()
        first = await self._heartbeat(handle, ctx)
        self._phases = {"first_heartbeat_ms": _ms_since(started)}
        if first != "live":
            return await self._finish_without_result(handle, first)
        return await self._supervise(handle, ctx, work, event.request)

    async def _supervise(
        self, handle: AsyncActivityHandle, ctx: WorkContext, work: Work, request: Any
    ) -> str:
        loop = asyncio.get_running_loop()
        work_started = time.monotonic()
        future = loop.run_in_executor(None, work, request, ctx)
        state = "live"
        while not future.done():
            await asyncio.wait({future}, timeout=self._interval)
            if future.done():
                break
            if state == "live":
                state = await self._heartbeat(handle, ctx)
                if state != "live":
                    ctx.cancel()
        try:
            result = await future
        except WorkCancelledError:
            if ctx.abandoned is not None and state == "live":
                # Stopped by the work itself (its claim was taken over), not by Temporal.
                await self._fail(handle, ctx.abandoned.to_application_error(), ctx.details())
                return "failed"
            return await self._finish_without_result(
                handle, state if state != "live" else "cancelled"
            )
        except DuplicateDeliveryError:
            # The other copy holds the same task token and will complete the activity.
            self._logger.info("a copy of this event is already being worked on; stopping")
            return "duplicate"
        except WorkError as err:
            self._logger.warning(
                "work failed", extra={"error_type": err.error_type, "error": str(err)}
            )
            await self._fail(handle, err.to_application_error(), ctx.details())
            return "failed"
        except Exception as err:
            self._logger.exception("work crashed")
            await self._fail(
                handle,
                ApplicationError(f"{type(err).__name__}: {err}", type=FUNCTION_ERROR),
                ctx.details(),
            )
            return "failed"
        if state in {"stale", "refused"}:
            return state
        self._result = result
        self._phases["work_ms"], started = _ms_since(work_started), time.monotonic()
        try:
            await self._deliver(lambda: handle.complete(result, rpc_timeout=RPC_TIMEOUT))
        except RPCError as err:
            if _is_not_found(err):
                self._logger.info("result not delivered: the attempt is no longer live")
                return "stale"
            raise
        self._phases["complete_ms"] = _ms_since(started)
        self._logger.info("completed", extra=self._phases)
        return "completed"

    async def _deliver(self, send: Callable[[], Awaitable[None]]) -> None:
        """Send a completion or failure, riding out a Temporal server restart.

        The result is expensive (a finished render) and the server may be down for a few
        seconds; retrying here is far cheaper than letting the attempt time out and redo it.
        """
        delay = 0.5
        deadline = min(
            time.monotonic() + self._deliver_window, self._lambda_deadline - LAMBDA_MARGIN_S
        )
        rekeyed = False
        while True:
            try:
                await send()
                return
            except RPCError as err:
                if err.status in KEY_REFUSED and not rekeyed:
                    rekeyed = True  # once: a key that is refused again stays refused
                    if await self._clients.rekey(self._environ):
                        self._logger.warning("Temporal refused the key; retrying with the new")
                        continue
                if err.status not in TRANSIENT_STATUSES or time.monotonic() + delay > deadline:
                    raise
                self._logger.warning(
                    "delivery to Temporal failed; retrying", extra={"status": err.status.name}
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _heartbeat(
        self, handle: AsyncActivityHandle, ctx: WorkContext, rekeyed: bool = False
    ) -> str:
        try:
            await handle.heartbeat(ctx.details(), rpc_timeout=RPC_TIMEOUT)
        except AsyncActivityCancelledError:
            self._logger.info("cancellation requested")
            return "cancelled"
        except RPCError as err:
            if _is_not_found(err):
                self._logger.info("attempt is no longer live (NotFound); stopping quietly")
                return "stale"
            if (
                err.status in KEY_REFUSED
                and not rekeyed
                and await self._clients.rekey(self._environ)
            ):
                # The key was rotated and the old one revoked: the work goes on, on the new.
                self._logger.warning("Temporal refused the key; heartbeating with the new")
                return await self._heartbeat(handle, ctx, rekeyed=True)
            if err.status in REFUSED_STATUSES:
                # No retry changes this answer; the next invocation connects anew (a
                # rotated key is read again) while the attempt times out and is retried.
                self._logger.error(
                    "Temporal refused the heartbeat; stopping the work",
                    extra={"status": err.status.name},
                )
                self._clients.invalidate()
                return "refused"
            silent = time.monotonic() - self._last_beat
            if self._heartbeat_timeout_s and silent > self._heartbeat_timeout_s:
                self._logger.warning(
                    "no heartbeat got through for a whole heartbeat "
                    "timeout: the attempt has timed out; stopping",
                    extra={"status": err.status.name, "silent_s": silent},
                )
                return "stale"
            # A passing server fault: keep working, the next beat may get through.
            self._logger.warning("heartbeat failed", extra={"status": err.status.name})
            return "live"
        self._last_beat = time.monotonic()
        return "live"

    async def _finish_without_result(self, handle: AsyncActivityHandle, state: str) -> str:
        if state == "refused":
            return "refused"
        if state == "cancelled":
            try:
                await handle.report_cancellation(rpc_timeout=RPC_TIMEOUT)
            except RPCError as err:
                if not _is_not_found(err):
                    raise
            return "cancelled"
        return "stale"

    async def _fail(
        self,
        handle: AsyncActivityHandle,
        error: ApplicationError,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        try:
            await self._deliver(
                lambda: handle.fail(
                    error,
                    last_heartbeat_details=[dict(details)] if details else [],
                    rpc_timeout=RPC_TIMEOUT,
                )
            )
        except RPCError as err:
            if not _is_not_found(err):
                raise
            self._logger.info("failure not delivered: the attempt is no longer live")
