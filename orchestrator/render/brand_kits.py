"""Brand kits (small JSON documents in S3): the activity that loads one, in the worker, and
``load_brand_kit``, its caller inside a workflow."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from orchestrator.dispatch.typed import NON_RETRYABLE_TYPES
from orchestrator.executors import on_aws
from smm_runtime.contract.errors import INVALID_REQUEST
from smm_runtime.contract.validation import describe_validation_error
from smm_runtime.contract.video_spec import BrandKit
from smm_runtime.contract.workflow_io import BrandKitRef

MAX_KIT_BYTES = 64 * 1024
BRAND_KIT_TIMEOUT = timedelta(seconds=30)
BRAND_KIT_RETRY = RetryPolicy(maximum_attempts=5, non_retryable_error_types=NON_RETRYABLE_TYPES)


class BrandKitStore:
    def __init__(self, s3: Any) -> None:
        self._s3 = s3

    @activity.defn(name="load_brand_kit")
    async def load_brand_kit(self, ref: BrandKitRef) -> BrandKit:
        found = await self._first(ref)
        if found is None:
            expected = " or ".join(f"s3://{ref.bucket}/{key}" for key in ref.candidate_keys())
            account = f" --account {ref.account}" if ref.account else ""
            raise ApplicationError(
                f"brand_kit: {ref.id!r} not found (expected {expected}); upload it with "
                f"'smm-engine brand-kit put KIT.json{account}'",
                type=INVALID_REQUEST,
                non_retryable=True,
            )
        where, body = found
        if len(body) > MAX_KIT_BYTES:
            raise ApplicationError(
                f"brand_kit: {where} is larger than {MAX_KIT_BYTES} bytes",
                type=INVALID_REQUEST,
                non_retryable=True,
            )
        try:
            kit = BrandKit.model_validate(json.loads(body))
        except (json.JSONDecodeError, ValidationError) as err:
            detail = (
                describe_validation_error(err, prefix="brand_kit.")
                if isinstance(err, ValidationError)
                else f"brand_kit: not JSON ({err})"
            )
            raise ApplicationError(
                f"{where}: {detail}", type=INVALID_REQUEST, non_retryable=True
            ) from None
        if kit.id != ref.id:
            raise ApplicationError(
                f"brand_kit.id: {where} says {kit.id!r}, expected {ref.id!r}",
                type=INVALID_REQUEST,
                non_retryable=True,
            )
        return kit

    async def _first(self, ref: BrandKitRef) -> tuple[str, bytes] | None:
        """The first kit that exists where ``ref`` looks: (its URI, up to the limit + 1 bytes)."""
        for key in ref.candidate_keys():
            try:
                obj = await on_aws(self._s3.get_object, Bucket=ref.bucket, Key=key)
                return f"s3://{ref.bucket}/{key}", await on_aws(obj["Body"].read, MAX_KIT_BYTES + 1)
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") not in {
                    "NoSuchKey",
                    "404",
                    "NotFound",
                }:
                    raise
        return None


async def load_brand_kit(bucket: str, kit_id: str, owner: str | None) -> BrandKit:
    """Inside a workflow: the owner's kit (accounts/<owner>/brand-kits/<id>.json), or the
    operator's (brand-kits/<id>.json) for unowned work."""
    kit: BrandKit = await workflow.execute_activity_method(
        BrandKitStore.load_brand_kit,
        BrandKitRef(bucket=bucket, id=kit_id, account=owner),
        start_to_close_timeout=BRAND_KIT_TIMEOUT,
        retry_policy=BRAND_KIT_RETRY,
    )
    return kit
