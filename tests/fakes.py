"""In-memory fakes at the activity boundary (the functions, Postiz, Payload, brand kits) and
the drivers the workflow tests and the replay recorder share."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from orchestrator.publish.carry import PublishCarry
from orchestrator.publish.workflow import PublishCreativeWorkflow
from orchestrator.render.image import GenerateImageWorkflow
from orchestrator.render.video import RenderVideoWorkflow
from smm_runtime.contract.basetypes import ComputeUsage, MediaInfo, S3Object
from smm_runtime.contract.errors import INVALID_REQUEST
from smm_runtime.contract.kinds import (
    AudioRequest,
    AudioResult,
    FinalizeRequest,
    FinalizeResult,
    ImageRequest,
    ImageResult,
    PostizUploadRequest,
    PostizUploadResult,
    SegmentRequest,
    SegmentResult,
)
from smm_runtime.contract.publish_io import (
    ChannelState,
    CreatePostRequest,
    CreatePostResult,
    FollowRequest,
    FollowResult,
    PayloadUpdate,
    PublishInput,
    PublishStatus,
    ReviewAnnouncement,
    ReviewLinks,
)
from smm_runtime.contract.soundtrack import PIECE_S
from smm_runtime.contract.video_spec import BrandKit
from smm_runtime.contract.workflow_io import BrandKitRef, DispatchPolicy, RenderVideoInput
from tests.factories import brand_kit

FAST = DispatchPolicy(initial_interval_s=1, max_attempts=3)
VIDEO_USAGE = ComputeUsage(duration_ms=10, memory_mb=3008, gb_seconds=0.03)


class FakeEngine:
    def __init__(self, fail_segments: int = 0, error: ApplicationError | None = None) -> None:
        self.segments: list[SegmentRequest] = []
        self.audio: list[AudioRequest] = []
        self.finals: list[FinalizeRequest] = []
        self.fail_segments = fail_segments
        self.error = error or ApplicationError("throttled", type="DispatchError")
        self.in_flight = 0
        self.max_in_flight = 0

    @activity.defn(name="load_brand_kit")
    async def load_brand_kit(self, ref: BrandKitRef) -> BrandKit:
        if ref.id != "acme":
            raise ApplicationError(
                f"brand_kit: {ref.id!r} not found", type=INVALID_REQUEST, non_retryable=True
            )
        return brand_kit()

    @activity.defn(name="pool_caps")
    async def pool_caps(self) -> dict[str, int]:
        return {}  # no cluster-wide cap in these tests

    @activity.defn(name="dispatch_segment")
    async def dispatch_segment(self, request: SegmentRequest) -> SegmentResult:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.02)
            if self.fail_segments:
                self.fail_segments -= 1
                raise self.error
            self.segments.append(request)
            return SegmentResult(
                segment=S3Object(
                    bucket=request.bucket,
                    key=f"intermediates/{request.preset}-{request.start_frame}",
                ),
                start_frame=request.start_frame,
                frames=request.end_frame - request.start_frame,
                reused=request.start_frame == 0,
                usage=VIDEO_USAGE,
            )
        finally:
            self.in_flight -= 1

    @activity.defn(name="dispatch_audio")
    async def dispatch_audio(self, request: AudioRequest) -> AudioResult:
        self.audio.append(request)
        piece = request.piece
        key = (
            "intermediates/a.m4a" if piece is None else f"intermediates/a-{piece.start_sample}.aac"
        )
        return AudioResult(
            audio=S3Object(bucket=request.bucket, key=key),
            duration_s=request.total_frames / 30
            if piece is None
            else (piece.end_sample - piece.start_sample) / 48_000,
            reused=False,
            usage=VIDEO_USAGE,
        )

    @activity.defn(name="dispatch_finalize")
    async def dispatch_finalize(self, request: FinalizeRequest) -> FinalizeResult:
        self.finals.append(request)
        return FinalizeResult(
            output=request.output,
            poster=request.poster,
            reused=False,
            usage=VIDEO_USAGE,
            media=MediaInfo(
                duration_s=request.total_frames / 30,
                width=1080,
                height=1920,
                fps=30,
                video_codec="h264",
                audio_codec="aac",
                format_name="mp4",
                size_bytes=1,
                frames=request.total_frames,
            ),
        )

    def activities(self) -> list[Any]:
        return [
            self.load_brand_kit,
            self.pool_caps,
            self.dispatch_segment,
            self.dispatch_audio,
            self.dispatch_finalize,
        ]


IMAGE_USAGE = ComputeUsage(duration_ms=1, memory_mb=1536, gb_seconds=0.001)
DAY = 86_400


class _AnyChannel(frozenset[str]):
    """An account allowed every channel (for fakes of the trigger's Temporal side)."""

    def __contains__(self, item: object) -> bool:
        return True


ANY_CHANNEL: frozenset[str] = _AnyChannel()


class PublishFakes:
    def __init__(self) -> None:
        self.images: list[ImageRequest] = []
        self.uploads: list[PostizUploadRequest] = []
        self.follows: list[FollowRequest] = []
        self.postiz_states: list[dict[str, str]] = []
        self.providers = {"x-1": "x", "li-2": "linkedin", "tiktok-1": "tiktok"}
        # The account's channels: "all" of the providers above, a list, or None (never set).
        self.allowed: list[str] | str | None = "all"
        self.channel_reads: list[str] = []
        self.posts: list[CreatePostRequest] = []
        self.payload: list[PayloadUpdate] = []
        self.announcements: list[ReviewAnnouncement] = []

    @activity.defn(name="load_brand_kit")
    async def load_brand_kit(self, ref: BrandKitRef) -> BrandKit:
        return brand_kit()

    @activity.defn(name="pool_caps")
    async def pool_caps(self) -> dict[str, int]:
        return {}  # no cluster-wide cap in these tests

    @activity.defn(name="dispatch_image")
    async def dispatch_image(self, request: ImageRequest) -> ImageResult:
        self.images.append(request)
        return ImageResult(
            output=request.output,
            width=request.width,
            height=request.height,
            size_bytes=100,
            reused=False,
            usage=IMAGE_USAGE,
        )

    @activity.defn(name="dispatch_postiz_upload")
    async def upload(self, request: PostizUploadRequest) -> PostizUploadResult:
        self.uploads.append(request)
        return PostizUploadResult(
            id=f"media-{len(self.uploads)}",
            path="https://u/x.png",
            bytes_sent=100,
            usage=IMAGE_USAGE,
        )

    @activity.defn(name="create_postiz_post")
    async def create_post(self, request: CreatePostRequest) -> CreatePostResult:
        self.posts.append(request)
        suffix = f"-g{request.generation}" if request.generation else ""
        return CreatePostResult(
            post_ids=[f"post-{i}{suffix}" for i in request.post.integrations],
            by_channel={i: f"post-{i}{suffix}" for i in request.post.integrations},
            date="2026-12-07T12:00:00Z",
            reused=False,
        )

    @activity.defn(name="account_channels")
    async def account_channels(self, account: str) -> list[str] | None:
        self.channel_reads.append(account)
        return sorted(self.providers) if self.allowed == "all" else self.allowed  # type: ignore[return-value]

    @activity.defn(name="postiz_channels")
    async def postiz_channels(self) -> dict[str, str]:
        return dict(self.providers)

    @activity.defn(name="follow_postiz_posts")
    async def follow_posts(self, request: FollowRequest) -> FollowResult:
        """Postiz's states, from ``self.postiz_states`` in turn (the last one repeats);
        every post live by default."""
        self.follows.append(request)
        states = (
            self.postiz_states.pop(0)
            if len(self.postiz_states) > 1
            else (self.postiz_states[0] if self.postiz_states else {})
        )
        return FollowResult(
            channels={
                ch: ChannelState(
                    state=states.get(ch, "PUBLISHED"),
                    url=f"https://{ch}.example/{pid}"
                    if states.get(ch, "PUBLISHED") == "PUBLISHED"
                    else None,
                )
                for ch, pid in request.post_ids.items()
            }
        )

    @activity.defn(name="update_payload")
    async def update_payload(self, update: PayloadUpdate) -> None:
        self.payload.append(update)

    @activity.defn(name="announce_review")
    async def announce_review(self, request: ReviewAnnouncement) -> ReviewLinks:
        self.announcements.append(request)
        return ReviewLinks(delivered=list(request.reviewers))

    def all(self) -> list[Any]:
        return [
            self.load_brand_kit,
            self.pool_caps,
            self.dispatch_image,
            self.upload,
            self.create_post,
            self.follow_posts,
            self.postiz_channels,
            self.account_channels,
            self.update_payload,
            self.announce_review,
        ]


def publish_input(**overrides: Any) -> PublishInput:
    base: dict[str, Any] = {
        "creative": {
            "kind": "image",
            "spec": {
                "brand_kit": "acme",
                "template": "quote_card",
                "props": {"quote": "Ship it", "author": "Ops"},
            },
        },
        "post": {
            "content": "New quote card",
            "integrations": ["x-1", "li-2"],
            "type": "now",
            "channel_settings": {"x-1": {"who_can_reply_post": "everyone"}},
        },
        "approval": {
            "reviewers": ["ana@example.com"],
            "reminder_every_s": DAY,
            "expire_after_s": 7 * DAY,
        },
        "payload": {"collection": "posts", "id": "doc-1"},
        "output_bucket": "out-bucket",
    }
    return PublishInput.model_validate({**base, **overrides})


async def until_stage(handle: WorkflowHandle[Any, PublishStatus], stage: str) -> PublishStatus:
    for _ in range(300):
        status = await handle.query(PublishCreativeWorkflow.status)
        if status.stage == stage:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"never reached {stage}; last: {status.stage}")


def approval(decision: str = "approve", **extra: Any) -> dict[str, Any]:
    return {"decision": decision, "reviewer": "ana@example.com", **extra}


async def run_with_worker(
    env: WorkflowEnvironment,
    fakes: PublishFakes,
    params: PublishInput,
    script: Any,
    worker_client: Client | None = None,
    **worker_options: Any,
) -> PublishStatus:
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        worker_client or env.client,
        task_queue=queue,
        workflows=[PublishCreativeWorkflow, GenerateImageWorkflow],
        activities=fakes.all(),
        **worker_options,
    ):
        handle = await env.client.start_workflow(
            PublishCreativeWorkflow.run, params, id=f"pub-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
        await script(handle)
        return await handle.result()


async def run_render(
    env: WorkflowEnvironment,
    fake: FakeEngine,
    video: dict[str, Any],
    workflow_id: str | None = None,
    parallel: int = 8,
    audio_piece_s: float = PIECE_S,
) -> Any:
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        env.client, task_queue=queue, workflows=[RenderVideoWorkflow], activities=fake.activities()
    ):
        handle = await env.client.start_workflow(
            RenderVideoWorkflow.run,
            RenderVideoInput(
                spec=video,
                output_bucket="out-bucket",
                dispatch=FAST,
                max_parallel_segments=parallel,
                audio_piece_s=audio_piece_s,
            ),
            id=workflow_id or f"wf-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        return await handle.result()


async def revise_then_approve(handle: WorkflowHandle[Any, PublishStatus]) -> None:
    """A reviewer asks for a new quote, waits for round 2, then approves it."""
    await until_stage(handle, "awaiting_approval")
    await handle.signal(
        "agent_approval", approval("revise", changes={"props": {"quote": "Ship it today"}})
    )
    for _ in range(200):
        status = await handle.query(PublishCreativeWorkflow.status)
        if status.round == 2 and status.stage == "awaiting_approval":
            break
        await asyncio.sleep(0.05)
    await handle.signal("agent_approval", approval())


def waiting_carry(deadline_in: timedelta) -> PublishCarry:
    """What a publish waiting for its first decision carries into its next run."""
    output = S3Object(bucket="out-bucket", key="renders/pub/card.png")
    return PublishCarry(
        status=PublishStatus(stage="awaiting_approval", outputs=[output.uri]),
        creative=publish_input().creative.spec,
        media=[(output, "image/png")],
        deadline=datetime.now(UTC) + deadline_in,
        runs=2,
    )
