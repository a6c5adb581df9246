"""No task token, API key, HMAC secret or payload key in any log of a full run.

The run: a video render (segment, audio and finalize functions), an image (the Node
function), a no-op (the protocol function) and signed trigger API calls, through an
in-process worker whose Lambda client records every task token it hands out. Then every
line the stack wrote (Temporal, moto, the emulator with all function output, the API
doubles, worker processes), this process's log records and its stdout/stderr are searched.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from orchestrator.dispatch.noop import NoopInput, NoopWorkflow
from orchestrator.render.image import GenerateImageWorkflow
from orchestrator.worker import build_worker, lambda_client
from smm_local.principals import WORKER
from smm_local.stack import LocalStack
from smm_runtime.contract.kinds import NoopRequest
from smm_runtime.contract.workflow_io import GenerateImageInput
from tests.integration.conftest import ARTIFACTS, start, video_spec, worker_settings
from tests.integration.test_trigger_api import call

pytestmark = pytest.mark.integration


class RecordingLambda:
    """The real boto3 Lambda client, noting the task token of every event it sends."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.tokens: list[str] = []

    def invoke(self, **kwargs: Any) -> Any:
        event = json.loads(kwargs["Payload"])
        self.tokens.append(event["task_token"])
        return self._inner.invoke(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def forms(secret: str) -> set[str]:
    """A secret as it could show up in a log: as is, and a token's other encodings."""
    found = {secret}
    try:
        raw = base64.b64decode(secret, validate=True)
    except ValueError:
        return found
    found |= {raw.hex(), base64.urlsafe_b64encode(raw).decode(), repr(raw)[2:-1][:60]}
    return {f for f in found if len(f) >= 12}


async def test_no_secret_reaches_any_log_of_a_full_run(
    client: Client,
    stack: LocalStack,
    assets: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    queue = f"tq-{uuid.uuid4()}"
    settings = worker_settings(stack, queue)
    recorder = RecordingLambda(lambda_client(settings))
    async with build_worker(client, settings, recorder, stack.s3(WORKER)):
        render = await start(client, stack, queue, video_spec(assets))
        image = await client.start_workflow(
            GenerateImageWorkflow.run,
            GenerateImageInput(
                spec={
                    "brand_kit": assets["brand_kit"],
                    "template": "quote_card",
                    "props": {"quote": "Logs", "author": "Ops"},
                },
                output_bucket=stack.bucket,
            ),
            id=f"img-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        noop = await client.start_workflow(
            NoopWorkflow.run,
            NoopInput(request=NoopRequest(echo="x")),
            id=f"noop-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        await asyncio.wait_for(asyncio.gather(render.result(), image.result(), noop.result()), 300)
    status, _ = call(stack, "GET", f"/v1/workflows/{render.id}")
    assert status in (200, 404)  # a signed request went through the HMAC check
    assert call(stack, "GET", f"/v1/workflows/{render.id}", secret="wrong")[0] == 401

    assert len(recorder.tokens) >= 5  # segments, audio, finalize, image, noop
    keys = json.loads(stack.env()["SMM_PAYLOAD_KEYS"])["keys"].values()
    secrets = {
        "task token": recorder.tokens,
        "API key": [stack.postiz_key, stack.payload_key],
        "HMAC secret": [stack.trigger_secret],
        "payload key": list(keys),
    }
    out, err = capfd.readouterr()
    logs = {
        "stack log": (ARTIFACTS / "integration-stack.log").read_text(errors="replace"),
        "log records": "\n".join(
            r.getMessage() + " " + json.dumps(r.__dict__, default=str) for r in caplog.records
        ),
        "stdout": out,
        "stderr": err,
    }
    assert len(logs["stack log"]) > 1000  # the functions did log, to this file
    for what, values in secrets.items():
        for value in values:
            for form in forms(value):
                for where, text in logs.items():
                    at = text.find(form)
                    assert at < 0, f"a {what} appears in the {where}: {text[max(0, at - 300) : at]}"


def test_the_stack_log_is_where_the_functions_write(stack: LocalStack) -> None:
    # Guards the test above: were function output to go elsewhere, it would search nothing.
    text = Path(ARTIFACTS / "integration-stack.log").read_text(errors="replace")
    assert '"function_name"' in text or "RenderSegmentFunction" in text
