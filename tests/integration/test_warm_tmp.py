"""A warm execution environment keeps /tmp between invocations (Lambda reuses it): 200
segment renders in one environment, with a small cache, leave /tmp no fuller than one."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.render_video.segment_job import SegmentRenderer
from functions.render_video.storage import RenderSettings, Storage
from orchestrator.render.resolve import resolve
from orchestrator.render.segments import window
from smm_local.stack import LocalStack
from smm_runtime.contract.kinds import SegmentRequest
from smm_runtime.contract.video_spec import BrandKit, VideoSpec
from smm_runtime.work import WorkContext
from tests.integration.conftest import video_spec

pytestmark = pytest.mark.integration
INVOCATIONS = 200
CACHE_LIMIT = 2 * 1024 * 1024


def used(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


@pytest.mark.timeout(600)
def test_two_hundred_invocations_in_one_warm_environment_leave_tmp_as_they_found_it(
    stack: LocalStack, assets: dict[str, str], tmp_path: Path
) -> None:
    s3 = stack.s3("RenderSegmentFunctionRole")  # the code of the segment function
    settings = RenderSettings(
        asset_buckets=stack.bucket,
        output_bucket=stack.bucket,
        work_dir=tmp_path / "render",
        cache_dir=tmp_path / "cache",
        cache_max_bytes=CACHE_LIMIT,
    )
    renderer = SegmentRenderer(Storage(s3=s3, settings=settings))  # one warm environment
    kit = BrandKit.model_validate_json(
        s3.get_object(Bucket=stack.bucket, Key=f"brand-kits/{assets['brand_kit']}.json")[
            "Body"
        ].read()
    )
    timeline = resolve(VideoSpec.model_validate(video_spec(assets)), kit)
    frames = timeline.total_frames
    peak = 0
    for n in range(INVOCATIONS):
        start, crf = n % frames, 20 + n // frames  # each a new segment: nothing reused
        request = SegmentRequest(
            preset="1:1",
            width=64,
            height=64,
            crf=crf,
            start_frame=start,
            end_frame=start + 1,
            timeline=window(timeline, start, start + 1),
            bucket=stack.bucket,
        )
        result = renderer(
            request,
            WorkContext(
                workflow_id="warm", activity_id=str(n), attempt=1, checkpoint=None, memory_mb=3008
            ),
        )
        assert not result.reused
        # The invocation's folder is gone, with everything in it.
        assert list((settings.work_dir / "segment").iterdir()) == []
        peak = max(peak, used(tmp_path))
    assert used(settings.cache_dir) <= CACHE_LIMIT
    assert peak <= CACHE_LIMIT + 512 * 1024  # the cache, and nothing growing beside it
