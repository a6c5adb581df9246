"""The publish workflow's helpers: Payload write-back in order, the review announcement and
the distribution to Postiz. Used only inside ``PublishCreativeWorkflow`` (deterministic)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from orchestrator.activities.payload_cms import PayloadReporter
    from orchestrator.activities.postiz import PostizPublisher
    from orchestrator.activities.review_links import ReviewAnnouncer
    from orchestrator.permits_io import POSTIZ_POSTS
    from orchestrator.workflows.dispatching import dispatch
    from orchestrator.workflows.generate_image import GenerateImageWorkflow
    from orchestrator.workflows.permits import Permits
    from orchestrator.workflows.render_video import RenderVideoWorkflow
    from smm_runtime.contract.basetypes import ComputeUsage, S3Object
    from smm_runtime.contract.errors import INSUFFICIENT_CREDITS, INVALID_REQUEST
    from smm_runtime.contract.kinds import POSTIZ_UPLOAD, PostizUploadRequest
    from smm_runtime.contract.publish_io import (
        CreatePostRequest,
        DistributionPolicy,
        PayloadRef,
        PayloadUpdate,
        PostizMedia,
        PostSpec,
        PublishInput,
        PublishStatus,
        ReviewAnnouncement,
        ReviewLinks,
    )
    from smm_runtime.contract.workflow_io import (
        BrandLook,
        DispatchPolicy,
        GenerateImageInput,
        RenderVideoInput,
    )

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
        self.first_seq = 1  # above the last run's when the workflow continued as new
        self.stopped = False
        self.in_flight = False

    def resume(self, next_seq: int, unsent: list[PayloadUpdate]) -> None:
        self.first_seq = next_seq - len(unsent)
        self.updates = list(unsent)

    def next_seq(self) -> int:
        return self.first_seq + len(self.updates)

    def unsent(self) -> list[PayloadUpdate]:
        return self.updates[self.sent:]

    def add(self, target: PayloadRef, data: dict[str, Any]) -> None:
        self.updates.append(PayloadUpdate(collection=target.collection, id=target.id,
                                          seq=self.next_seq(), data=data))

    def report(self, target: PayloadRef | None, status: PublishStatus, stage: str,
               **extra: Any) -> None:
        """The engine fields of a stage change (extra keys become engineCamelCase)."""
        if target is None:
            return
        self.add(target, {
            "engineStage": stage, "engineWorkflowId": workflow.info().workflow_id,
            "engineRound": status.round, "engineOutputs": list(status.outputs),
            "enginePostizPostIds": list(status.postiz_post_ids), "engineError": status.error,
            **{"engine" + "".join(p.title() for p in k.split("_")): v
               for k, v in extra.items()}})

    async def run(self) -> None:
        while not self.stopped:
            await workflow.wait_condition(lambda: self.sent < len(self.updates))
            update = self.updates[self.sent]
            self.in_flight = True
            try:
                await workflow.execute_activity_method(
                    PayloadReporter.update_payload, update,
                    start_to_close_timeout=PAYLOAD_TIMEOUT,
                    schedule_to_close_timeout=PAYLOAD_SCHEDULE_TO_CLOSE,
                    retry_policy=PAYLOAD_RETRY)
            except Exception:
                if self.stopped:
                    return
                workflow.logger.warning("Payload write-back %s gave up", update.seq)
            finally:
                self.in_flight = False
            self.sent += 1

    async def settle(self, within: timedelta) -> None:
        """Wait (a little) for the report in flight, so none is left running when the run
        continues as new; one still in flight after ``within`` is sent again there."""
        with contextlib.suppress(asyncio.TimeoutError):
            await workflow.wait_condition(lambda: not self.in_flight, timeout=within)

    def stop(self) -> None:
        """The run continues as new: schedule nothing more here; what is unsent (the one
        in flight included, which Payload takes once by its seq) goes to the next run."""
        self.stopped = True

    async def drain(self) -> None:
        """Let the last stage reach Payload, but never wait on it for long."""
        with contextlib.suppress(asyncio.TimeoutError):
            await workflow.wait_condition(lambda: self.sent == len(self.updates),
                                          timeout=WRITE_BACK_DRAIN)


Rendered = tuple[list[tuple[S3Object, str]], ComputeUsage, BrandLook | None]


async def render_creative(p: PublishInput, creative: dict[str, Any], child_id: str,
                          owner: str | None) -> Rendered:
    """One round's render, as a child workflow: its media (with content types), usage and
    the brand it was drawn with."""
    if p.creative.kind == "video":
        video = await workflow.execute_child_workflow(
            RenderVideoWorkflow.run,
            RenderVideoInput(spec=creative, output_bucket=p.output_bucket,
                             assets_bucket=p.assets_bucket, dispatch=p.dispatch,
                             owner=owner),
            id=child_id, static_summary=f"video render for {workflow.info().workflow_id}")
        return [(o.output, "video/mp4") for o in video.outputs], video.usage, video.brand
    images = await workflow.execute_child_workflow(
        GenerateImageWorkflow.run,
        GenerateImageInput(spec=creative, output_bucket=p.output_bucket,
                           assets_bucket=p.assets_bucket, owner=owner),
        id=child_id, static_summary=f"image render for {workflow.info().workflow_id}")
    return [(i.output, "image/png") for i in images.images], images.usage, images.brand


def ending(err: BaseException) -> tuple[str, str | None]:
    """The stage (and error) a publish that raised ``err`` ends in."""
    if isinstance(err, asyncio.CancelledError):
        return "cancelled", None
    if isinstance(err, ChildWorkflowError):
        return "failed", str(err.cause or err)
    if isinstance(err, ActivityError):  # credits, the ledger, Postiz out of retries
        cause = err.cause
        short = isinstance(cause, ApplicationError) and cause.type == INSUFFICIENT_CREDITS
        return "insufficient_credits" if short else "failed", str(cause or err)
    return "failed", str(err)


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
                     budget: Permits | None = None, account: str | None = None) -> list[str]:
    """Upload each output to Postiz (in the transfer function), then create the post, once
    the deployment's Postiz budget has a creation to spare (waiting in line, durably)."""
    uploaded = []
    for index, (obj, content_type) in enumerate(media):
        name = f"{index + 1:02d}-{obj.key.rsplit('/', 1)[-1]}"
        result = await dispatch(
            POSTIZ_UPLOAD,
            PostizUploadRequest(source=S3Object(bucket=obj.bucket, key=obj.key),
                                filename=name, content_type=content_type, account=account),
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
