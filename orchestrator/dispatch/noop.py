"""NoopWorkflow: one no-op activity, through Lambda or in the worker (benchmarks, probes);
NoopFanOutWorkflow: many at once (the dispatch throughput bench)."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from orchestrator.dispatch.in_worker import noop_in_worker
    from orchestrator.dispatch.typed import dispatch, retry_policy
    from smm_runtime.contract.kinds import NOOP, NoopRequest, NoopResult
    from smm_runtime.contract.workflow_io import DispatchPolicy


class NoopInput(BaseModel):
    request: NoopRequest = NoopRequest()
    via: str = "lambda"  # "lambda" (dispatch) or "worker" (in-worker activity)
    dispatch: DispatchPolicy = DispatchPolicy()


async def one_noop(params: NoopInput) -> NoopResult:
    """The no-op activity, through Lambda (dispatch) or in the worker (in the workflow)."""
    if params.via == "lambda":
        return await dispatch(NOOP, params.request, params.dispatch, wait_for_cancellation=False)
    return await workflow.execute_activity(
        noop_in_worker,
        params.request,
        start_to_close_timeout=params.dispatch.start_to_close,
        retry_policy=retry_policy(params.dispatch),
    )


@workflow.defn
class NoopWorkflow:
    @workflow.run
    async def run(self, params: NoopInput) -> NoopResult:
        return await one_noop(params)


class NoopFanOutInput(BaseModel):
    count: int = Field(default=50, ge=1, le=1000)
    via: str = "lambda"
    request: NoopRequest = NoopRequest()
    dispatch: DispatchPolicy = DispatchPolicy()


@workflow.defn
class NoopFanOutWorkflow:
    """``count`` no-op activities at once, as a render fans out its segments: what the worker
    spends per dispatched activity, with a workflow's own tasks shared among many (bench)."""

    @workflow.run
    async def run(self, params: NoopFanOutInput) -> int:
        one = NoopInput(request=params.request, via=params.via, dispatch=params.dispatch)
        done = await asyncio.gather(*(one_noop(one) for _ in range(params.count)))
        return len(done)
