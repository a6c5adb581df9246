"""The publish workflow's helpers: Payload write-back in order, the review announcement and
the distribution to Postiz. Used only inside ``PublishCreativeWorkflow`` (deterministic)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from orchestrator.activities.payload_cms import PayloadReporter
    from orchestrator.activities.postiz import PostizPublisher
    from orchestrator.activities.review_links import ReviewAnnouncer
    from orchestrator.permits_io import POSTIZ_POSTS
    from orchestrator.workflows.dispatching import dispatch
    from orchestrator.workflows.permits import Permits
    from smm_runtime.contract.basetypes import S3Object
    from smm_runtime.contract.errors import INVALID_REQUEST
    from smm_runtime.contract.kinds import POSTIZ_UPLOAD, PostizUploadRequest
    from smm_runtime.contract.publish_io import (
        CreatePostRequest,
        DistributionPolicy,
        PayloadRef,
        PayloadUpdate,
        PostizMedia,
        PostSpec,
        ReviewAnnouncement,
        ReviewLinks,
    )
    from smm_runtime.contract.workflow_io import DispatchPolicy

PAYLOAD_TIMEOUT = timedelta(seconds=15)
# Payload write-back: keep trying for a week; it never blocks the flow.
PAYLOAD_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0,
                            maximum_interval=timedelta(minutes=5),
                            non_retryable_error_types=[INVALID_REQUEST])
PAYLOAD_SCHEDULE_TO_CLOSE = timedelta(days=7)
WRITE_BACK_DRAIN = timedelta(hours=1)
# Review links: signing is instant; the webhook gets a few tries, then the round goes on.
ANNOUNCE_TIMEOUT = timedelta(seconds=20)
ANNOUNCE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=5,
                             non_retryable_error_types=[INVALID_REQUEST])


def postiz_retry(policy: DistributionPolicy) -> RetryPolicy:
    return RetryPolicy(initial_interval=timedelta(seconds=policy.retry_initial_s),
                       backoff_coefficient=2.0,
                       maximum_interval=timedelta(seconds=policy.retry_max_s),
                       maximum_attempts=policy.max_attempts,
                       non_retryable_error_types=[INVALID_REQUEST])


class PayloadWriteBack:
    """Stage reports for one Payload document, sent one at a time and in order; each is
    retried until Payload takes it, and none ever blocks the flow."""

    def __init__(self) -> None:
        self.updates: list[PayloadUpdate] = []
        self.sent = 0

    def add(self, target: PayloadRef, data: dict[str, Any]) -> None:
        self.updates.append(PayloadUpdate(collection=target.collection, id=target.id,
                                          seq=len(self.updates) + 1, data=data))

    async def run(self) -> None:
        while True:
            await workflow.wait_condition(lambda: self.sent < len(self.updates))
            update = self.updates[self.sent]
            try:
                await workflow.execute_activity_method(
                    PayloadReporter.update_payload, update,
                    start_to_close_timeout=PAYLOAD_TIMEOUT,
                    schedule_to_close_timeout=PAYLOAD_SCHEDULE_TO_CLOSE,
                    retry_policy=PAYLOAD_RETRY)
            except Exception:
                workflow.logger.warning("Payload write-back %s gave up", update.seq)
            self.sent += 1

    async def drain(self) -> None:
        """Let the last stage reach Payload, but never wait on it for long."""
        with contextlib.suppress(asyncio.TimeoutError):
            await workflow.wait_condition(lambda: self.sent == len(self.updates),
                                          timeout=WRITE_BACK_DRAIN)


async def announce_review(request: ReviewAnnouncement) -> ReviewLinks | None:
    """This round's signed review links (None when the announcement failed: a failed
    announcement never blocks the approval itself)."""
    try:
        links: ReviewLinks = await workflow.execute_activity_method(
            ReviewAnnouncer.announce_review, request, start_to_close_timeout=ANNOUNCE_TIMEOUT,
            retry_policy=ANNOUNCE_RETRY)
    except ActivityError:
        workflow.logger.warning("review links not announced (round %s)", request.round)
        return None
    return links


async def distribute(media: list[tuple[S3Object, str]], post: PostSpec,
                     policy: DispatchPolicy, distribution: DistributionPolicy,
                     budget: Permits | None = None) -> list[str]:
    """Upload each output to Postiz (in the transfer function), then create the post, once
    the deployment's Postiz budget has a creation to spare (waiting in line, durably)."""
    uploaded = []
    for index, (obj, content_type) in enumerate(media):
        name = f"{index + 1:02d}-{obj.key.rsplit('/', 1)[-1]}"
        result = await dispatch(
            POSTIZ_UPLOAD,
            PostizUploadRequest(source=S3Object(bucket=obj.bucket, key=obj.key),
                                filename=name, content_type=content_type),
            policy, wait_for_cancellation=False)
        uploaded.append(PostizMedia(id=result.id, path=result.path))
    if budget is not None:
        await budget.load_caps()
        await budget.take(POSTIZ_POSTS, f"{workflow.info().workflow_id}/post",
                          distribution.budget_window_s)
    created = await workflow.execute_activity_method(
        PostizPublisher.create_postiz_post,
        CreatePostRequest(
            workflow_id=workflow.info().workflow_id, post=post, media=uploaded,
            settle_s=distribution.create_settle_s,
            # The HTTP call gives up before the activity does, so a timeout is ours to see.
            http_timeout_s=max(1.0, min(20.0, distribution.create_timeout_s - 2)),
            rate_limited_wait_s=distribution.rate_limited_wait_s),
        start_to_close_timeout=timedelta(seconds=distribution.create_timeout_s),
        retry_policy=postiz_retry(distribution))
    return list(created.post_ids)
