"""Finished segments are checkpoints: crashes and re-runs render only what is missing."""

from __future__ import annotations

import asyncio
import io
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageOps
from temporalio.client import Client

from functions.render_video.segment_job import SegmentRenderer
from functions.render_video.storage import RenderSettings, Storage
from orchestrator.render.resolve import resolve
from orchestrator.render.segments import window
from orchestrator.render.video import RenderVideoWorkflow
from smm_local.stack import LocalStack
from smm_runtime.claims import DuplicateDeliveryError
from smm_runtime.contract.errors import WorkCancelledError
from smm_runtime.contract.kinds import SegmentRequest
from smm_runtime.contract.video_spec import BrandKit, VideoSpec
from smm_runtime.work import WorkContext
from tests.integration.conftest import segment_invocations, start, video_spec

pytestmark = pytest.mark.integration


def eight_segments(assets: dict[str, str]) -> dict[str, object]:
    return video_spec(
        assets,
        presets=["1:1"],
        segment_target_s=0.5,
        music=None,
        scenes=[
            {
                "duration_s": 4,
                "background": {"type": "video", "uri": assets["clip"]},
                "texts": [{"text": "Checkpoints"}],
            }
        ],
    )


async def _wait_done(client: Client, workflow_id: str, count: int, timeout: float = 120) -> None:
    handle = client.get_workflow_handle(workflow_id)

    async def poll() -> None:
        while (await handle.query(RenderVideoWorkflow.progress)).segments_done < count:
            await asyncio.sleep(0.1)

    await asyncio.wait_for(poll(), timeout)


async def test_killing_the_worker_after_k_of_n_segments_renders_only_the_rest(
    client: Client, stack: LocalStack, assets: dict[str, str]
) -> None:
    queue = f"tq-{uuid.uuid4()}"
    env = {"SMM_TASK_QUEUE": queue}
    worker = stack.start_worker(env, name="worker-1")
    before = segment_invocations(stack)
    handle = await start(client, stack, queue, eight_segments(assets), parallel=2)
    await _wait_done(client, handle.id, 3)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    await asyncio.sleep(0.5)
    finished_at_kill = segment_invocations(stack) - before
    assert finished_at_kill >= 3
    stack.start_worker(env, name="worker-2")
    result = await asyncio.wait_for(handle.result(), 180)
    total = segment_invocations(stack) - before
    assert result.segments_total == 8
    assert total == 8  # no segment was rendered twice
    assert total - finished_at_kill == 8 - finished_at_kill  # only the missing ones ran after
    assert (result.segments_rendered, result.segments_reused) == (8, 0)
    assert result.outputs[0].media.frames == 120


async def test_a_temporal_server_restart_mid_render_loses_and_repeats_nothing(
    client: Client, stack: LocalStack, assets: dict[str, str]
) -> None:
    queue = f"tq-{uuid.uuid4()}"
    stack.start_worker({"SMM_TASK_QUEUE": queue}, name="worker-restart")
    before = segment_invocations(stack)
    handle = await start(
        client, stack, queue, eight_segments(assets) | {"quality": "high"}, parallel=2
    )
    await _wait_done(client, handle.id, 3)
    stack.restart_temporal(down_s=1.0)
    result = await asyncio.wait_for(handle.result(), 240)
    assert result.segments_total == 8
    assert segment_invocations(stack) - before == 8
    assert result.outputs[0].media.frames == 120


async def test_a_rerun_of_the_same_spec_reuses_every_finished_segment(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    spec = eight_segments(assets) | {"quality": "standard"}
    first = await asyncio.wait_for((await start(client, stack, task_queue, spec)).result(), 180)
    before = segment_invocations(stack)
    second = await asyncio.wait_for((await start(client, stack, task_queue, spec)).result(), 180)
    assert (first.segments_rendered, second.segments_reused) == (8, 8)
    assert second.segments_rendered == 0
    assert segment_invocations(stack) - before == 8  # invoked, but each found its checkpoint
    assert second.outputs[0].media == first.outputs[0].media


def test_a_duplicate_delivery_finds_the_checkpoint_instead_of_rendering_again(
    stack: LocalStack, assets: dict[str, str], tmp_path: Path
) -> None:
    s3 = stack.s3("RenderSegmentFunctionRole")  # the code of the segment function
    storage = Storage(
        s3=s3,
        settings=RenderSettings(
            asset_buckets=stack.bucket,
            output_bucket=stack.bucket,
            work_dir=tmp_path / "w",
            cache_dir=tmp_path / "c",
        ),
    )
    kit = BrandKit.model_validate_json(
        s3.get_object(Bucket=stack.bucket, Key=f"brand-kits/{assets['brand_kit']}.json")[
            "Body"
        ].read()
    )
    timeline = resolve(VideoSpec.model_validate(video_spec(assets, quality="high")), kit)
    request = SegmentRequest(
        preset="1:1",
        width=1080,
        height=1080,
        crf=18,
        start_frame=0,
        end_frame=15,
        timeline=window(timeline, 0, 15),
        bucket=stack.bucket,
    )

    def ctx() -> WorkContext:
        return WorkContext(
            workflow_id="dup", activity_id="1", attempt=1, checkpoint=None, memory_mb=3008
        )

    renderer = SegmentRenderer(storage)
    first = renderer(request, ctx())
    etag = s3.head_object(Bucket=stack.bucket, Key=first.segment.key)["ETag"]
    second = renderer(request, ctx())
    assert (first.reused, second.reused) == (False, True)
    assert second.segment == first.segment
    assert s3.head_object(Bucket=stack.bucket, Key=first.segment.key)["ETag"] == etag
    changed = request.model_copy(update={"crf": 30})
    assert renderer(changed, ctx()).segment != first.segment  # different pixels, new key


def test_deliveries_arriving_together_render_a_segment_once(
    stack: LocalStack, assets: dict[str, str], tmp_path: Path
) -> None:
    """Two copies of one event (Lambda's at-least-once delivery) and a second workflow that
    wants the same pixels, all at the same moment, in three environments: one renders, the
    others stop quietly or reuse its checkpoint."""
    s3 = stack.s3("RenderSegmentFunctionRole")  # the code of the segment function

    def environment(name: str) -> SegmentRenderer:
        return SegmentRenderer(
            Storage(
                s3=s3,
                settings=RenderSettings(
                    asset_buckets=stack.bucket,
                    output_bucket=stack.bucket,
                    work_dir=tmp_path / name / "w",
                    cache_dir=tmp_path / name / "c",
                ),
            )
        )

    kit = BrandKit.model_validate_json(
        s3.get_object(Bucket=stack.bucket, Key=f"brand-kits/{assets['brand_kit']}.json")[
            "Body"
        ].read()
    )
    timeline = resolve(VideoSpec.model_validate(video_spec(assets, quality="high")), kit)
    request = SegmentRequest(
        preset="9:16",
        width=1080,
        height=1920,
        crf=17,
        start_frame=0,
        end_frame=12,
        timeline=window(timeline, 0, 12),
        bucket=stack.bucket,
    )
    outcomes: dict[str, Any] = {}
    start = threading.Barrier(3)

    def deliver(name: str, workflow_id: str) -> None:
        start.wait()
        try:
            outcomes[name] = environment(name)(
                request,
                WorkContext(
                    workflow_id=workflow_id,
                    activity_id="1",
                    attempt=1,
                    checkpoint=None,
                    memory_mb=3008,
                ),
            )
        except DuplicateDeliveryError as err:
            outcomes[name] = err

    threads = [
        threading.Thread(target=deliver, args=args)
        for args in (("a", "together"), ("b", "together"), ("c", "another-workflow"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    # Whichever takes the claim first renders; a copy of the same delivery stops quietly
    # (it saw the claim) or, when it looked only after the render had finished, answers
    # with the checkpoint; the other workflow waits and reuses it. Never a second render.
    answered = [o for o in outcomes.values() if not isinstance(o, DuplicateDeliveryError)]
    assert [o.reused for o in answered].count(False) == 1
    assert len({o.segment for o in answered}) == 1
    assert not isinstance(outcomes["c"], DuplicateDeliveryError)  # another workflow waits


def test_a_photo_overwritten_at_the_same_key_is_rendered_anew_not_reused(
    stack: LocalStack, assets: dict[str, str], tmp_path: Path
) -> None:
    """Checkpoints follow content, not names: the same spec after its photo was replaced at
    the same S3 key renders the new photo instead of reusing the old pixels."""
    s3 = stack.s3("RenderSegmentFunctionRole")  # the code of the segment function
    photo = s3.get_object(Bucket=stack.bucket, Key=assets["photo"].split("/", 3)[3])["Body"].read()
    key = f"assets/test/etag-{uuid.uuid4().hex[:6]}.jpg"
    stack.s3().put_object(Bucket=stack.bucket, Key=key, Body=photo)
    storage = Storage(
        s3=s3,
        settings=RenderSettings(
            asset_buckets=stack.bucket,
            output_bucket=stack.bucket,
            work_dir=tmp_path / "w",
            cache_dir=tmp_path / "c",
        ),
    )
    kit = BrandKit.model_validate_json(
        s3.get_object(Bucket=stack.bucket, Key=f"brand-kits/{assets['brand_kit']}.json")[
            "Body"
        ].read()
    )
    spec = video_spec(
        assets,
        scenes=[
            {
                "duration_s": 1.0,
                "background": {"type": "image", "uri": f"s3://{stack.bucket}/{key}", "fit": "fill"},
            }
        ],
    )
    timeline = resolve(VideoSpec.model_validate(spec), kit)
    request = SegmentRequest(
        preset="1:1",
        width=256,
        height=256,
        crf=23,
        start_frame=0,
        end_frame=5,
        timeline=window(timeline, 0, 5),
        bucket=stack.bucket,
    )

    def ctx() -> WorkContext:
        return WorkContext(
            workflow_id="etag", activity_id="1", attempt=1, checkpoint=None, memory_mb=3008
        )

    renderer = SegmentRenderer(storage)
    first = renderer(request, ctx())
    assert renderer(request, ctx()).reused  # same photo: the checkpoint
    inverted = io.BytesIO()
    ImageOps.invert(Image.open(io.BytesIO(photo)).convert("RGB")).save(inverted, "JPEG")
    stack.s3().put_object(Bucket=stack.bucket, Key=key, Body=inverted.getvalue())
    again = renderer(request, ctx())
    assert not again.reused and again.segment != first.segment


def test_a_render_that_stops_releases_its_claim(
    stack: LocalStack, assets: dict[str, str], tmp_path: Path
) -> None:
    """A cancelled (or failed) render leaves no claim behind: the next workflow that wants
    the same pixels renders them at once instead of waiting for a claim to go stale."""
    s3 = stack.s3("RenderSegmentFunctionRole")  # the code of the segment function
    renderer = SegmentRenderer(
        Storage(
            s3=s3,
            settings=RenderSettings(
                asset_buckets=stack.bucket,
                output_bucket=stack.bucket,
                work_dir=tmp_path / "w",
                cache_dir=tmp_path / "c",
            ),
        )
    )
    kit = BrandKit.model_validate_json(
        s3.get_object(Bucket=stack.bucket, Key=f"brand-kits/{assets['brand_kit']}.json")[
            "Body"
        ].read()
    )
    timeline = resolve(VideoSpec.model_validate(video_spec(assets)), kit)
    request = SegmentRequest(
        preset="16:9",
        width=320,
        height=180,
        crf=31,
        start_frame=0,
        end_frame=30,
        timeline=window(timeline, 0, 30),
        bucket=stack.bucket,
    )
    cancelled = WorkContext(
        workflow_id="stops", activity_id="1", attempt=1, checkpoint=None, memory_mb=3008
    )
    cancelled.cancel()
    with pytest.raises(WorkCancelledError):
        renderer(request, cancelled)
    claims = s3.list_objects_v2(Bucket=stack.bucket, Prefix="intermediates/segments/claims/").get(
        "Contents", []
    )
    assert claims == []
    started = time.monotonic()
    result = renderer(
        request,
        WorkContext(
            workflow_id="next", activity_id="1", attempt=1, checkpoint=None, memory_mb=3008
        ),
    )
    assert not result.reused and time.monotonic() - started < 60
