"""Branded video spec v1: the timeline a user (or Payload) writes, and the brand kit it uses.

Every field is validated here, so a bad spec is refused before anything is dispatched, with
the field named. Times are in seconds in the spec and become whole frames in the timeline
(``smm_runtime.contract.timeline``), which is what renders and checkpoints are keyed on.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from smm_runtime.contract.basetypes import HexColor, S3Uri

FrameRate = Literal[24, 25, 30, 50, 60]
FPS: FrameRate = 30  # the default frame rate
MAX_DURATION_S = 600

PresetName = Literal["9:16", "1:1", "16:9"]
PRESET_SIZES: dict[str, tuple[int, int]] = {
    "9:16": (1080, 1920),
    "1:1": (1080, 1080),
    "16:9": (1920, 1080),
}
PRESET_SLUGS: dict[str, str] = {"9:16": "vertical", "1:1": "square", "16:9": "landscape"}
# Quality targets map to x264 CRF; every segment of a render uses the same one.
QUALITY_CRF: dict[str, int] = {"draft": 28, "standard": 21, "high": 18}
# A colour is a hex value or the name of a brand kit colour.
ColorRef = Annotated[str, Field(pattern=r"^(#[0-9A-Fa-f]{6}|[a-z][a-z0-9_-]{0,31})$")]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BrandKit(_Spec):
    """Stored as JSON at ``brand-kits/<id>.json`` in the assets bucket."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    name: str = ""
    fonts: dict[str, S3Uri] = Field(min_length=1, description="role -> TTF/OTF, e.g. heading")
    colors: dict[str, HexColor] = Field(default_factory=dict)
    logo: S3Uri | None = None

    @field_validator("fonts")
    @classmethod
    def _font_roles(cls, fonts: dict[str, str]) -> dict[str, str]:
        for role in fonts:
            if not role.replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"font role {role!r} must be letters, digits, '-' or '_'")
        return fonts


class SolidBackground(_Spec):
    type: Literal["solid"] = "solid"
    color: ColorRef = "background"


class GradientBackground(_Spec):
    type: Literal["gradient"]
    from_color: ColorRef
    to_color: ColorRef
    direction: Literal["vertical", "horizontal", "diagonal"] = "vertical"


class KenBurns(_Spec):
    """Zoom from ``zoom_from`` to ``zoom_to`` while the centre moves between two points
    (fractions of the image, 0..1) over the scene."""

    zoom_from: float = Field(default=1.0, ge=1.0, le=3.0)
    zoom_to: float = Field(default=1.15, ge=1.0, le=3.0)
    from_center: tuple[float, float] = (0.5, 0.5)
    to_center: tuple[float, float] = (0.5, 0.5)

    @field_validator("from_center", "to_center")
    @classmethod
    def _unit(cls, point: tuple[float, float]) -> tuple[float, float]:
        if not all(0 <= v <= 1 for v in point):
            raise ValueError("centre coordinates are fractions from 0 to 1")
        return point


Fit = Literal["fit", "fill", "crop"]


class ImageBackground(_Spec):
    type: Literal["image"]
    uri: S3Uri
    fit: Fit = "fill"
    ken_burns: KenBurns | None = None


class VideoBackground(_Spec):
    type: Literal["video"]
    uri: S3Uri
    fit: Fit = "fill"
    trim_start_s: float = Field(default=0, ge=0, le=3600)


Background = Annotated[
    SolidBackground | GradientBackground | ImageBackground | VideoBackground,
    Field(discriminator="type"),
]


class Transition(_Spec):
    type: Literal["cut", "crossfade"] = "cut"
    duration_s: float = Field(default=0.5, ge=0, le=5)


class TextLayer(_Spec):
    text: str = Field(min_length=1, max_length=300)
    font: str = Field(default="heading", description="A font role of the brand kit.")
    size: float = Field(
        default=0.075,
        gt=0.01,
        le=0.3,
        description="Font size as a fraction of the frame's shorter side.",
    )
    color: ColorRef = "text"
    style: Literal["plain", "stroke", "shadow"] = "shadow"
    position: Literal["top", "center", "bottom"] = "center"
    align: Literal["left", "center", "right"] = "center"
    animation: Literal["none", "fade", "slide_up"] = "fade"
    start_s: float = Field(default=0, ge=0)
    end_s: float | None = Field(default=None, gt=0, description="Scene end when unset.")


class Scene(_Spec):
    duration_s: float = Field(gt=0, le=120)
    background: Background = SolidBackground()
    transition_in: Transition = Transition()
    texts: list[TextLayer] = Field(default_factory=list, max_length=8)


class Caption(_Spec):
    start_s: float = Field(ge=0)
    end_s: float = Field(gt=0)
    text: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> Caption:
        if self.end_s <= self.start_s:
            raise ValueError("end_s must be after start_s")
        return self


class LogoWatermark(_Spec):
    corner: Literal["top_left", "top_right", "bottom_left", "bottom_right"] = "top_right"
    width: float = Field(default=0.18, gt=0.02, le=0.5, description="Fraction of frame width.")
    opacity: float = Field(default=0.9, gt=0, le=1)


class MusicBed(_Spec):
    uri: S3Uri
    volume: float = Field(default=0.8, ge=0, le=2)
    fade_in_s: float = Field(default=0.5, ge=0, le=10)
    fade_out_s: float = Field(default=1.5, ge=0, le=10)


class VoiceOver(_Spec):
    uri: S3Uri
    start_s: float = Field(default=0, ge=0)
    volume: float = Field(default=1.0, ge=0, le=2)
    duck_music: bool = True


class VideoSpec(_Spec):
    spec_version: Literal[1] = 1
    brand_kit: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    scenes: list[Scene] = Field(min_length=1, max_length=50)
    captions: list[Caption] = Field(default_factory=list, max_length=500)
    caption_font: str = "body"
    logo: LogoWatermark | None = LogoWatermark()
    music: MusicBed | None = None
    voiceover: VoiceOver | None = None
    presets: list[PresetName] = Field(default=["9:16"], min_length=1, max_length=3)
    fps: FrameRate = Field(
        default=FPS, description="Frames per second of every preset: 24, 25, 30, 50 or 60."
    )
    quality: Literal["draft", "standard", "high"] = "standard"
    segment_target_s: float = Field(default=4.0, ge=0.5, le=120)
    max_segments: int = Field(default=32, ge=1, le=64)
    qa_frame_code: bool = Field(
        default=False, description="Burn each frame's number in as a binary code (tests)."
    )

    @field_validator("presets")
    @classmethod
    def _unique(cls, presets: list[str]) -> list[str]:
        if len(set(presets)) != len(presets):
            raise ValueError("each preset may be listed once")
        return presets

    @model_validator(mode="after")
    def _transitions_fit(self) -> VideoSpec:
        if self.scenes[0].transition_in.type != "cut":
            raise ValueError(
                "scenes.0.transition_in: the first scene cannot cross-fade "
                "(there is nothing before it); use 'cut'"
            )
        for index in range(1, len(self.scenes)):
            t = self.scenes[index].transition_in
            if t.type == "crossfade":
                shorter = min(self.scenes[index - 1].duration_s, self.scenes[index].duration_s)
                if t.duration_s >= shorter:
                    raise ValueError(
                        f"scenes.{index}.transition_in.duration_s: {t.duration_s}s must be "
                        f"shorter than both scenes it joins ({shorter}s)"
                    )
        return self

    def asset_uris(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for i, scene in enumerate(self.scenes):
            if isinstance(scene.background, ImageBackground | VideoBackground):
                found[f"scenes.{i}.background.uri"] = scene.background.uri
        if self.music:
            found["music.uri"] = self.music.uri
        if self.voiceover:
            found["voiceover.uri"] = self.voiceover.uri
        return found
