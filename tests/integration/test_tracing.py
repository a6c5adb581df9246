"""One trace from the worker's dispatch through the function it started: the worker's
activity span (temporalio's TracingInterceptor) is the parent of the function's span, across
two processes and the Lambda emulator, with OpenTelemetry's own console exporter — for a
Python function (the no-op) and for the Node image function."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from orchestrator.dispatch.noop import NoopInput, NoopWorkflow
from orchestrator.render.image import GenerateImageWorkflow
from smm_local.demo_assets import card_spec, upload_demo_assets
from smm_local.stack import LocalStack
from smm_runtime.contract import TASK_QUEUE
from smm_runtime.contract.kinds import NoopRequest
from smm_runtime.contract.workflow_io import GenerateImageInput
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


def child_of(
    everything: list[dict[str, Any]], name: str, workflow_id: str, dispatch: str
) -> dict[str, Any]:
    """The function span ``name`` of ``workflow_id``, checked to continue the worker's
    ``dispatch`` span (same trace, parent = that span); returns it."""
    by_id = {s["context"]["span_id"]: s for s in everything}
    functions = [
        s
        for s in everything
        if s["name"] == name and s["attributes"].get("smm.workflow_id") == workflow_id
    ]
    assert functions, f"no {name} span was exported"
    parent = by_id.get(functions[0]["parent_id"])
    assert parent is not None, f"{name}: its parent span is not the worker's"
    assert parent["name"] == dispatch
    assert parent["context"]["trace_id"] == functions[0]["context"]["trace_id"]
    assert parent["resource"]["attributes"]["service.name"] == "smm-worker"
    assert functions[0]["attributes"]["smm.outcome"] == "completed"
    return functions[0]


# A starter in its own process (as the trigger or the CLI): connect() with export configured,
# ended as the CLI ends (process_exit: spans flushed, then no interpreter teardown to abort).
STARTER = """
import asyncio, json, sys, uuid
from orchestrator.dispatch.noop import NoopInput, NoopWorkflow
from smm_runtime.contract import TASK_QUEUE
from smm_runtime.contract.kinds import NoopRequest
from smm_runtime.process_exit import run_and_exit
from smm_runtime.temporal_conn import connect

async def main():
    client = await connect(environ=json.loads(sys.argv[1]), service="smm-starter")
    handle = await client.start_workflow(
        NoopWorkflow.run, NoopInput(via="lambda", request=NoopRequest(echo="e")),
        id=f"started-{uuid.uuid4().hex[:8]}", task_queue=TASK_QUEUE)
    await handle.result()
    print("WORKFLOW", handle.id, flush=True)

run_and_exit(lambda: asyncio.run(main()))
"""


def start_traced(stack: LocalStack) -> tuple[str, list[dict[str, Any]]]:
    done = subprocess.run(
        [sys.executable, "-c", STARTER, json.dumps({**stack.env(), **CONSOLE})],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **CONSOLE},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    workflow_id = next(
        line.split()[1] for line in done.stdout.splitlines() if line.startswith("WORKFLOW ")
    )
    return workflow_id, [
        json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"name"')
    ]


async def test_the_functions_span_continues_the_dispatchs_trace(tmp_path: Path) -> None:
    log_path = ARTIFACTS / "tracing-stack.log"
    with (
        log_path.open("w") as log,
        LocalStack(state_dir=tmp_path, log=log, function_env=CONSOLE) as stack,
    ):
        stack.start_worker(CONSOLE)
        client = await connect(environ=stack.env())
        handle = await client.start_workflow(
            NoopWorkflow.run,
            NoopInput(via="lambda", request=NoopRequest(echo="echo-stays-out")),
            id=f"traced-{uuid.uuid4().hex[:8]}",
            task_queue=TASK_QUEUE,
        )
        assert (await handle.result()).echo == "echo-stays-out"
        uris = upload_demo_assets(stack.s3(), stack.bucket)
        image = await client.start_workflow(
            GenerateImageWorkflow.run,
            GenerateImageInput(spec=card_spec(uris), output_bucket=stack.bucket),
            id=f"traced-image-{uuid.uuid4().hex[:8]}",
            task_queue=TASK_QUEUE,
        )
        await image.result()
        started, starter_spans = start_traced(stack)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the worker's batch of spans comes when it ends
            exported = {
                (s["name"], s["attributes"].get("smm.workflow_id")) for s in spans(log_path)
            }
            if {
                ("function noop", handle.id),
                ("function render_image", image.id),
                ("function noop", started),
            } <= exported:
                break
            time.sleep(0.2)
    everything = spans(log_path)
    function = child_of(everything, "function noop", handle.id, "RunActivity:dispatch_noop")
    assert function["resource"]["attributes"]["service.name"] == "noop"
    node = child_of(everything, "function render_image", image.id, "RunActivity:dispatch_image")
    assert node["resource"]["attributes"]["service.name"] == "render-image"
    dispatch = next(s for s in everything if s["context"]["span_id"] == function["parent_id"])
    # Ids only: neither span carries the event, its task token or the request.
    for span in (dispatch, function):
        assert "token" not in json.dumps(span["attributes"]).lower()
        assert "echo-stays-out" not in json.dumps(span)  # nor the request

    # From the starter's request to the function, one trace: the starter's StartWorkflow span
    # (its own process) is the parent of the worker's RunWorkflow span.
    start = next(s for s in starter_spans if s["name"] == "StartWorkflow:NoopWorkflow")
    assert start["resource"]["attributes"]["service.name"] == "smm-starter"
    run = next(
        s
        for s in everything
        if s["name"] == "RunWorkflow:NoopWorkflow" and s["parent_id"] == start["context"]["span_id"]
    )
    assert run["resource"]["attributes"]["service.name"] == "smm-worker"
    begun = child_of(everything, "function noop", started, "RunActivity:dispatch_noop")
    assert begun["context"]["trace_id"] == start["context"]["trace_id"]
    assert run["context"]["trace_id"] == start["context"]["trace_id"]
