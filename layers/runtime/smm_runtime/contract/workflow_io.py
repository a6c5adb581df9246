"""Inputs, outputs and status of the workflows: what starters (CLI, Payload) send and read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from smm_runtime.contract.basetypes import ComputeUsage, HexColor, MediaInfo, S3Object, S3Uri
from smm_runtime.contract.ownership import ACCOUNT_PATTERN, SHARED_PREFIX, owned_prefix
from smm_runtime.contract.soundtrack import PIECE_S


class RenderCost(BaseModel):
    """What a billed render charged: the credits captured, the measured compute, the hold."""

    model_config = ConfigDict(frozen=True)

    credits: int
    gb_seconds: float
    estimate: int


class DispatchPolicy(BaseModel):
    """How long a Lambda attempt may take and how Temporal retries it.

    The heartbeat timeout is short: a function heartbeats every few seconds, so a crashed or
    killed function is noticed within it. It matches Lambda's MaximumEventAgeInSeconds (whose
    minimum is 60 s), so an event Temporal has given up on is never started late.
    Start-to-close covers Lambda's queueing plus its 15-minute maximum run.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    heartbeat_timeout_s: float = Field(default=60, gt=1, le=600)
    start_to_close_s: float = Field(default=20 * 60, gt=1, le=24 * 3600)
    max_attempts: int = Field(default=5, ge=1, le=50)
    initial_interval_s: float = Field(default=2, gt=0, le=600)
    backoff: float = Field(default=2.0, ge=1, le=10)
    max_interval_s: float = Field(default=120, gt=0, le=3600)

    @property
    def heartbeat_timeout(self) -> timedelta:
        return timedelta(seconds=self.heartbeat_timeout_s)

    @property
    def start_to_close(self) -> timedelta:
        return timedelta(seconds=self.start_to_close_s)


class BrandKitRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    bucket: str = Field(min_length=3, max_length=63)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    account: str | None = Field(
        default=None,
        pattern=ACCOUNT_PATTERN,
        description="Whose kit: accounts/<account>/brand-kits/.",
    )

    @property
    def key(self) -> str:
        return f"{owned_prefix(self.account)}brand-kits/{self.id}.json"

    def candidate_keys(self) -> list[str]:
        """Where to look, in order: an account's own kit first, then the operator's shared
        one (shared/brand-kits/); unowned work reads the operator's brand-kits/."""
        if self.account is None:
            return [self.key]
        return [self.key, f"{SHARED_PREFIX}brand-kits/{self.id}.json"]


class RenderVideoInput(BaseModel):
    """The spec stays a plain mapping here: a bad spec must fail the workflow with a clear,
    non-retryable error naming the field, not fail payload decoding in a loop."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spec: dict[str, Any]
    output_bucket: str = Field(min_length=3, max_length=63)
    assets_bucket: str | None = Field(
        default=None, description="Where brand kits live; the output bucket when unset."
    )
    dispatch: DispatchPolicy = DispatchPolicy()
    account: str | None = Field(
        default=None,
        pattern=ACCOUNT_PATTERN,
        description="Who pays in credits; unset renders unbilled.",
    )
    owner: str | None = Field(
        default=None,
        pattern=ACCOUNT_PATTERN,
        description="Whose objects the spec may name (accounts/<owner>/ or shared/) and where "
        "outputs go; the account when unset. A publish sets it and bills once itself.",
    )
    max_parallel_segments: int = Field(
        default=8, ge=1, le=256, description="Segments of this render in flight at once."
    )
    audio_piece_s: float = Field(
        default=PIECE_S,
        ge=1,
        le=3600,
        description="A soundtrack longer than this is mixed in pieces of about this many "
        "seconds, in parallel.",
    )

    @property
    def scope(self) -> str | None:
        return self.owner or self.account


class BrandLook(BaseModel):
    """What a render's brand kit looks like (its name, colours and logo, not its fonts): the
    review page wears it. A render's result carries the kit it used, so the page shows the
    brand the creative was drawn with, even if the kit changed since."""

    model_config = ConfigDict(frozen=True)

    name: str = ""
    colors: dict[str, HexColor] = Field(default_factory=dict)
    logo: S3Uri | None = None

    @classmethod
    def of(cls, kit: Any) -> BrandLook:
        return cls(name=kit.name, colors=dict(kit.colors), logo=kit.logo)


class PresetOutput(BaseModel):
    model_config = ConfigDict(frozen=True)

    preset: str
    uri: str
    output: S3Object
    poster: S3Object
    media: MediaInfo


class RenderVideoOutput(BaseModel):
    model_config = ConfigDict(frozen=True)

    outputs: list[PresetOutput]
    total_frames: int
    segments_total: int
    segments_rendered: int
    segments_reused: int
    usage: ComputeUsage
    cost: RenderCost | None = None
    brand: BrandLook | None = None  # None in results from before it

    def by_preset(self, preset: str) -> PresetOutput:
        return next(o for o in self.outputs if o.preset == preset)


class RenderProgress(BaseModel):
    """What the ``progress`` query answers. Live percentages of running functions come from
    their heartbeats, which a client reads from the pending activities
    (orchestrator.render.progress).
    """

    stage: str
    segments_total: int = 0
    segments_done: int = 0
    segments_reused: int = 0
    segments_queued: int = Field(default=0, description="Waiting for a cluster-wide permit.")
    presets: dict[str, tuple[int, int]] = Field(
        default_factory=dict, description="Each preset's segments: (done, total)."
    )
    outputs: list[str] = Field(default_factory=list)
    error: str | None = None


class GenerateImageInput(BaseModel):
    """Like the video input, the spec stays a mapping so that a bad one fails clearly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spec: dict[str, Any]
    output_bucket: str = Field(min_length=3, max_length=63)
    assets_bucket: str | None = None
    dispatch: DispatchPolicy = DispatchPolicy(heartbeat_timeout_s=20, start_to_close_s=300)
    account: str | None = Field(default=None, pattern=ACCOUNT_PATTERN)
    owner: str | None = Field(
        default=None,
        pattern=ACCOUNT_PATTERN,
        description="Whose objects the spec may name (accounts/<owner>/ or shared/) and where "
        "outputs go; the account when unset. A publish sets it and bills once itself.",
    )

    @property
    def scope(self) -> str | None:
        return self.owner or self.account


class ImageOutput(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    template: str
    uri: str
    output: S3Object
    width: int
    height: int
    size_bytes: int


class GenerateImageOutput(BaseModel):
    model_config = ConfigDict(frozen=True)

    images: list[ImageOutput]
    usage: ComputeUsage
    cost: RenderCost | None = None
    brand: BrandLook | None = None  # None in results from before it
