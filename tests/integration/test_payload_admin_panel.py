"""The admin's status panel (infra/payload/app/engine-status.mjs), run as Payload's admin runs
it — a server component rendered by react-dom/server — against the whole stack: while a
publish renders, it shows the render's live progress read through the signed trigger API, and
then the stage the publish moved on to."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client

from smm_local.postiz_double import CHANNEL_SETTINGS
from smm_local.stack import LocalStack
from tests.integration.conftest import video_spec
from tests.integration.test_trigger_api import call, default_queue_worker

pytestmark = pytest.mark.integration
__all__ = ["default_queue_worker"]  # the module fixture, shared
APP = Path(__file__).resolve().parents[2] / "infra" / "payload" / "app"
RENDER = """
import { renderToStaticMarkup } from 'react-dom/server';
import { EngineStatus } from './engine-status.mjs';
const [data, trigger] = JSON.parse(process.argv[1]);
console.log(renderToStaticMarkup(await EngineStatus({ data, trigger })));
"""


def panel(stack: LocalStack, workflow_id: str) -> str:
    """The markup the admin shows for a document whose last report was `rendering`."""
    args = [
        {"engineStage": "rendering", "engineWorkflowId": workflow_id},
        {"url": stack.trigger_url, "secret": stack.trigger_secret},
    ]
    done = subprocess.run(
        ["node", "--input-type=module", "-e", RENDER, json.dumps(args)],
        cwd=APP,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


async def test_the_panel_shows_live_render_progress_then_the_next_stage(
    stack: LocalStack, client: Client, assets: dict[str, str], default_queue_worker: None
) -> None:
    doc = f"doc{uuid.uuid4().hex[:8]}"
    # Long enough (twelve one-second segments) to be seen rendering several times.
    spec = video_spec(
        assets,
        scenes=[
            {
                "duration_s": 12,
                "background": {"type": "gradient", "from_color": "primary", "to_color": "accent"},
                "texts": [{"text": "Progress", "animation": "slide_up"}],
            }
        ],
    )
    status, started = call(
        stack,
        "POST",
        "/v1/publish",
        {
            "collection": "posts",
            "doc_id": doc,
            "creative": {"kind": "video", "spec": spec},
            "post": {
                "content": "Rendering, watched from the admin",
                "integrations": ["x-1"],
                "channel_settings": CHANNEL_SETTINGS,
                "type": "now",
            },
            "approval": {"reviewers": ["ana@example.com"]},
        },
    )
    assert status == 202, started
    workflow_id = started["workflow_id"]
    seen: list[int] = []
    markup = ""
    try:
        for _ in range(240):
            markup = await asyncio.to_thread(panel, stack, workflow_id)
            found = re.search(r'<progress max="100" value="(\d+)"', markup)
            if found:
                seen.append(int(found.group(1)))
            if 'data-stage="awaiting_approval"' in markup:
                break
            await asyncio.sleep(0.25)
        assert seen, f"no progress was ever shown; last: {markup}"
        assert all(0 <= p <= 100 for p in seen) and seen == sorted(seen)  # never backwards
        assert 'data-stage="awaiting_approval"' in markup, markup
        assert "<progress" not in markup  # the render is over: no bar
    finally:
        await client.get_workflow_handle(workflow_id).terminate("test over")
