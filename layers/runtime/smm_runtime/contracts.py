"""The versioned dispatch contract: every event and result shape, defined once.

An event is what the worker's dispatch activity sends to a Lambda function; a result is what
the function hands back through async activity completion. Both sides import these models, so
the completing side sends exactly the type the activity declares. Bump ``CONTRACT_VERSION``
on any breaking change; a function refuses events of a version it does not speak.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_serializer,
    model_validator,
)

from smm_runtime import CONTRACT_VERSION

SUPPORTED_CONTRACT_VERSIONS = frozenset({CONTRACT_VERSION})

HexColor = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]
S3Uri = Annotated[
    str,
    StringConstraints(pattern=r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/[^\x00-\x1f]{1,1024}$"),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class S3Object(_Model):
    bucket: str = Field(min_length=3, max_length=63)
    key: str = Field(min_length=1, max_length=1024)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @classmethod
    def from_uri(cls, uri: str) -> S3Object:
        if not uri.startswith("s3://") or "/" not in uri[5:]:
            raise ValueError(f"{uri!r} is not an s3://bucket/key URI")
        bucket, key = uri[5:].split("/", 1)
        return cls(bucket=bucket, key=key)


# --- The branded video spec (small v1 of the foundation) ------------------------------------


class Background(_Model):
    """Exactly one of a solid colour or an image from S3."""

    color: HexColor | None = None
    image: S3Uri | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Background:
        if (self.color is None) == (self.image is None):
            raise ValueError(
                "set exactly one of 'color' (like '#1A2B3C') or 'image' (an s3:// URI)")
        return self


class BrandedVideoSpec(_Model):
    """A vertical 1080x1920 branded clip: background, title/subtitle, logo, music."""

    duration_s: float = Field(gt=0, le=300, description="Length of the video in seconds.")
    background: Background
    title: str = Field(min_length=1, max_length=120)
    subtitle: str | None = Field(default=None, max_length=200)
    font: S3Uri = Field(description="The brand font (TTF or OTF) in the assets bucket.")
    text_color: HexColor = "#FFFFFF"
    logo: S3Uri | None = Field(default=None, description="PNG or JPEG logo, placed top right.")
    music: S3Uri | None = Field(default=None, description="Music bed (MP3, AAC, WAV, M4A).")
    music_volume: float = Field(default=0.8, ge=0, le=2)
    fade_out_s: float = Field(default=1.5, ge=0, le=10)

    def asset_uris(self) -> dict[str, str]:
        """Every S3 input by the spec field that names it (for error messages)."""
        found = {"font": self.font}
        if self.background.image:
            found["background.image"] = self.background.image
        if self.logo:
            found["logo"] = self.logo
        if self.music:
            found["music"] = self.music
        return found


# --- Requests and results per kind ----------------------------------------------------------


class RenderVideoRequest(_Model):
    spec: BrandedVideoSpec
    output: S3Object


class MediaInfo(_Model):
    duration_s: float
    width: int
    height: int
    fps: float
    video_codec: str
    audio_codec: str | None
    format_name: str
    size_bytes: int


class ComputeUsage(_Model):
    """What the function measured about itself; billing turns this into credits."""

    duration_ms: int
    memory_mb: int
    gb_seconds: float


class RenderVideoResult(_Model):
    kind: Literal["render_video"] = "render_video"
    output: S3Object
    media: MediaInfo
    usage: ComputeUsage
    reused_existing: bool = Field(
        description="True when an earlier delivery of the same event already wrote the output."
    )


class NoopRequest(_Model):
    sleep_ms: int = Field(default=0, ge=0, le=600_000)
    echo: str = Field(default="", max_length=1000)


class NoopResult(_Model):
    kind: Literal["noop"] = "noop"
    echo: str
    cold_start: bool


# --- Events ---------------------------------------------------------------------------------


class _EventBase(_Model):
    contract_version: int
    # A bearer capability for one attempt: masked in repr/str, revealed only when serialized
    # to JSON for the invoke payload. Never log an event.
    task_token: SecretStr
    workflow_id: str = Field(min_length=1)
    run_id: str = ""
    activity_id: str = Field(min_length=1)
    attempt: int = Field(ge=1)
    heartbeat_details: dict[str, Any] | None = Field(
        default=None, description="The previous attempt's last heartbeat: the checkpoint."
    )

    @field_serializer("task_token", when_used="json")
    def _reveal_token(self, token: SecretStr) -> str:
        return token.get_secret_value()

    def task_token_bytes(self) -> bytes:
        return base64.b64decode(self.task_token.get_secret_value(), validate=True)


class RenderVideoEvent(_EventBase):
    kind: Literal["render_video"]
    request: RenderVideoRequest


class NoopEvent(_EventBase):
    kind: Literal["noop"]
    request: NoopRequest


DispatchEvent = Annotated[RenderVideoEvent | NoopEvent, Field(discriminator="kind")]
_EVENT_ADAPTER: TypeAdapter[RenderVideoEvent | NoopEvent] = TypeAdapter(DispatchEvent)

KIND_RESULTS: dict[str, type[BaseModel]] = {
    "render_video": RenderVideoResult,
    "noop": NoopResult,
}


def encode_task_token(token: bytes) -> str:
    return base64.b64encode(token).decode("ascii")


class ContractError(Exception):
    """An event or spec that does not match the contract, with the offending field named."""

    def __init__(self, message: str, *, error_type: str, field: str | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.field = field


def describe_validation_error(err: ValidationError, *, prefix: str = "", limit: int = 5) -> str:
    """'request.spec.duration_s: Input should be greater than 0; ...' for the first errors."""
    parts = []
    for item in err.errors()[:limit]:
        path = ".".join(str(p) for p in item["loc"] if p not in ("function-after",))
        field = f"{prefix}{path}" if path else prefix.rstrip(".") or "(root)"
        parts.append(f"{field}: {item['msg']}")
    more = len(err.errors()) - limit
    if more > 0:
        parts.append(f"(+{more} more)")
    return "; ".join(parts)


def extract_task_token(raw: object) -> bytes | None:
    """The token alone, so a function can fail the activity even when the rest is invalid."""
    if not isinstance(raw, dict):
        return None
    token = raw.get("task_token")
    if not isinstance(token, str) or not token:
        return None
    try:
        return base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return None


def parse_event(raw: object) -> RenderVideoEvent | NoopEvent:
    """Validate an incoming event; raise ContractError naming the field on any problem."""
    from smm_runtime.errors import INVALID_REQUEST, UNSUPPORTED_CONTRACT

    if not isinstance(raw, dict):
        raise ContractError("the event must be a JSON object", error_type=INVALID_REQUEST)
    version = raw.get("contract_version")
    if version not in SUPPORTED_CONTRACT_VERSIONS:
        raise ContractError(
            f"contract_version {version!r} is not supported by this function (it speaks "
            f"{sorted(SUPPORTED_CONTRACT_VERSIONS)}): deploy the worker and the functions "
            "from the same release",
            error_type=UNSUPPORTED_CONTRACT,
            field="contract_version",
        )
    try:
        return _EVENT_ADAPTER.validate_python(raw)
    except ValidationError as err:
        first = err.errors()[0]["loc"] if err.errors() else ()
        raise ContractError(
            f"invalid event: {describe_validation_error(err)}",
            error_type=INVALID_REQUEST,
            field=".".join(str(p) for p in first) or None,
        ) from None


def parse_spec(raw: object) -> BrandedVideoSpec:
    """Validate a video spec as a user wrote it; the message names each bad field."""
    from smm_runtime.errors import INVALID_REQUEST

    try:
        return BrandedVideoSpec.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]["loc"] if err.errors() else ()
        raise ContractError(
            f"invalid video spec: {describe_validation_error(err, prefix='spec.')}",
            error_type=INVALID_REQUEST,
            field="spec." + ".".join(str(p) for p in first),
        ) from None
