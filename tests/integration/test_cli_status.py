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

from orchestrator.render.image import GenerateImageWorkflow
from smm_local.stack import LocalStack
from smm_runtime.contract.workflow_io import GenerateImageInput

pytestmark = pytest.mark.integration


def cli(stack: LocalStack, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *argv],
        env={**os.environ, **stack.env(), **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


def status(stack: LocalStack, workflow_id: str, **env: str) -> subprocess.CompletedProcess[str]:
    return cli(stack, "status", workflow_id, **env)


async def test_status_of_an_image_render_and_of_nothing(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    handle = await client.start_workflow(
        GenerateImageWorkflow.run,
        GenerateImageInput(
            spec={
                "brand_kit": assets["brand_kit"],
                "template": "quote_card",
                "props": {"quote": "Status, please", "author": "CLI"},
            },
            output_bucket=stack.bucket,
        ),
        id=f"img-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )
    await asyncio.wait_for(handle.result(), 120)
    # On a thread: this test's own event loop runs the worker that answers the query.
    done = await asyncio.to_thread(status, stack, handle.id)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["workflow_type"] == "GenerateImageWorkflow"
    assert answer["execution"] == "COMPLETED"
    assert answer["progress"]["images_done"] == answer["progress"]["images_total"] == 1
    assert answer["web_ui"] is None  # no Web UI configured: no link, rather than a dead one
    linked = await asyncio.to_thread(
        status, stack, handle.id, SMM_WEB_UI_URL="https://temporal.example.com/"
    )
    assert json.loads(linked.stdout)["web_ui"] == (
        f"https://temporal.example.com/namespaces/smm-hub-core/workflows/{handle.id}"
    )
    missing = await asyncio.to_thread(status, stack, "no-such-workflow")
    assert missing.returncode == 1 and "does not exist" in missing.stderr


async def test_watch_follows_a_render_to_the_end_and_list_finds_it(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    from orchestrator.render.video import RenderVideoWorkflow
    from smm_runtime.contract.workflow_io import RenderVideoInput
    from tests.integration.conftest import video_spec

    handle = await client.start_workflow(
        RenderVideoWorkflow.run,
        RenderVideoInput(
            spec=video_spec(
                assets,
                presets=["9:16", "1:1"],
                scenes=[{"duration_s": 6, "background": {"type": "solid", "color": "primary"}}],
            ),
            output_bucket=stack.bucket,
        ),
        id=f"render-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )
    watched = await asyncio.to_thread(cli, stack, "watch", handle.id, "--json")
    assert watched.returncode == 0, watched.stderr
    states = [json.loads(line) for line in watched.stdout.splitlines()]
    assert states[-1]["execution"] == "COMPLETED"
    rendering = [s["render"] for s in states if s.get("render")]
    assert rendering and rendering[0]["unit"] == "segments" and rendering[0]["total"] >= 2
    done = [r["done"] for r in rendering]
    assert done == sorted(done)  # never backwards
    # A bar per format: each preset's own segments, done of total, never backwards.
    for preset in ("9:16", "1:1"):
        counts = [r["presets"][preset] for r in rendering if preset in r.get("presets", {})]
        assert counts and all(d <= t for d, t in counts), counts
        assert [d for d, _ in counts] == sorted(d for d, _ in counts)
    assert sum(t for _, t in rendering[-1]["presets"].values()) == rendering[-1]["total"]
    text = await asyncio.to_thread(cli, stack, "watch", handle.id)  # over: one final line
    assert text.returncode == 0 and "COMPLETED" in text.stdout
    rows: list[dict[str, str]] = []
    for _ in range(20):  # the visibility store follows a moment behind
        listed = await asyncio.to_thread(
            cli, stack, "list", "--kind", "video", "--stage", "done", "--json"
        )
        assert listed.returncode == 0, listed.stderr
        rows = json.loads(listed.stdout)
        if any(r["workflow_id"] == handle.id for r in rows):
            break
        await asyncio.sleep(0.5)
    assert any(r["workflow_id"] == handle.id for r in rows)
    missing = await asyncio.to_thread(cli, stack, "watch", "no-such-workflow")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    bad = await asyncio.to_thread(cli, stack, "list", "--stage", "awaiting approval")
    assert bad.returncode == 2 and bad.stderr.startswith("error: --stage:")
