"""NoopWorkflow: one no-op activity, through Lambda or in the worker (benchmarks, probes)."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from orchestrator.workflows.render_video import retry_policy
    from smm_runtime.contracts import NoopRequest, NoopResult
    from smm_runtime.workflow_io import DispatchPolicy


class NoopInput(BaseModel):
    request: NoopRequest = NoopRequest()
    via: str = "lambda"  # "lambda" (dispatch) or "worker" (in-worker activity)
    dispatch: DispatchPolicy = DispatchPolicy()


@workflow.defn
class NoopWorkflow:
    @workflow.run
    async def run(self, params: NoopInput) -> NoopResult:
        name = "dispatch_noop" if params.via == "lambda" else "noop_in_worker"
        result: NoopResult = await workflow.execute_activity(
            name, params.request, result_type=NoopResult,
            start_to_close_timeout=params.dispatch.start_to_close,
            heartbeat_timeout=params.dispatch.heartbeat_timeout if params.via == "lambda" else None,
            retry_policy=retry_policy(params.dispatch),
        )
        return result

