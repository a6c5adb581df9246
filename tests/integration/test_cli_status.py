"""`smm-engine status` answers for every workflow the product starts (a render answers its
progress, not a publish's status) and refuses clearly what it cannot answer."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid

import pytest
from temporalio.client import Client

from orchestrator.workflows.generate_image import GenerateImageWorkflow
from smm_local.stack import LocalStack
from smm_runtime.contract.workflow_io import GenerateImageInput

pytestmark = pytest.mark.integration


def status(stack: LocalStack, workflow_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestrator.cli", "status", workflow_id],
                          env={**os.environ, **stack.env()}, capture_output=True, text=True,
                          timeout=60)


async def test_status_of_an_image_render_and_of_nothing(
        client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]) -> None:
    handle = await client.start_workflow(
        GenerateImageWorkflow.run, GenerateImageInput(
            spec={"brand_kit": assets["brand_kit"], "template": "quote_card",
                  "props": {"quote": "Status, please", "author": "CLI"}},
            output_bucket=stack.bucket), id=f"img-{uuid.uuid4().hex[:8]}", task_queue=task_queue)
    await asyncio.wait_for(handle.result(), 120)
    # On a thread: this test's own event loop runs the worker that answers the query.
    done = await asyncio.to_thread(status, stack, handle.id)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["workflow_type"] == "GenerateImageWorkflow"
    assert answer["execution"] == "COMPLETED"
    assert answer["progress"]["images_done"] == answer["progress"]["images_total"] == 1
    missing = await asyncio.to_thread(status, stack, "no-such-workflow")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
