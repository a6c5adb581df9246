"""Lambda handler that does nothing but the protocol: for benchmarks and protocol tests."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Tracer

from smm_runtime.contracts import NoopRequest, NoopResult
from smm_runtime.runner import ActivityRunner, LambdaContextLike, WorkContext

logger = Logger(service="noop")
tracer = Tracer(service="noop")  # X-Ray; off locally (POWERTOOLS_TRACE_DISABLED)
runner = ActivityRunner(logger)
_cold = True


def noop(request: NoopRequest, ctx: WorkContext) -> NoopResult:
    global _cold
    cold, _cold = _cold, False
    deadline = time.monotonic() + request.sleep_ms / 1000
    while time.monotonic() < deadline:
        ctx.raise_if_cancelled()
        ctx.wait_cancelled(min(0.05, max(0.0, deadline - time.monotonic())))
    ctx.raise_if_cancelled()
    return NoopResult(echo=request.echo, cold_start=cold)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContextLike) -> dict[str, str]:
    return runner.handle(event, context, {"noop": noop})
