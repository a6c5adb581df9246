"""The whole dispatch path: workflow -> dispatch activity -> Lambda emulator -> FFmpeg ->
async completion, on the real local stack."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ActivityError, ApplicationError

from orchestrator.progress import live_progress
from orchestrator.workflows.render_video import RenderVideoWorkflow
from smm_local.stack import LocalStack
from smm_runtime.errors import INVALID_REQUEST
from smm_runtime.media_tools import ffprobe_binary
from smm_runtime.s3keys import safe_segment
from smm_runtime.workflow_io import DispatchPolicy, RenderVideoInput, RenderVideoOutput
from tests.integration.conftest import spec_with

pytestmark = pytest.mark.integration
QUICK_RETRY = DispatchPolicy(heartbeat_timeout_s=5, initial_interval_s=1, max_attempts=3)


async def _start(client: Client, stack: LocalStack, queue: str, spec: dict[str, Any],
                 policy: DispatchPolicy = QUICK_RETRY
                 ) -> WorkflowHandle[RenderVideoWorkflow, RenderVideoOutput]:
    return await client.start_workflow(
        RenderVideoWorkflow.run,
        RenderVideoInput(spec=spec, output_bucket=stack.bucket, dispatch=policy),
        id=f"it-{uuid.uuid4().hex[:10]}", task_queue=queue)


async def _wait_for_percent(handle: WorkflowHandle[Any, Any], percent: float,
                            timeout: float = 60) -> None:
    async def poll() -> None:
        while True:
            beat = (await live_progress(handle)).get("heartbeat") or {}
            if beat.get("stage") == "rendering" and beat.get("percent", 0) >= percent:
                return
            await asyncio.sleep(0.2)

    await asyncio.wait_for(poll(), timeout)


def _ffmpeg_pids(marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"ffmpeg-linux-x64") and \
                any(marker.encode() in part for part in cmdline):
            pids.append(int(entry.name))
    return pids


async def test_render_completes_and_the_mp4_probes_right(
        client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str],
        tmp_path: Path) -> None:
    handle = await _start(client, stack, task_queue, spec_with(assets, duration_s=3.5))
    result = await asyncio.wait_for(handle.result(), 120)
    assert result.uri == f"s3://{stack.bucket}/renders/{handle.id}/video.mp4"
    local = tmp_path / "out.mp4"
    stack.s3().download_file(stack.bucket, result.output.key, str(local))
    probe = json.loads(subprocess.run(
        [ffprobe_binary(), "-v", "error", "-show_format", "-show_streams", "-of", "json",
         str(local)], capture_output=True, check=True).stdout)
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    audio = next(s for s in probe["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 1080, 1920)
    assert audio["codec_name"] == "aac"
    assert abs(float(probe["format"]["duration"]) - 3.5) <= 0.1
    assert result.media.size_bytes == local.stat().st_size
    # faststart: the moov atom precedes the media data
    head = local.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1 or
                                         head.find(b"moov") < head.find(b"mdat"))


async def test_invalid_spec_fails_the_workflow_at_once_naming_the_field(
        client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]) -> None:
    handle = await _start(client, stack, task_queue, spec_with(assets, title=""))
    with pytest.raises(WorkflowFailureError) as err:
        await asyncio.wait_for(handle.result(), 20)
    cause = err.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.non_retryable) == (INVALID_REQUEST, True)
    assert "spec.title" in cause.message
    events = [e.event_type async for e in handle.fetch_history_events()]
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in events


async def test_asset_from_a_foreign_bucket_fails_once_naming_the_field(
        client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]) -> None:
    before = stack.lambda_stats()["RenderVideoFunction"]["invocations"]
    handle = await _start(client, stack, task_queue,
                          spec_with(assets, font="s3://someone-elses-bucket/font.ttf"))
    with pytest.raises(WorkflowFailureError) as err:
        await asyncio.wait_for(handle.result(), 60)
    assert isinstance(err.value.cause, ActivityError)
    inner = err.value.cause.cause
    assert isinstance(inner, ApplicationError)
    assert inner.type == INVALID_REQUEST
    assert inner.message.startswith("font: bucket 'someone-elses-bucket' is not an allowed")
    assert stack.lambda_stats()["RenderVideoFunction"]["invocations"] == before + 1


async def test_function_killed_mid_run_is_retried_by_temporal_and_succeeds(
        client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]) -> None:
    before = stack.lambda_stats()["RenderVideoFunction"]
    handle = await _start(client, stack, task_queue, spec_with(assets, duration_s=12))
    await _wait_for_percent(handle, 5)
    pids = stack.lambda_stats()["RenderVideoFunction"]["active_pids"]
    assert pids, "the render should be running in an execution environment"
    for pid in pids:
        os.killpg(pid, signal.SIGKILL)  # the function and its FFmpeg die mid-render
    result = await asyncio.wait_for(handle.result(), 180)
    assert abs(result.media.duration_s - 12) <= 0.1
    after = stack.lambda_stats()["RenderVideoFunction"]
    assert after["invocations"] - before["invocations"] == 2
    assert after["errors"] - before["errors"] == 1
    # The history shows the second attempt completed the activity.
    started = [e.activity_task_started_event_attributes.attempt
               async for e in handle.fetch_history_events()
               if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    assert started == [2]


async def test_cancelling_the_workflow_stops_the_functions_ffmpeg(
        client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]) -> None:
    handle = await _start(client, stack, task_queue, spec_with(assets, duration_s=90))
    await _wait_for_percent(handle, 1)
    marker = safe_segment(handle.id)
    assert _ffmpeg_pids(marker), "FFmpeg should be rendering this workflow"
    await handle.cancel()
    with pytest.raises(WorkflowFailureError):
        await asyncio.wait_for(handle.result(), 30)
    for _ in range(50):
        if not _ffmpeg_pids(marker):
            break
        await asyncio.sleep(0.2)
    assert _ffmpeg_pids(marker) == []
    progress = await handle.query(RenderVideoWorkflow.progress)
    assert progress.stage == "cancelled"
