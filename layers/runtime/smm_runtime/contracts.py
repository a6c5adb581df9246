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
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_serializer,
    model_validator,
)

from smm_runtime import CONTRACT_VERSION
from smm_runtime.basetypes import ComputeUsage, HexColor, MediaInfo, Model, S3Object, S3Uri
from smm_runtime.errors import INVALID_REQUEST, UNSUPPORTED_CONTRACT
from smm_runtime.image_spec import ImageSpec
from smm_runtime.timeline import Timeline
from smm_runtime.video_spec import BrandKit, MusicBed, PresetName, VideoSpec

__all__ = ["ComputeUsage", "HexColor", "MediaInfo", "S3Object", "S3Uri"]

SUPPORTED_CONTRACT_VERSIONS = frozenset({CONTRACT_VERSION})


# --- Requests and results per kind ----------------------------------------------------------


class SegmentRequest(Model):
    """Render frames [start_frame, end_frame) of one preset, video only."""

    preset: PresetName
    width: int = Field(ge=16, le=4096)
    height: int = Field(ge=16, le=4096)
    crf: int = Field(ge=0, le=51)
    start_frame: int = Field(ge=0)
    end_frame: int = Field(gt=0)
    timeline: Timeline
    bucket: str = Field(min_length=3, max_length=63, description="Where intermediates go.")


class SegmentResult(Model):
    kind: Literal["render_segment"] = "render_segment"
    segment: S3Object
    start_frame: int
    frames: int
    reused: bool = Field(description="True when the checkpoint already existed in S3.")
    usage: ComputeUsage
    started_at: float = Field(default=0, description="Unix time the function began (its clock).")
    finished_at: float = Field(default=0, description="Unix time the function finished.")


class VoiceOverTrack(Model):
    uri: S3Uri
    start_frame: int = Field(ge=0)
    volume: float
    duck_music: bool


class AudioRequest(Model):
    """Mix the whole soundtrack once; every preset shares it."""

    total_frames: int = Field(gt=0)
    fps: int = 30
    music: MusicBed | None = None
    voiceover: VoiceOverTrack | None = None
    bucket: str = Field(min_length=3, max_length=63)


class AudioResult(Model):
    kind: Literal["render_audio"] = "render_audio"
    audio: S3Object
    duration_s: float
    reused: bool
    usage: ComputeUsage


class FinalizeRequest(Model):
    """Join segments by stream copy, mux the audio, write a faststart MP4 and a poster."""

    preset: PresetName
    total_frames: int = Field(gt=0)
    fps: int = 30
    segments: list[S3Object] = Field(min_length=1)
    segment_frames: list[int] = Field(min_length=1, description="Frames in each segment.")
    audio: S3Object | None = None
    output: S3Object
    poster: S3Object


    @model_validator(mode="after")
    def _frames_add_up(self) -> FinalizeRequest:
        if len(self.segment_frames) != len(self.segments):
            raise ValueError("segment_frames: one frame count per segment")
        if sum(self.segment_frames) != self.total_frames:
            raise ValueError(f"segment_frames: they add up to {sum(self.segment_frames)}, "
                             f"not total_frames ({self.total_frames})")
        return self


class FinalizeResult(Model):
    kind: Literal["finalize_video"] = "finalize_video"
    output: S3Object
    poster: S3Object
    media: MediaInfo
    reused: bool
    usage: ComputeUsage


class ImageRequest(Model):
    """Render one image from a template with the brand kit, to a PNG at ``output``."""

    template: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    width: int = Field(ge=16, le=4096)
    height: int = Field(ge=16, le=4096)
    props: dict[str, Any]
    brand: BrandKit
    output: S3Object
    fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$",
                             description="SHA-256 of the rest; marks the output as done.")


class ImageResult(Model):
    kind: Literal["render_image"] = "render_image"
    output: S3Object
    width: int
    height: int
    size_bytes: int
    reused: bool
    usage: ComputeUsage


class PostizUploadRequest(Model):
    """Stream one finished file from S3 to Postiz's upload endpoint."""

    source: S3Object
    filename: str = Field(pattern=r"^[A-Za-z0-9._-]{1,128}$")
    content_type: str = Field(pattern=r"^(image/(png|jpeg)|video/mp4)$")


class PostizUploadResult(Model):
    kind: Literal["postiz_upload"] = "postiz_upload"
    id: str
    path: str
    bytes_sent: int
    usage: ComputeUsage


class ImportAssetRequest(Model):
    """Stream a file from an allow-listed https URL into the assets bucket."""

    url: str = Field(min_length=9, max_length=2048, pattern=r"^https?://")
    target: S3Object
    max_bytes: int = Field(default=512 * 1024 * 1024, ge=1, le=5 * 1024**3)
    allowed_types: list[str] = Field(
        default_factory=lambda: ["image/png", "image/jpeg", "image/webp", "video/mp4",
                                 "audio/mpeg", "font/ttf", "font/otf"], min_length=1)
    expected_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class ImportAssetResult(Model):
    kind: Literal["import_asset"] = "import_asset"
    target: S3Object
    size_bytes: int
    sha256: str
    content_type: str
    reused: bool
    usage: ComputeUsage


class NoopRequest(Model):
    sleep_ms: int = Field(default=0, ge=0, le=600_000)
    echo: str = Field(default="", max_length=1000)


class NoopResult(Model):
    kind: Literal["noop"] = "noop"
    echo: str
    cold_start: bool


# --- Events ---------------------------------------------------------------------------------


class _EventBase(Model):
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


class SegmentEvent(_EventBase):
    kind: Literal["render_segment"]
    request: SegmentRequest


class AudioEvent(_EventBase):
    kind: Literal["render_audio"]
    request: AudioRequest


class FinalizeEvent(_EventBase):
    kind: Literal["finalize_video"]
    request: FinalizeRequest


class ImageEvent(_EventBase):
    kind: Literal["render_image"]
    request: ImageRequest


class PostizUploadEvent(_EventBase):
    kind: Literal["postiz_upload"]
    request: PostizUploadRequest


class ImportAssetEvent(_EventBase):
    kind: Literal["import_asset"]
    request: ImportAssetRequest


class NoopEvent(_EventBase):
    kind: Literal["noop"]
    request: NoopRequest


AnyEvent = (SegmentEvent | AudioEvent | FinalizeEvent | ImageEvent | PostizUploadEvent
            | ImportAssetEvent | NoopEvent)
DispatchEvent = Annotated[AnyEvent, Field(discriminator="kind")]
_EVENT_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(DispatchEvent)

KIND_RESULTS: dict[str, type[BaseModel]] = {
    "render_segment": SegmentResult,
    "render_audio": AudioResult,
    "finalize_video": FinalizeResult,
    "render_image": ImageResult,
    "postiz_upload": PostizUploadResult,
    "import_asset": ImportAssetResult,
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


def parse_event(raw: object) -> AnyEvent:
    """Validate an incoming event; raise ContractError naming the field on any problem."""
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


def image_fingerprint(request: dict[str, Any]) -> str:
    """SHA-256 of an image request without its fingerprint (canonical JSON)."""
    import hashlib
    import json

    body = {k: v for k, v in request.items() if k != "fingerprint"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_image_spec(raw: object) -> ImageSpec:
    try:
        return ImageSpec.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]["loc"] if err.errors() else ()
        raise ContractError(
            f"invalid image spec: {describe_validation_error(err, prefix='spec.')}",
            error_type=INVALID_REQUEST,
            field="spec." + ".".join(str(p) for p in first),
        ) from None


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schemas of the image event and result, by file name: the Node function validates
    what it receives and what it sends against them (committed; a test catches drift)."""
    found: dict[str, dict[str, Any]] = {}
    for name, model, mode in (("image-event", ImageEvent, "validation"),
                              ("image-result", ImageResult, "serialization")):
        schema: dict[str, Any] = model.model_json_schema(mode=mode)  # type: ignore[arg-type]
        schema["$comment"] = (f"Generated from smm_runtime.contracts.{model.__name__} by "
                              "'make schema'; do not edit.")
        found[f"{name}.schema.json"] = schema
    return found


def write_json_schemas(folder: Any) -> list[Any]:
    import json
    from pathlib import Path

    written = []
    for name, schema in json_schemas().items():
        path = Path(folder) / name
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    import sys

    for written_path in write_json_schemas(sys.argv[1]):
        print(f"wrote {written_path}")


def parse_spec(raw: object) -> VideoSpec:
    """Validate a video spec as a user wrote it; the message names each bad field."""
    try:
        return VideoSpec.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]["loc"] if err.errors() else ()
        raise ContractError(
            f"invalid video spec: {describe_validation_error(err, prefix='spec.')}",
            error_type=INVALID_REQUEST,
            field="spec." + ".".join(str(p) for p in first),
        ) from None
