"""One trace from the worker's dispatch through the function it started: the worker's
activity span (temporalio's TracingInterceptor) is the parent of the function's span, across
two processes and the Lambda emulator, with OpenTelemetry's own console exporter."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from orchestrator.workflows.noop import NoopInput, NoopWorkflow
from smm_local.stack import LocalStack
from smm_runtime.contract import TASK_QUEUE
from smm_runtime.contract.kinds import NoopRequest
from smm_runtime.temporal_conn import connect
from tests.integration.conftest import ARTIFACTS

pytestmark = pytest.mark.integration
CONSOLE = {"OTEL_TRACES_EXPORTER": "console"}


def spans(log: Path) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith('{"name"') and '"context"' in line:
            found.append(json.loads(line))
    return found


async def test_the_functions_span_continues_the_dispatchs_trace(tmp_path: Path) -> None:
    log_path = ARTIFACTS / "tracing-stack.log"
    with log_path.open("w") as log, LocalStack(state_dir=tmp_path, log=log,
                                               function_env=CONSOLE) as stack:
        stack.start_worker(CONSOLE)
        client = await connect(environ=stack.env())
        handle = await client.start_workflow(
            NoopWorkflow.run, NoopInput(via="lambda", request=NoopRequest(echo="echo-stays-out")),
            id=f"traced-{uuid.uuid4().hex[:8]}", task_queue=TASK_QUEUE)
        assert (await handle.result()).echo == "echo-stays-out"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the worker's batch of spans comes when it ends
            functions = [s for s in spans(log_path) if s["name"] == "function noop"
                         and s["attributes"].get("smm.workflow_id") == handle.id]
            if functions:
                break
            time.sleep(0.2)
    everything = spans(log_path)
    by_id = {s["context"]["span_id"]: s for s in everything}
    assert functions, "the function exported no span"
    function = functions[0]
    dispatch = by_id.get(function["parent_id"])
    assert dispatch is not None, "the function's parent span is not the worker's"
    assert dispatch["name"] == "RunActivity:dispatch_noop"
    assert dispatch["context"]["trace_id"] == function["context"]["trace_id"]
    assert dispatch["resource"]["attributes"]["service.name"] == "smm-worker"
    assert function["resource"]["attributes"]["service.name"] == "noop"
    assert function["attributes"]["smm.outcome"] == "completed"
    # Ids only: neither span carries the event, its task token or the request.
    for span in (dispatch, function):
        assert "token" not in json.dumps(span["attributes"]).lower()
        assert "echo-stays-out" not in json.dumps(span)  # nor the request
