"""The cluster-wide cap under load: 40 segment renders across several workflows, cap 3,
with the worker killed once and one function killed mid-run."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid

import pytest
from temporalio.client import Client

from orchestrator.cap.models import SemaphoreState, semaphore_id
from orchestrator.render.video import RenderVideoWorkflow
from smm_local.stack import LocalStack
from smm_runtime.contract.workflow_io import DispatchPolicy, RenderVideoInput
from tests.integration.conftest import video_spec

pytestmark = pytest.mark.load
CAP = 3


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


async def test_forty_segments_never_exceed_the_cap_and_leak_no_permit(
    client: Client, stack: LocalStack, assets: dict[str, str]
) -> None:
    queue = f"tq-{uuid.uuid4()}"
    env = {"SMM_TASK_QUEUE": queue, "SMM_POOL_CAPS": f'{{"video-segments": {CAP}}}'}
    worker = stack.start_worker(env, name="worker-load")
    stack.reset_peaks()
    spec = video_spec(
        assets,
        presets=["1:1"],
        quality="draft",
        segment_target_s=0.5,
        music=None,
        captions=[],
        scenes=[{"duration_s": 4, "background": {"type": "video", "uri": assets["clip"]}}],
    )
    policy = DispatchPolicy(heartbeat_timeout_s=5, initial_interval_s=1, max_attempts=5)
    handles = [
        await client.start_workflow(
            RenderVideoWorkflow.run,
            RenderVideoInput(
                spec={
                    **spec,
                    "scenes": [
                        {
                            **spec["scenes"][0],
                            "background": {**spec["scenes"][0]["background"], "trim_start_s": i},
                        }
                    ],
                },
                output_bucket=stack.bucket,
                dispatch=policy,
            ),
            id=f"load-{i}-{uuid.uuid4().hex[:6]}",
            task_queue=queue,
        )
        for i in range(5)
    ]
    # Let work queue up behind the cap, then kill the worker once.
    for _ in range(200):
        progress = [await h.query(RenderVideoWorkflow.progress) for h in handles]
        if sum(p.segments_done for p in progress) >= 4:
            break
        await asyncio.sleep(0.1)
    assert sum(p.segments_queued for p in progress) > 0  # excess work waits in Temporal
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    stack.start_worker(env, name="worker-load-again")
    # And one function, mid-render.
    for _ in range(200):
        pids = stack.lambda_stats()["RenderSegmentFunction"]["active_pids"]
        if pids:
            os.killpg(pids[0], signal.SIGKILL)
            break
        await asyncio.sleep(0.1)
    results = await asyncio.wait_for(asyncio.gather(*[h.result() for h in handles]), 600)
    for result in results:
        assert result.segments_total == 8
        assert result.outputs[0].media.frames == 120
    intervals = []
    for handle in handles:
        async for event in handle.fetch_history_events():
            attrs = event.activity_task_completed_event_attributes
            if attrs.result.payloads:
                decoded = (await client.data_converter.decode(attrs.result.payloads))[0]
                if isinstance(decoded, dict) and decoded.get("kind") == "render_segment":
                    intervals.append((decoded["started_at"], decoded["finished_at"]))
    assert len(intervals) == 40
    observed = max_overlap(intervals)
    peak = stack.lambda_stats()["RenderSegmentFunction"]["peak_active"]
    print(f"\ncap {CAP}: max concurrency seen by the functions {observed}, emulator peak {peak}")
    assert 1 <= observed <= CAP
    assert peak <= CAP
    snapshot = await client.get_workflow_handle(semaphore_id(queue, "video-segments")).query(
        "snapshot", result_type=SemaphoreState
    )
    assert (len(snapshot.holders), snapshot.waiting) == (0, 0)
    assert snapshot.granted_total >= 40
