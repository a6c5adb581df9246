"""GenerateImageWorkflow: one branded image, or a carousel whose slides render in parallel
and come back in order."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from orchestrator.permits_io import EXPIRED_SIGNAL, GRANT_SIGNAL
    from orchestrator.pricing import estimate_images
    from orchestrator.s3keys import safe_segment
    from orchestrator.workflows.billing_saga import Billing
    from orchestrator.workflows.brand_kits import load_brand_kit
    from orchestrator.workflows.dispatching import all_or_cancel, dispatch
    from orchestrator.workflows.ownership import foreign_object, owner_of
    from orchestrator.workflows.permits import Permits
    from orchestrator.workflows.visible import Visible
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
        self._permits = Permits()

    @workflow.signal(name=GRANT_SIGNAL)
    def permit_granted(self, permit_id: str) -> None:
        self._permits.on_granted(permit_id)

    @workflow.signal(name=EXPIRED_SIGNAL)
    def permit_expired(self, permit_id: str) -> None:
        self._permits.on_expired(permit_id)

    @workflow.query
    def progress(self) -> dict[str, int]:
        return {"images_done": self._done, "images_total": self._total,
                "images_queued": len(self._permits.waiting)}

    @workflow.run
    async def run(self, params: GenerateImageInput) -> GenerateImageOutput:
        scope = owner_of(params.scope)
        visible = Visible()
        visible.start("image", "rendering", account=params.scope)
        try:
            spec = parse_image_spec(params.spec)
        except ContractError as err:
            raise ApplicationError(str(err), type=err.error_type, non_retryable=True) from None
        kit = await load_brand_kit(params.assets_bucket or params.output_bucket, spec.brand_kit,
                                   scope)
        foreign = foreign_object(scope, params.spec, kit)
        if foreign is not None:
            raise foreign
        width, height = IMAGE_SIZES[spec.size]
        prefix = f"{owned_prefix(scope)}renders/{safe_segment(workflow.info().workflow_id)}"
        jobs = spec.jobs()
        self._total = len(jobs)
        requests = []
        for index, (template, props) in enumerate(jobs):
            body = {"template": template, "width": width, "height": height, "props": props,
                    "brand": kit.model_dump(mode="json"),
                    "output": {"bucket": params.output_bucket,
                               "key": f"{prefix}/image-{index + 1:02d}.png"},
                    "account": scope}
            requests.append(ImageRequest.model_validate(
                {**body, "fingerprint": image_fingerprint(body)}))

        await self._permits.load_caps()

        async def render(request: ImageRequest) -> ImageResult:
            async with self._permits.permit("images", request.output.key):
                result = await dispatch(RENDER_IMAGE, request, params.dispatch)
            self._done += 1
            return result

        billing = Billing(params.account, workflow.info().workflow_id) if params.account \
            else None
        if billing is not None:
            await billing.reserve(  # before anything is dispatched
                lambda m: estimate_images(len(requests), m))
        tasks = [asyncio.ensure_future(render(r)) for r in requests]
        try:
            await all_or_cancel(list(tasks))
        except BaseException:
            if billing is not None:
                await billing.release()  # compensation, also when cancelled
            raise
        results = [t.result() for t in tasks]
        images = [ImageOutput(index=i + 1, template=jobs[i][0], uri=r.output.uri,
                              output=S3Object(bucket=r.output.bucket, key=r.output.key),
                              width=r.width, height=r.height, size_bytes=r.size_bytes)
                  for i, r in enumerate(results)]
        usage = ComputeUsage(duration_ms=sum(r.usage.duration_ms for r in results),
                             memory_mb=max(r.usage.memory_mb for r in results),
                             gb_seconds=round(sum(r.usage.gb_seconds for r in results), 6))
        cost = await billing.capture(usage) if billing is not None else None
        visible.stage("done", f"{len(images)} images")
        return GenerateImageOutput(images=images, usage=usage, cost=cost, brand=BrandLook.of(kit))
