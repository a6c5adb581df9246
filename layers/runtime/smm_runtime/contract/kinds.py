"""The table of kinds: for each kind of dispatched work, its request and result models, the
activity that dispatches it, the function that runs it, the worker setting naming that
function, the cap pool a dispatch of it waits in, and its line in the Web UI. Everything else
(the dispatch activities, the workflows' typed ``dispatch``, the worker's function map and
pool checks, each function's work table and the Node constants) is derived from ``KINDS``; a
test fails when a function in template.yaml, Python or Node, is missing a kind.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field, model_validator

from smm_runtime.contract.basetypes import ComputeUsage, MediaInfo, Model, S3Object, S3Uri
from smm_runtime.contract.ownership import AccountId
from smm_runtime.contract.soundtrack import AAC_FRAME, AudioPiece, total_samples
from smm_runtime.contract.timeline import Timeline
from smm_runtime.contract.video_spec import FPS, BrandKit, FrameRate, MusicBed, PresetName

# --- Requests and results per kind ----------------------------------------------------------

# Every request that names S3 objects says whose they are; parse_event refuses an object
# outside that account's prefix (smm_runtime.contract.ownership).
OWNER: Any = Field(
    default=None,
    description="Whose work this is: every object it names must "
    "be under accounts/<account>/ (or shared/ to read); unset for the "
    "operator's own work.",
)


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
    account: AccountId | None = OWNER


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
    """Mix the soundtrack, whole or one piece of it; every preset shares it."""

    total_frames: int = Field(gt=0)
    fps: FrameRate = FPS
    music: MusicBed | None = None
    voiceover: VoiceOverTrack | None = None
    bucket: str = Field(min_length=3, max_length=63)
    account: AccountId | None = OWNER
    piece: AudioPiece | None = Field(
        default=None,
        description="Mix only these samples of the timeline, as raw AAC frames (ADTS) that "
        "join the neighbouring pieces' without re-encoding; unset: the whole soundtrack as M4A.",
    )

    @model_validator(mode="after")
    def _piece_inside(self) -> AudioRequest:
        total = total_samples(self.total_frames, self.fps)
        if self.piece is not None:
            start, end = self.piece.start_sample, self.piece.end_sample
            if not start < end <= total:
                raise ValueError(
                    f"piece: samples {start}..{end} are not a stretch of the "
                    f"{total} samples of the timeline"
                )
            if end != total and end % AAC_FRAME:
                raise ValueError(
                    f"piece.end_sample: {end} is neither the timeline's end ({total}) nor a "
                    f"multiple of {AAC_FRAME}"
                )
        return self


class AudioResult(Model):
    kind: Literal["render_audio"] = "render_audio"
    audio: S3Object
    duration_s: float
    reused: bool
    usage: ComputeUsage


MAX_SHEET_FRAMES = 12


class FinalizeRequest(Model):
    """Join segments by stream copy, mux the audio, write a faststart MP4 and a poster."""

    preset: PresetName
    total_frames: int = Field(gt=0)
    fps: FrameRate = FPS
    segments: list[S3Object] = Field(min_length=1)
    segment_frames: list[int] = Field(min_length=1, description="Frames in each segment.")
    audio: S3Object | None = None
    audio_pieces: list[S3Object] = Field(
        default_factory=list,
        description="The soundtrack as pieces of raw AAC frames, in order (instead of audio).",
    )
    output: S3Object
    poster: S3Object
    # A contact sheet of the video's scenes for the reviewer: one still per frame listed.
    contact_sheet: S3Object | None = None
    sheet_frames: list[int] = Field(default_factory=list, max_length=MAX_SHEET_FRAMES)
    account: AccountId | None = OWNER

    @model_validator(mode="after")
    def _frames_add_up(self) -> FinalizeRequest:
        if len(self.segment_frames) != len(self.segments):
            raise ValueError("segment_frames: one frame count per segment")
        if self.audio is not None and self.audio_pieces:
            raise ValueError("audio_pieces: give the soundtrack whole (audio) or in pieces")
        if sum(self.segment_frames) != self.total_frames:
            raise ValueError(
                f"segment_frames: they add up to {sum(self.segment_frames)}, "
                f"not total_frames ({self.total_frames})"
            )
        if any(not 0 <= f < self.total_frames for f in self.sheet_frames):
            raise ValueError(
                f"sheet_frames: each is a frame of the video, 0 to {self.total_frames - 1}"
            )
        return self


class FinalizeResult(Model):
    kind: Literal["finalize_video"] = "finalize_video"
    output: S3Object
    poster: S3Object
    contact_sheet: S3Object | None = None
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
    account: AccountId | None = OWNER
    fingerprint: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the rest; marks the output as done."
    )


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
    account: AccountId | None = OWNER


class PostizUploadResult(Model):
    kind: Literal["postiz_upload"] = "postiz_upload"
    id: str
    path: str
    bytes_sent: int
    reused: bool = Field(default=False, description="True when this file was uploaded before.")
    usage: ComputeUsage


class ImportAssetRequest(Model):
    """Stream a file from an allow-listed https URL into the assets bucket."""

    url: str = Field(min_length=9, max_length=2048, pattern=r"^https?://")
    target: S3Object
    max_bytes: int = Field(default=512 * 1024 * 1024, ge=1, le=5 * 1024**3)
    allowed_types: list[str] = Field(
        default_factory=lambda: [
            "image/png",
            "image/jpeg",
            "image/webp",
            "video/mp4",
            "audio/mpeg",
            "font/ttf",
            "font/otf",
        ],
        min_length=1,
    )
    expected_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    account: AccountId | None = OWNER


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


def image_fingerprint(request: dict[str, Any]) -> str:
    """SHA-256 of an image request without its fingerprint (canonical JSON); both sides of
    the contract compute it the same way."""
    body = {k: v for k, v in request.items() if k != "fingerprint"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- The table ------------------------------------------------------------------------------

RequestT = TypeVar("RequestT", bound=BaseModel)
ResultT = TypeVar("ResultT", bound=BaseModel)


@dataclass(frozen=True, kw_only=True)
class Kind(Generic[RequestT, ResultT]):
    """One kind of dispatched work; its result type follows from its request type."""

    name: str  # the event's ``kind`` and the result's ``kind``
    request: type[RequestT]
    result: type[ResultT]
    activity: str  # the worker's dispatch activity (recorded in workflow histories: stable)
    function: str  # the template's logical id of the function that runs it
    setting: str  # the WorkerSettings field (SMM_<SETTING>) holding the deployed name
    # The line the Web UI shows for each dispatched activity (its summary), so the eight
    # `dispatch_segment` rows of a render do not look alike.
    summary: Callable[[RequestT], str] = field(compare=False)
    # The cluster-wide cap pool a dispatch of this kind holds a permit of while it runs
    # (None: uncapped). A pool's cap must stay at or under the reserved concurrency of every
    # function its kinds run in, or Lambda throttles granted work into its hidden async queue.
    pool: str | None = None
    runtime: Literal["python", "node"] = "python"


RENDER_SEGMENT = Kind(
    name="render_segment",
    request=SegmentRequest,
    result=SegmentResult,
    activity="dispatch_segment",
    function="RenderSegmentFunction",
    setting="segment_function",
    pool="video-segments",
    summary=lambda r: f"segment · {r.preset} · frames {r.start_frame}-{r.end_frame}",
)
RENDER_AUDIO = Kind(
    name="render_audio",
    request=AudioRequest,
    result=AudioResult,
    activity="dispatch_audio",
    function="AudioMixFunction",
    setting="audio_function",
    pool="video-finalize",
    summary=lambda r: (
        f"soundtrack · {r.total_frames} frames"
        if r.piece is None
        else f"soundtrack · samples {r.piece.start_sample}-{r.piece.end_sample}"
    ),
)
FINALIZE_VIDEO = Kind(
    name="finalize_video",
    request=FinalizeRequest,
    result=FinalizeResult,
    activity="dispatch_finalize",
    function="FinalizeVideoFunction",
    setting="finalize_function",
    pool="video-finalize",
    summary=lambda r: (
        f"join {r.preset} · {len(r.segments)} segments + poster"
        + (" + scenes" if r.sheet_frames else "")
    ),
)
RENDER_IMAGE = Kind(
    name="render_image",
    request=ImageRequest,
    result=ImageResult,
    activity="dispatch_image",
    function="RenderImageFunction",
    setting="image_function",
    pool="images",
    runtime="node",
    summary=lambda r: f"image · {r.template} · {r.output.key.rsplit('/', 1)[-1]}",
)
POSTIZ_UPLOAD = Kind(
    name="postiz_upload",
    request=PostizUploadRequest,
    result=PostizUploadResult,
    activity="dispatch_postiz_upload",
    function="TransferFunction",
    setting="transfer_function",
    summary=lambda r: f"upload to Postiz · {r.filename}",
)
IMPORT_ASSET = Kind(
    name="import_asset",
    request=ImportAssetRequest,
    result=ImportAssetResult,
    activity="dispatch_import_asset",
    function="TransferFunction",
    setting="transfer_function",
    summary=lambda r: f"import · {r.target.key.rsplit('/', 1)[-1]}",
)
NOOP = Kind(
    name="noop",
    request=NoopRequest,
    result=NoopResult,
    activity="dispatch_noop",
    function="NoopFunction",
    setting="noop_function",
    summary=lambda r: "noop",
)

KINDS: tuple[Kind[Any, Any], ...] = (
    RENDER_SEGMENT,
    RENDER_AUDIO,
    FINALIZE_VIDEO,
    RENDER_IMAGE,
    POSTIZ_UPLOAD,
    IMPORT_ASSET,
    NOOP,
)
KINDS_BY_NAME: dict[str, Kind[Any, Any]] = {kind.name: kind for kind in KINDS}
