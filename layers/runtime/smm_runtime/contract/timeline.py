"""The resolved timeline: what a segment function draws, frame by frame (shapes only).

Every time is a whole frame number on one absolute timeline; renders of any window of that
timeline use the same numbers, which is what makes separately rendered segments join without a
seam. Resolving a spec into this shape and planning segments over it is worker-only
(``orchestrator.render``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from smm_runtime.contract.basetypes import HexColor, Model, S3Uri
from smm_runtime.contract.video_spec import (
    FPS,
    FrameRate,
    KenBurns,
)

DEFAULT_BACKGROUND = "#000000"
DEFAULT_TEXT = "#FFFFFF"


class RSolid(Model):
    type: Literal["solid"] = "solid"
    color: HexColor


class RGradient(Model):
    type: Literal["gradient"] = "gradient"
    from_color: HexColor
    to_color: HexColor
    direction: Literal["vertical", "horizontal", "diagonal"]


class RImage(Model):
    type: Literal["image"] = "image"
    uri: S3Uri
    fit: Literal["fit", "fill", "crop"]
    pad_color: HexColor
    ken_burns: KenBurns | None = None


class RVideo(Model):
    type: Literal["video"] = "video"
    uri: S3Uri
    fit: Literal["fit", "fill", "crop"]
    pad_color: HexColor
    trim_start_s: float


RBackground = RSolid | RGradient | RImage | RVideo


class RText(Model):
    text: str
    font: S3Uri
    size: float
    color: HexColor
    style: Literal["plain", "stroke", "shadow", "caption"]
    position: Literal["top", "center", "bottom"]
    align: Literal["left", "center", "right"]
    animation: Literal["none", "fade", "slide_up"]
    start_frame: int
    end_frame: int


class RScene(Model):
    index: int
    start_frame: int
    frames: int
    fade_in_frames: int = 0
    background: RSolid | RGradient | RImage | RVideo = Field(discriminator="type")
    texts: list[RText] = Field(default_factory=list)

    @property
    def end_frame(self) -> int:
        return self.start_frame + self.frames


class RLogo(Model):
    uri: S3Uri
    corner: Literal["top_left", "top_right", "bottom_left", "bottom_right"]
    width: float
    opacity: float


class Timeline(Model):
    fps: FrameRate = FPS
    total_frames: int
    background: HexColor
    scenes: list[RScene]
    captions: list[RText] = Field(default_factory=list)
    logo: RLogo | None = None
    qa_frame_code: bool = False
    # Kept when a window drops the captions it does not show: layout depends on it.
    has_captions: bool = False
