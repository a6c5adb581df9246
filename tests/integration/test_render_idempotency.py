"""Lambda delivers async events at least once: a duplicate must not render twice."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from render_job import RenderSettings, VideoRenderer
from smm_local.stack import LocalStack
from smm_runtime.contracts import BrandedVideoSpec, RenderVideoRequest, S3Object
from smm_runtime.runner import WorkContext
from tests.integration.conftest import spec_with

pytestmark = pytest.mark.integration


def test_a_duplicate_delivery_reuses_the_render_instead_of_doing_it_again(
        stack: LocalStack, assets: dict[str, str], tmp_path: Path) -> None:
    s3 = boto3.client("s3", endpoint_url=stack.moto_url, region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    renderer = VideoRenderer(s3=s3, settings=RenderSettings(
        asset_buckets=stack.bucket, output_bucket=stack.bucket, work_dir=tmp_path))
    request = RenderVideoRequest(
        spec=BrandedVideoSpec.model_validate(spec_with(assets, duration_s=1.0)),
        output=S3Object(bucket=stack.bucket, key="renders/dup-test/video.mp4"))

    def ctx() -> WorkContext:
        return WorkContext(workflow_id="dup-test", activity_id="1", attempt=1, checkpoint=None,
                           memory_mb=3008)

    first = renderer(request, ctx())
    etag = s3.head_object(Bucket=stack.bucket, Key=request.output.key)["ETag"]
    second = renderer(request, ctx())
    assert (first.reused_existing, second.reused_existing) == (False, True)
    assert second.media == first.media
    assert s3.head_object(Bucket=stack.bucket, Key=request.output.key)["ETag"] == etag

    changed = request.model_copy(update={"spec": request.spec.model_copy(
        update={"title": "Another title"})})
    third = renderer(changed, ctx())
    assert third.reused_existing is False  # a different request is rendered, not reused
