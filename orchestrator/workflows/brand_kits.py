"""Loading a brand kit from inside a workflow (the activity reads S3 in the worker)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from orchestrator.activities.brand_kits import BrandKitStore
    from orchestrator.workflows.dispatching import NON_RETRYABLE_TYPES
    from smm_runtime.contract.video_spec import BrandKit
    from smm_runtime.contract.workflow_io import BrandKitRef

BRAND_KIT_TIMEOUT = timedelta(seconds=30)
BRAND_KIT_RETRY = RetryPolicy(maximum_attempts=5, non_retryable_error_types=NON_RETRYABLE_TYPES)


async def load_brand_kit(bucket: str, kit_id: str, owner: str | None) -> BrandKit:
    """The owner's kit (accounts/<owner>/brand-kits/<id>.json), or the operator's
    (brand-kits/<id>.json) for unowned work."""
    kit: BrandKit = await workflow.execute_activity_method(
        BrandKitStore.load_brand_kit, BrandKitRef(bucket=bucket, id=kit_id, account=owner),
        start_to_close_timeout=BRAND_KIT_TIMEOUT, retry_policy=BRAND_KIT_RETRY)
    return kit
