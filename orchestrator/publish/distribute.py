"""Distribution from inside the publish workflow: each output uploaded to Postiz (in the
transfer function), then one post created once the deployment's Postiz budget allows."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from orchestrator.cap.models import POSTIZ_POSTS
    from orchestrator.cap.permits import Permits
    from orchestrator.dispatch.typed import dispatch
    from orchestrator.publish.postiz import PostizPublisher
    from smm_runtime.contract.basetypes import S3Object
    from smm_runtime.contract.errors import INVALID_REQUEST
    from smm_runtime.contract.kinds import POSTIZ_UPLOAD, PostizUploadRequest
    from smm_runtime.contract.publish_io import (
        CreatePostRequest,
        CreatePostResult,
        DistributionPolicy,
        PostizMedia,
        PostSpec,
    )
    from smm_runtime.contract.workflow_io import DispatchPolicy


def postiz_retry(policy: DistributionPolicy) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(seconds=policy.retry_initial_s),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=policy.retry_max_s),
        maximum_attempts=policy.max_attempts,
        non_retryable_error_types=[INVALID_REQUEST],
    )


async def distribute(
    media: list[tuple[S3Object, str]],
    post: PostSpec,
    policy: DispatchPolicy,
    distribution: DistributionPolicy,
    budget: Permits | None = None,
    account: str | None = None,
    channel_media: dict[str, list[int]] | None = None,
    generation: int = 0,
) -> CreatePostResult:
    """Upload each output to Postiz (in the transfer function), then create the post, once
    the deployment's Postiz budget has a creation to spare (waiting in line, durably)."""
    uploaded = []
    for index, (obj, content_type) in enumerate(media):
        name = f"{index + 1:02d}-{obj.key.rsplit('/', 1)[-1]}"
        result = await dispatch(
            POSTIZ_UPLOAD,
            PostizUploadRequest(
                source=S3Object(bucket=obj.bucket, key=obj.key),
                filename=name,
                content_type=content_type,
                account=account,
            ),
            policy,
            wait_for_cancellation=False,
        )
        uploaded.append(PostizMedia(id=result.id, path=result.path))
    if budget is not None:
        await budget.load_caps()
        await budget.take(
            POSTIZ_POSTS,
            f"{workflow.info().workflow_id}/post" + (f"-{generation}" if generation else ""),
            distribution.budget_window_s,
        )
    created = await workflow.execute_activity_method(
        PostizPublisher.create_postiz_post,
        CreatePostRequest(
            workflow_id=workflow.info().workflow_id,
            post=post,
            media=uploaded,
            settle_s=distribution.create_settle_s,
            # The HTTP call gives up before the activity does, so a timeout is ours to see.
            http_timeout_s=max(1.0, min(20.0, distribution.create_timeout_s - 2)),
            rate_limited_wait_s=distribution.rate_limited_wait_s,
            channel_media=channel_media or {},
            generation=generation,
        ),
        start_to_close_timeout=timedelta(seconds=distribution.create_timeout_s),
        retry_policy=postiz_retry(distribution),
    )
    return created
