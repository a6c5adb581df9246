"""The whole dispatch path on the real local stack: workflow -> dispatch activities ->
Lambda emulator -> FFmpeg -> async completion."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ActivityError, ApplicationError

from orchestrator.render.progress import live_progress
from orchestrator.render.video import RenderVideoWorkflow
from smm_local.stack import LocalStack
from smm_runtime.contract.errors import INVALID_REQUEST
from tests.integration.conftest import probe, segment_invocations, start, video_spec

pytestmark = pytest.mark.integration
SIZES = {"9:16": (1080, 1920), "1:1": (1080, 1080), "16:9": (1920, 1080)}


async def _wait_rendering(
    handle: WorkflowHandle[Any, Any], percent: float, timeout: float = 60
) -> None:
    async def poll() -> None:
        while True:
            running = (await live_progress(handle)).get("running", [])
            if any(
                r.get("stage") == "rendering" and r.get("percent", 0) >= percent for r in running
            ):
                return
            await asyncio.sleep(0.2)

    await asyncio.wait_for(poll(), timeout)


def _ffmpeg_pids() -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # /opt/bin/ffmpeg in an environment built by `sam build` (the FFmpeg layer)
                program = (entry / "cmdline").read_bytes().split(b"\0")[0].rsplit(b"/", 1)[-1]
                if program in (b"ffmpeg", b"ffmpeg-linux-x64"):
                    pids.add(int(entry.name))
            except OSError:
                continue
    return pids


async def test_one_spec_renders_every_preset_with_its_size_frames_and_audio(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str], tmp_path: Path
) -> None:
    handle = await start(
        client, stack, task_queue, video_spec(assets, presets=["9:16", "1:1", "16:9"])
    )
    result = await asyncio.wait_for(handle.result(), 240)
    assert result.total_frames == 60
    assert [o.preset for o in result.outputs] == ["9:16", "1:1", "16:9"]
    for output in result.outputs:
        local = tmp_path / f"{output.preset.replace(':', 'x')}.mp4"
        stack.s3().download_file(output.output.bucket, output.output.key, str(local))
        info = probe(local)
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
        assert (video["codec_name"], video["width"], video["height"]) == (
            "h264",
            *SIZES[output.preset],
        )
        assert int(video["nb_read_packets"]) == 60
        assert audio["codec_name"] == "aac"
        assert abs(float(info["format"]["duration"]) - 2.0) <= 1 / 30
        head = local.read_bytes()[:4096]
        assert b"moov" in head  # faststart: the index precedes the media data
        poster = stack.s3().head_object(Bucket=output.poster.bucket, Key=output.poster.key)
        assert poster["ContentType"] == "image/jpeg"
    assert result.segments_total == 6


async def test_invalid_spec_fails_the_workflow_at_once_naming_the_field(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    handle = await start(client, stack, task_queue, video_spec(assets, presets=[]))
    with pytest.raises(WorkflowFailureError) as err:
        await asyncio.wait_for(handle.result(), 20)
    cause = err.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.non_retryable) == (INVALID_REQUEST, True)
    assert "spec.presets" in cause.message
    events = [e.event_type async for e in handle.fetch_history_events()]
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in events


async def test_asset_from_a_foreign_bucket_fails_once_naming_the_field(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    before = segment_invocations(stack)
    spec = video_spec(
        assets,
        segment_target_s=10,
        scenes=[
            {
                "duration_s": 1,
                "background": {"type": "image", "uri": "s3://someone-elses-bucket/photo.jpg"},
            }
        ],
    )
    handle = await start(client, stack, task_queue, spec)
    with pytest.raises(WorkflowFailureError) as err:
        await asyncio.wait_for(handle.result(), 60)
    assert isinstance(err.value.cause, ActivityError)
    inner = err.value.cause.cause
    assert isinstance(inner, ApplicationError)
    assert inner.type == INVALID_REQUEST
    assert inner.message.startswith(
        "scenes.0.background.uri: bucket 'someone-elses-bucket' is not an allowed"
    )
    assert segment_invocations(stack) == before + 1


async def test_function_killed_mid_render_is_retried_by_temporal_and_succeeds(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    before = stack.lambda_stats()["RenderSegmentFunction"]
    spec = video_spec(
        assets,
        segment_target_s=30,
        scenes=[{"duration_s": 8, "background": {"type": "video", "uri": assets["clip"]}}],
    )
    handle = await start(client, stack, task_queue, spec)
    await _wait_rendering(handle, 10)
    pids = stack.lambda_stats()["RenderSegmentFunction"]["active_pids"]
    assert pids, "the segment should be rendering in an execution environment"
    for pid in pids:
        os.killpg(pid, signal.SIGKILL)  # the function and its FFmpeg die mid-render
    result = await asyncio.wait_for(handle.result(), 240)
    assert result.outputs[0].media.frames == 240
    after = stack.lambda_stats()["RenderSegmentFunction"]
    assert after["invocations"] - before["invocations"] == 2
    assert after["errors"] - before["errors"] == 1
    started = [
        e.activity_task_started_event_attributes.attempt
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.attempt > 1
    ]
    assert started == [2]  # exactly one activity needed a second attempt
    # The first attempt was failed by the on-failure destination with Lambda's error, not
    # left to the heartbeat timeout.
    # (Failures are sealed on the server like every payload: the keyed client opens them.)
    failures = [
        str(
            await client.data_converter.decode_failure(
                e.activity_task_started_event_attributes.last_failure
            )
        )
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.attempt > 1
    ]
    assert failures and "RenderSegmentFunction failed: Runtime.ExitError" in failures[0]


async def test_cancelling_the_workflow_stops_the_functions_ffmpeg(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    before = _ffmpeg_pids()
    spec = video_spec(
        assets,
        segment_target_s=60,
        presets=["16:9"],
        scenes=[{"duration_s": 60, "background": {"type": "video", "uri": assets["clip"]}}],
    )
    handle = await start(client, stack, task_queue, spec)
    await _wait_rendering(handle, 1)
    assert _ffmpeg_pids() - before, "FFmpeg should be rendering"
    await handle.cancel()
    with pytest.raises(WorkflowFailureError):
        await asyncio.wait_for(handle.result(), 30)
    for _ in range(50):
        if not _ffmpeg_pids() - before:
            break
        await asyncio.sleep(0.2)
    assert _ffmpeg_pids() - before == set()
    assert (await handle.query(RenderVideoWorkflow.progress)).stage == "cancelled"
