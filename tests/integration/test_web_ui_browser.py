"""Temporal's own Web UI (the dev server's) in Debian's Chromium: a render of an account is
found by its search attributes, and its page reads well — the workflow's summary and each
activity's summary instead of look-alike `dispatch_segment` rows. Screenshots under
test-artifacts/. (The stack runs without payload encryption here: with it, the UI shows
summaries through the codec server, `smm-engine codec-server`.)"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, Frame
from playwright.async_api import Error as PlaywrightError

from orchestrator.render.video import RenderVideoWorkflow
from smm_local.demo_assets import upload_demo_assets
from smm_local.loopback import free_port
from smm_local.stack import LocalStack
from smm_runtime.contract import TASK_QUEUE
from smm_runtime.contract.workflow_io import RenderVideoInput
from smm_runtime.temporal_conn import connect
from tests.integration.conftest import ARTIFACTS, video_spec
from tests.integration.test_review_page_browser import browser

pytestmark = [pytest.mark.integration, pytest.mark.browser]
__all__ = ["browser"]  # the review page tests' Chromium fixture, shared
ACCOUNT = "ui-agency"
DETAILS = re.compile(r"done · 2\D2 segments")
COLUMNS = [
    {"label": label}
    for label in ("Status", "Workflow ID", "SmmStage", "SmmAccount", "SmmKind", "Type", "Start")
]


async def frame_text(frame: Frame) -> str:
    """A frame's text, or "" when the UI replaced the frame while it was read (it re-renders
    its sandboxed markdown frames as the workflow's details change; the loop reads again)."""
    try:
        return await frame.inner_text("body", timeout=5_000)
    except PlaywrightError:
        return ""


@pytest.fixture(scope="module")
def ui_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with (
        (ARTIFACTS / "web-ui-stack.log").open("w") as log,
        LocalStack(
            state_dir=tmp_path_factory.mktemp("ui-stack"),
            log=log,
            ui_port=free_port(),
            encrypt_payloads=False,
        ) as running,
    ):
        running.start_worker()
        yield running


async def test_a_render_is_found_by_account_and_its_activities_read_well(
    ui_stack: LocalStack, browser: Browser
) -> None:
    assets = upload_demo_assets(ui_stack.s3(), ui_stack.bucket, music_seconds=12)
    client = await connect(environ=ui_stack.env())
    workflow_id = f"ui-render-{uuid.uuid4().hex[:8]}"
    handle = await client.start_workflow(
        RenderVideoWorkflow.run,
        RenderVideoInput(spec=video_spec(assets), output_bucket=ui_stack.bucket, owner=ACCOUNT),
        id=workflow_id,
        task_queue=TASK_QUEUE,
        static_summary=f"video render · 9:16 · {ACCOUNT}",
    )  # as orchestrator.render.client
    await handle.result()
    assert ui_stack.ui_url is not None
    page = await browser.new_page(viewport={"width": 1440, "height": 900})
    # The columns a team would pick in the UI's column settings (kept in local storage).
    await page.add_init_script(f"""localStorage.setItem('namespace-workflow-table-columns',
        JSON.stringify({{'smm-hub-core': {json.dumps(COLUMNS)}}}));""")

    query = quote(f'SmmAccount="{ACCOUNT}" AND SmmKind="video"')
    await page.goto(f"{ui_stack.ui_url}?query={query}")
    await page.get_by_text(workflow_id).first.wait_for(timeout=60_000)
    await page.screenshot(path=str(ARTIFACTS / "web-ui-list.png"), full_page=True)
    headers = await page.locator("thead th").all_inner_texts()
    assert {"SmmStage", "SmmAccount", "SmmKind"} <= {h.strip() for h in headers}, headers
    row = await page.locator("tbody tr").first.inner_text()
    assert "done" in row and ACCOUNT in row and "video" in row, row

    run_id = (await handle.describe()).run_id
    await page.goto(f"{ui_stack.ui_url}/{quote(workflow_id)}/{run_id}/history")
    await page.get_by_text("segment 1/").first.wait_for(timeout=60_000)
    text = await page.inner_text("body")
    await page.screenshot(path=str(ARTIFACTS / "web-ui-workflow.png"), full_page=True)
    await page.get_by_text("Compact", exact=True).click()  # one row per activity
    await page.get_by_text("segment 2/").first.wait_for(timeout=30_000)
    await page.get_by_text("segment 1/").first.scroll_into_view_if_needed()
    await page.screenshot(path=str(ARTIFACTS / "web-ui-activities.png"))
    assert "segment 1/" in text and "9:16" in text  # the activities', not dispatch_segment alone
    await page.get_by_role("tab", name="User Metadata").click()
    # The UI renders summaries and details (markdown) in sandboxed frames of their own.
    metadata = ""
    for _ in range(60):
        metadata = " ".join([await frame_text(f) for f in page.frames])
        if f"video render · 9:16 · {ACCOUNT}" in metadata and DETAILS.search(metadata):
            break
        await page.wait_for_timeout(500)
    await page.screenshot(path=str(ARTIFACTS / "web-ui-metadata.png"), full_page=True)
    assert f"video render · 9:16 · {ACCOUNT}" in metadata  # the summary, as the CLI sets it
    assert DETAILS.search(metadata)  # the current details (the UI typesets the slash)
    assert Path(ARTIFACTS / "web-ui-workflow.png").stat().st_size > 10_000
