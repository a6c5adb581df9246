"""One round's render of a publish: its price (what the round holds before it starts) and
the child render workflow that makes its media."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from orchestrator.billing.holds import Price
    from orchestrator.billing.pricing import estimate_images, estimate_video
    from orchestrator.render.image import GenerateImageWorkflow
    from orchestrator.render.resolve import total_frames
    from orchestrator.render.video import RenderVideoWorkflow
    from smm_runtime.contract.basetypes import ComputeUsage, S3Object
    from smm_runtime.contract.publish_io import PublishInput
    from smm_runtime.contract.validation import parse_image_spec, parse_spec
    from smm_runtime.contract.video_spec import FPS
    from smm_runtime.contract.workflow_io import BrandLook, GenerateImageInput, RenderVideoInput


def creative_price(kind: str, creative: dict[str, Any], *, spec_fps: bool = True) -> Price:
    """The estimate of one render of a creative: its length in frames (the same count the
    resolved timeline has) at its frame rate and presets for a video, its image count
    otherwise. (``spec_fps`` False: the price of executions that began when every video was
    priced at the default 30 fps, which held twice the credits at 60 fps, too few at 24.)"""
    if kind == "video":
        video = parse_spec(creative)
        length, fps = total_frames(video), video.fps if spec_fps else FPS
        return lambda model: estimate_video(length, fps, video.presets, model)
    count = len(parse_image_spec(creative).jobs())
    return lambda model: estimate_images(count, model)


Rendered = tuple[list[tuple[S3Object, str]], ComputeUsage, BrandLook | None]


async def render_creative(
    p: PublishInput, creative: dict[str, Any], child_id: str, owner: str | None
) -> Rendered:
    """One round's render, as a child workflow: its media (with content types), usage and
    the brand it was drawn with."""
    if p.creative.kind == "video":
        video = await workflow.execute_child_workflow(
            RenderVideoWorkflow.run,
            RenderVideoInput(
                spec=creative,
                output_bucket=p.output_bucket,
                assets_bucket=p.assets_bucket,
                dispatch=p.dispatch,
                owner=owner,
            ),
            id=child_id,
            static_summary=f"video render for {workflow.info().workflow_id}",
        )
        return [(o.output, "video/mp4") for o in video.outputs], video.usage, video.brand
    images = await workflow.execute_child_workflow(
        GenerateImageWorkflow.run,
        GenerateImageInput(
            spec=creative, output_bucket=p.output_bucket, assets_bucket=p.assets_bucket, owner=owner
        ),
        id=child_id,
        static_summary=f"image render for {workflow.info().workflow_id}",
    )
    return [(i.output, "image/png") for i in images.images], images.usage, images.brand
