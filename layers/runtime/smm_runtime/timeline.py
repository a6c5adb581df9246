"""From a spec and its brand kit to a frame-exact timeline, and from there to segments.

All of this is pure and deterministic (it runs inside workflows). Every time becomes a whole
frame number on one absolute timeline; renders of any window of that timeline use the same
numbers, which is what makes separately rendered segments join without a seam.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from smm_runtime.basetypes import HexColor, Model, S3Uri
from smm_runtime.video_spec import (
    FPS,
    PRESET_SIZES,
    BrandKit,
    GradientBackground,
    ImageBackground,
    KenBurns,
    SolidBackground,
    VideoBackground,
    VideoSpec,
)

DEFAULT_BACKGROUND = "#000000"
DEFAULT_TEXT = "#FFFFFF"


class SpecResolutionError(ValueError):
    """The spec refers to something the brand kit does not have."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


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
    fps: int = FPS
    total_frames: int
    background: HexColor
    scenes: list[RScene]
    captions: list[RText] = Field(default_factory=list)
    logo: RLogo | None = None
    qa_frame_code: bool = False
    # Kept when a window drops the captions it does not show: layout depends on it.
    has_captions: bool = False


def frames(seconds: float) -> int:
    return max(1, round(seconds * FPS))


def _color(ref: str, kit: BrandKit, field: str) -> str:
    if ref.startswith("#"):
        return ref.upper()
    if ref in kit.colors:
        return kit.colors[ref].upper()
    if ref == "background":
        return DEFAULT_BACKGROUND
    if ref == "text":
        return DEFAULT_TEXT
    raise SpecResolutionError(field, f"brand kit {kit.id!r} has no colour {ref!r} "
                                     f"(it has: {', '.join(sorted(kit.colors)) or 'none'})")


def _font(role: str, kit: BrandKit, field: str) -> str:
    if role in kit.fonts:
        return kit.fonts[role]
    if role in {"heading", "body"} and kit.fonts:
        return next(iter(kit.fonts.values()))  # a one-font kit serves every role
    raise SpecResolutionError(field, f"brand kit {kit.id!r} has no font {role!r} "
                                     f"(it has: {', '.join(sorted(kit.fonts))})")


def resolve(spec: VideoSpec, kit: BrandKit) -> Timeline:
    background = _color("background", kit, "brand_kit.colors.background")
    scenes: list[RScene] = []
    cursor = 0
    for i, scene in enumerate(spec.scenes):
        length = frames(scene.duration_s)
        fade = frames(scene.transition_in.duration_s) \
            if i and scene.transition_in.type == "crossfade" else 0
        if i and fade >= min(length, scenes[-1].frames):
            raise SpecResolutionError(f"scenes.{i}.transition_in.duration_s",
                                      "the cross-fade must be shorter than both scenes")
        start = cursor - fade
        bg = scene.background
        field = f"scenes.{i}.background"
        rbg: RSolid | RGradient | RImage | RVideo
        if isinstance(bg, SolidBackground):
            rbg = RSolid(color=_color(bg.color, kit, f"{field}.color"))
        elif isinstance(bg, GradientBackground):
            rbg = RGradient(from_color=_color(bg.from_color, kit, f"{field}.from_color"),
                            to_color=_color(bg.to_color, kit, f"{field}.to_color"),
                            direction=bg.direction)
        elif isinstance(bg, ImageBackground):
            rbg = RImage(uri=bg.uri, fit=bg.fit, pad_color=background, ken_burns=bg.ken_burns)
        else:
            assert isinstance(bg, VideoBackground)
            rbg = RVideo(uri=bg.uri, fit=bg.fit, pad_color=background,
                         trim_start_s=bg.trim_start_s)
        texts = []
        for j, text in enumerate(scene.texts):
            tfield = f"scenes.{i}.texts.{j}"
            first = start + min(length - 1, round(text.start_s * FPS))
            last = start + (min(length, round(text.end_s * FPS)) if text.end_s else length)
            if last <= first:
                raise SpecResolutionError(f"{tfield}.end_s", "must be after start_s and "
                                                              "inside the scene")
            texts.append(RText(text=text.text, font=_font(text.font, kit, f"{tfield}.font"),
                               size=text.size, color=_color(text.color, kit, f"{tfield}.color"),
                               style=text.style, position=text.position, align=text.align,
                               animation=text.animation, start_frame=first, end_frame=last))
        scenes.append(RScene(index=i, start_frame=start, frames=length, fade_in_frames=fade,
                             background=rbg, texts=texts))
        cursor = start + length
    total = cursor
    captions = []
    for k, caption in enumerate(spec.captions):
        first, last = round(caption.start_s * FPS), min(total, round(caption.end_s * FPS))
        if first >= total:
            raise SpecResolutionError(f"captions.{k}.start_s",
                                      f"starts after the video ends ({total / FPS:.2f}s)")
        captions.append(RText(
            text=caption.text, font=_font(spec.caption_font, kit, "caption_font"), size=0.045,
            color=_color("text", kit, f"captions.{k}"), style="caption", position="bottom",
            align="center", animation="none", start_frame=first, end_frame=max(first + 1, last)))
    logo = None
    if spec.logo is not None and kit.logo is not None:
        logo = RLogo(uri=kit.logo, corner=spec.logo.corner, width=spec.logo.width,
                     opacity=spec.logo.opacity)
    return Timeline(total_frames=total, background=background, scenes=scenes,
                    captions=captions, logo=logo, qa_frame_code=spec.qa_frame_code,
                    has_captions=bool(captions))


# Relative CPU cost of one frame, by what is on it (measured with `make bench`: encoding is
# the base; decoding and scaling a clip or zooming a still nearly doubles it).
FRAME_COST_BASE = 1.0
BACKGROUND_COST = {"solid": 0.0, "gradient": 0.05, "image": 0.1, "ken_burns": 0.8, "video": 0.9}


def frame_costs(timeline: Timeline) -> list[float]:
    costs = [FRAME_COST_BASE] * timeline.total_frames
    for scene in timeline.scenes:
        bg = scene.background
        kind = "ken_burns" if isinstance(bg, RImage) and bg.ken_burns else bg.type
        for frame in range(scene.start_frame, scene.end_frame):
            costs[frame] += BACKGROUND_COST[kind]
    return costs


def plan_segments(total_frames: int, target_frames: int, max_segments: int,
                  costs: list[float] | None = None) -> list[tuple[int, int]]:
    """Split [0, total) into contiguous windows of whole frames.

    The count is ceil(total / target), bounded by ``max_segments``. Windows carry equal shares
    of the estimated cost (``costs`` per frame; equal frames when absent), so parallel
    segments finish together; no window is empty, so there is never a 0-frame segment, and
    with equal costs sizes differ by at most one frame (no 1-frame runt).
    """
    if total_frames < 1:
        raise ValueError("a video has at least one frame")
    if costs is not None and len(costs) != total_frames:
        raise ValueError("one cost per frame")
    count = max(1, min(max_segments, math.ceil(total_frames / max(1, target_frames))))
    count = min(count, total_frames)
    weights = costs or [1.0] * total_frames
    total_cost = sum(weights)
    cuts = [0]
    running = 0.0
    for frame, weight in enumerate(weights):
        # Cut before this frame once the previous window holds its share, as long as every
        # remaining window can still get at least one frame.
        share = total_cost * len(cuts) / count
        remaining_windows = count - len(cuts)
        if (len(cuts) < count and frame > cuts[-1] and running + weight / 2 > share
                and total_frames - frame >= remaining_windows):
            cuts.append(frame)
        running += weight
    while len(cuts) < count:  # only when costs are extremely skewed: split the largest window
        bounds = [*cuts, total_frames]
        widest = max(range(len(cuts)), key=lambda i: bounds[i + 1] - bounds[i])
        cuts.insert(widest + 1, (bounds[widest] + bounds[widest + 1]) // 2)
    bounds = [*cuts, total_frames]
    return [(bounds[i], bounds[i + 1]) for i in range(count)]


def window(timeline: Timeline, start: int, end: int) -> Timeline:
    """Only what is visible in [start, end): a segment's request carries nothing else, so its
    checkpoint key changes only when something it shows changes."""
    scenes = [s for s in timeline.scenes if s.start_frame < end and s.end_frame > start]
    scenes = [s.model_copy(update={"texts": [t for t in s.texts
                                            if t.start_frame < end and t.end_frame > start]})
              for s in scenes]
    captions = [c for c in timeline.captions if c.start_frame < end and c.end_frame > start]
    return timeline.model_copy(update={"scenes": scenes, "captions": captions})


def preset_size(preset: str) -> tuple[int, int]:
    return PRESET_SIZES[preset]
