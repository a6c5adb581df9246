"""NoopWorkflow: one no-op activity, through Lambda or in the worker (benchmarks, probes)."""

from __future__ import annotations

from pydantic import BaseModel
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


@workflow.defn
class NoopWorkflow:
    @workflow.run
    async def run(self, params: NoopInput) -> NoopResult:
        if params.via == "lambda":
            return await dispatch(
                NOOP, params.request, params.dispatch, wait_for_cancellation=False
            )
        return await workflow.execute_activity(
            noop_in_worker,
            params.request,
            start_to_close_timeout=params.dispatch.start_to_close,
            retry_policy=retry_policy(params.dispatch),
        )
