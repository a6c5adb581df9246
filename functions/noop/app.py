"""Lambda handler that does nothing but the protocol: for benchmarks and protocol tests."""

from __future__ import annotations

import time

from aws_lambda_powertools import Logger, Tracer

from smm_runtime.contract.kinds import NOOP, NoopRequest, NoopResult
from smm_runtime.lambda_entry import lambda_entry
from smm_runtime.runner import ActivityRunner
from smm_runtime.work import WorkContext

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


lambda_handler = lambda_entry(logger, tracer, runner.handler({NOOP: lambda: noop}))
