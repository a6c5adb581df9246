"""GenerateImageWorkflow: one branded image, or a carousel whose slides render in parallel
and come back in order."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from orchestrator.billing.holds import held
    from orchestrator.billing.pricing import estimate_images
    from orchestrator.cap.permits import Permits
    from orchestrator.dispatch.typed import all_or_cancel, dispatch
    from orchestrator.render.brand_kits import load_brand_kit
    from orchestrator.render.ownership import foreign_object, owner_of
    from orchestrator.render.s3keys import safe_segment
    from orchestrator.visibility.in_workflow import Visible
    from smm_runtime.contract.basetypes import ComputeUsage, S3Object
    from smm_runtime.contract.image_spec import IMAGE_SIZES
    from smm_runtime.contract.kinds import (
        RENDER_IMAGE,
        ImageRequest,
        ImageResult,
        image_fingerprint,
    )
    from smm_runtime.contract.ownership import owned_prefix
    from smm_runtime.contract.validation import ContractError, parse_image_spec
    from smm_runtime.contract.workflow_io import (
        BrandLook,
        GenerateImageInput,
        GenerateImageOutput,
        ImageOutput,
    )


@workflow.defn
class GenerateImageWorkflow:
    def __init__(self) -> None:
        self._done = 0
        self._total = 0
        self._permits = Permits()  # registers its signal handlers

    @workflow.query
    def progress(self) -> dict[str, int]:
        return {
            "images_done": self._done,
            "images_total": self._total,
            "images_queued": len(self._permits.waiting),
        }

    @workflow.run
    async def run(self, params: GenerateImageInput) -> GenerateImageOutput:
        scope = owner_of(params.scope)
        visible = Visible()
        visible.start("image", "rendering", account=params.scope)
        try:
            spec = parse_image_spec(params.spec)
        except ContractError as err:
            raise ApplicationError(str(err), type=err.error_type, non_retryable=True) from None
        kit = await load_brand_kit(
            params.assets_bucket or params.output_bucket, spec.brand_kit, scope
        )
        foreign = foreign_object(scope, params.spec, kit)
        if foreign is not None:
            raise foreign
        width, height = IMAGE_SIZES[spec.size]
        prefix = f"{owned_prefix(scope)}renders/{safe_segment(workflow.info().workflow_id)}"
        jobs = spec.jobs()
        self._total = len(jobs)
        requests = []
        for index, (template, props) in enumerate(jobs):
            body = {
                "template": template,
                "width": width,
                "height": height,
                "props": props,
                "brand": kit.model_dump(mode="json"),
                "output": {
                    "bucket": params.output_bucket,
                    "key": f"{prefix}/image-{index + 1:02d}.png",
                },
                "account": scope,
            }
            requests.append(
                ImageRequest.model_validate({**body, "fingerprint": image_fingerprint(body)})
            )

        await self._permits.load_caps()

        async def render(request: ImageRequest) -> ImageResult:
            result = await dispatch(
                RENDER_IMAGE,
                request,
                params.dispatch,
                permits=self._permits,
                permit_id=request.output.key,
            )
            self._done += 1
            return result

        async with held(
            params.account, workflow.info().workflow_id, lambda m: estimate_images(len(requests), m)
        ) as hold:
            tasks = [asyncio.ensure_future(render(r)) for r in requests]
            await all_or_cancel(list(tasks))
            results = [t.result() for t in tasks]
            hold.usage = usage = ComputeUsage.total(r.usage for r in results)
        images = [
            ImageOutput(
                index=i + 1,
                template=jobs[i][0],
                uri=r.output.uri,
                output=S3Object(bucket=r.output.bucket, key=r.output.key),
                width=r.width,
                height=r.height,
                size_bytes=r.size_bytes,
            )
            for i, r in enumerate(results)
        ]
        visible.stage("done", f"{len(images)} images")
        return GenerateImageOutput(
            images=images, usage=usage, cost=hold.cost, brand=BrandLook.of(kit)
        )
