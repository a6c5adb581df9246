"""Inputs, signals and status of PublishCreativeWorkflow (and what the trigger API sends)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from smm_runtime.contract.ownership import ACCOUNT_PATTERN
from smm_runtime.contract.workflow_io import BrandLook, DispatchPolicy

DECISIONS = ("approve", "reject", "revise")
SIGNAL_NAME = "agent_approval"
STAGES = (
    "rendering",
    "awaiting_approval",
    "approved",
    "scheduled",
    "publishing",
    "published",
    "failed",
    "rejected",
    "expired",
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CreativeSpec(_In):
    kind: Literal["video", "image"]
    spec: dict[str, Any]


class Tag(_In):
    value: str = Field(min_length=1, max_length=64)
    label: str = Field(min_length=1, max_length=64)


class PostSpec(_In):
    """What Postiz publishes: the text, the channels (Postiz 'integrations'), and when."""

    # Each channel's own length limit is checked by the preflight (channels.py).
    content: str = Field(min_length=1, max_length=100_000)
    integrations: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=20, description="Postiz integration ids (channels)."
    )
    type: Literal["schedule", "now", "draft"] = "schedule"
    publish_at: datetime | None = Field(
        default=None, description="When to publish (UTC); approval waits until then."
    )
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    short_link: bool = False
    settings: dict[str, Any] | None = Field(
        default=None, description="Postiz provider settings for every channel without its own."
    )
    channel_settings: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Postiz provider settings per channel (integration id): X needs "
        "who_can_reply_post, Instagram post_type, TikTok its privacy and posting fields.",
    )

    @field_validator("publish_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a timezone, e.g. '2027-01-15T09:00:00Z'")
        return value


class ApprovalPolicy(_In):
    reviewers: list[str] = Field(
        default_factory=list, max_length=100, description="Who may decide; empty means anyone."
    )
    reminder_every_s: float = Field(default=86_400, ge=1, le=90 * 86_400)
    expire_after_s: float = Field(default=14 * 86_400, ge=1, le=366 * 86_400)
    max_revisions: int = Field(default=3, ge=0, le=20)


class PayloadRef(_In):
    collection: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")


class DistributionPolicy(_In):
    """How the posts are created in Postiz and followed until they are live. Postiz limits
    post creations per organization per hour (API_LIMIT) and answers 429 with
    ``Retry-After``; a rate-limited create waits that long (``rate_limited_wait_s`` only
    when the header is missing). ``create_settle_s`` is no longer used (posts go out as
    drafts first, so a late commit cannot double a post); it is kept so inputs of earlier
    releases still decode."""

    create_timeout_s: float = Field(default=30, gt=1, le=600)
    create_settle_s: float = Field(default=120, ge=1, le=3600)
    budget_window_s: float = Field(
        default=3600,
        ge=5,
        le=86_400,
        description="Postiz's rate window: each post creation holds one of the deployment's "
        "`postiz-posts` permits this long (the worker's SMM_POOL_CAPS).",
    )
    rate_limited_wait_s: float = Field(default=300, ge=1, le=3600)
    retry_initial_s: float = Field(default=30, gt=0, le=3600)
    retry_max_s: float = Field(default=1200, gt=0, le=86_400)
    max_attempts: int = Field(default=12, ge=1, le=100)
    follow_every_s: float = Field(
        default=30, ge=1, le=3600, description="How often a queued post's state is read."
    )
    retry_window_s: float = Field(
        default=7 * 86_400,
        ge=0,
        le=90 * 86_400,
        description="After publish_failed, how long the publish waits for a retry of the "
        "failed channels (retry_publish) before it ends.",
    )
    queued_alarm_s: float = Field(
        default=1800,
        ge=10,
        le=7 * 86_400,
        description="A post still QUEUE this long after it was due: Postiz is not publishing.",
    )


class PublishInput(_In):
    creative: CreativeSpec
    post: PostSpec
    approval: ApprovalPolicy = ApprovalPolicy()
    payload: PayloadRef | None = None
    output_bucket: str = Field(min_length=3, max_length=63)
    assets_bucket: str | None = None
    dispatch: DispatchPolicy = DispatchPolicy()
    distribution: DistributionPolicy = DistributionPolicy()
    account: str | None = Field(
        default=None,
        pattern=ACCOUNT_PATTERN,
        description="Who pays; charged on approval, refunded otherwise.",
    )


class ApprovalDecision(_In):
    """The ``agent_approval`` signal's payload."""

    decision: Literal["approve", "reject", "revise"]
    reviewer: str = Field(min_length=1, max_length=200)
    comment: str = Field(default="", max_length=2000)
    changes: dict[str, Any] | None = Field(
        default=None, description="With revise: a JSON merge patch applied to the spec."
    )
    edits: dict[str, str] | None = Field(
        default=None,
        max_length=100,
        description="With revise: new text by path, for the paths the status lists as "
        "`editable` (a template's text props, a video's scene texts and captions).",
    )


class ApprovalRecord(BaseModel):
    at: datetime
    round: int
    decision: str
    reviewer: str
    comment: str = ""
    accepted: bool
    reason: str | None = None


class PublishStatus(BaseModel):
    stage: str
    round: int = 1
    post: PostSpec | None = Field(default=None, description="What will be posted (for review).")
    outputs: list[str] = Field(default_factory=list)
    editable: dict[str, str] = Field(
        default_factory=dict, description="The creative's text a revision may change."
    )
    approvals: list[ApprovalRecord] = Field(default_factory=list)
    reminders_sent: int = 0
    publish_at: datetime | None = None
    postiz_post_ids: list[str] = Field(default_factory=list)
    channels: dict[str, str] = Field(
        default_factory=dict, description="Each channel's Postiz state once posted."
    )
    permalinks: dict[str, str] = Field(
        default_factory=dict, description="Each channel's live post, once Postiz published it."
    )
    render_workflow_id: str | None = None
    render_progress: dict[str, Any] | None = None
    brand: BrandLook | None = Field(default=None, description="The render's brand (review page).")
    credits_held: int = 0
    credits_charged: int = 0
    error: str | None = None


# --- Distribution ------------------------------------------------------------------------


class PostizMedia(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    path: str


class CreatePostRequest(_In):
    workflow_id: str
    post: PostSpec
    media: list[PostizMedia]
    settle_s: float = 120
    http_timeout_s: float = 20
    rate_limited_wait_s: float = 300
    generation: int = Field(default=0, ge=0, description="Bumped by a retry of failed channels.")
    channel_media: dict[str, list[int]] = Field(
        default_factory=dict,
        description="Which of the media each channel's post carries (the preflight's choice).",
    )


class CreatePostResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    post_ids: list[str]
    reused: bool
    by_channel: dict[str, str] = Field(default_factory=dict)
    date: str | None = None


class FollowRequest(_In):
    """Read the state Postiz gives each of a publish's posts."""

    workflow_id: str
    generation: int = 0
    date: str = Field(description="The publish date the posts were sent with (UTC, ISO 8601).")
    post_ids: dict[str, str] = Field(description="Channel (integration id) -> Postiz post id.")


class ChannelState(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: Literal["QUEUE", "PUBLISHED", "ERROR", "DRAFT", "DELETED"]
    url: str | None = Field(default=None, description="The permalink, once PUBLISHED.")


class FollowResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    channels: dict[str, ChannelState]


class PayloadUpdate(_In):
    collection: str
    id: str
    seq: int
    data: dict[str, Any]


class ReviewAnnouncement(BaseModel):
    """Ask the worker to issue this round's signed review links and announce them."""

    model_config = ConfigDict(frozen=True)

    workflow_id: str
    round: int
    reviewers: list[str]
    expires_at: datetime
    content: str
    reminder: int = 0


class ReviewLinks(BaseModel):
    """Who was sent a private review link this round (empty when review links are not set
    up). ``links`` is what releases before per-reviewer delivery returned; it is read from
    old histories only and never filled: a link must not travel beyond its reviewer."""

    model_config = ConfigDict(frozen=True)

    delivered: list[str] = Field(default_factory=list)
    links: dict[str, str] = Field(default_factory=dict)
