"""From a spec and its brand kit to a frame-exact timeline (pure; runs inside workflows)."""

from __future__ import annotations

from smm_runtime.contract.timeline import (
    DEFAULT_BACKGROUND,
    DEFAULT_TEXT,
    RGradient,
    RImage,
    RLogo,
    RScene,
    RSolid,
    RText,
    RVideo,
    Timeline,
)
from smm_runtime.contract.video_spec import (
    FPS,
    BrandKit,
    GradientBackground,
    ImageBackground,
    SolidBackground,
    VideoBackground,
    VideoSpec,
)


class SpecResolutionError(ValueError):
    """The spec refers to something the brand kit does not have."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def frames(seconds: float, fps: int = FPS) -> int:
    return max(1, round(seconds * fps))


def _color(ref: str, kit: BrandKit, field: str) -> str:
    if ref.startswith("#"):
        return ref.upper()
    if ref in kit.colors:
        return kit.colors[ref].upper()
    if ref == "background":
        return DEFAULT_BACKGROUND
    if ref == "text":
        return DEFAULT_TEXT
    raise SpecResolutionError(
        field,
        f"brand kit {kit.id!r} has no colour {ref!r} "
        f"(it has: {', '.join(sorted(kit.colors)) or 'none'})",
    )


def _font(role: str, kit: BrandKit, field: str) -> str:
    if role in kit.fonts:
        return kit.fonts[role]
    if role in {"heading", "body"} and kit.fonts:
        return next(iter(kit.fonts.values()))  # a one-font kit serves every role
    raise SpecResolutionError(
        field, f"brand kit {kit.id!r} has no font {role!r} (it has: {', '.join(sorted(kit.fonts))})"
    )


def scene_spans(spec: VideoSpec) -> list[tuple[int, int, int]]:
    """(start frame, frames, cross-fade frames) of each scene: cross-fades overlap scenes."""
    spans: list[tuple[int, int, int]] = []
    cursor = 0
    for i, scene in enumerate(spec.scenes):
        length = frames(scene.duration_s, spec.fps)
        fade = (
            frames(scene.transition_in.duration_s, spec.fps)
            if i and scene.transition_in.type == "crossfade"
            else 0
        )
        spans.append((cursor - fade, length, fade))
        cursor += length - fade
    return spans


def total_frames(spec: VideoSpec) -> int:
    """The video's length in frames (what pricing charges for), from the spec alone."""
    start, length, _ = scene_spans(spec)[-1]
    return start + length


def resolve(spec: VideoSpec, kit: BrandKit) -> Timeline:
    background = _color("background", kit, "brand_kit.colors.background")
    scenes: list[RScene] = []
    cursor = 0
    for i, (scene, (start, length, fade)) in enumerate(
        zip(spec.scenes, scene_spans(spec), strict=True)
    ):
        if i and fade >= min(length, scenes[-1].frames):
            raise SpecResolutionError(
                f"scenes.{i}.transition_in.duration_s",
                "the cross-fade must be shorter than both scenes",
            )
        bg = scene.background
        field = f"scenes.{i}.background"
        rbg: RSolid | RGradient | RImage | RVideo
        if isinstance(bg, SolidBackground):
            rbg = RSolid(color=_color(bg.color, kit, f"{field}.color"))
        elif isinstance(bg, GradientBackground):
            rbg = RGradient(
                from_color=_color(bg.from_color, kit, f"{field}.from_color"),
                to_color=_color(bg.to_color, kit, f"{field}.to_color"),
                direction=bg.direction,
            )
        elif isinstance(bg, ImageBackground):
            rbg = RImage(uri=bg.uri, fit=bg.fit, pad_color=background, ken_burns=bg.ken_burns)
        else:
            assert isinstance(bg, VideoBackground)
            rbg = RVideo(uri=bg.uri, fit=bg.fit, pad_color=background, trim_start_s=bg.trim_start_s)
        texts = []
        for j, text in enumerate(scene.texts):
            tfield = f"scenes.{i}.texts.{j}"
            first = start + min(length - 1, round(text.start_s * spec.fps))
            last = start + (min(length, round(text.end_s * spec.fps)) if text.end_s else length)
            if last <= first:
                raise SpecResolutionError(
                    f"{tfield}.end_s", "must be after start_s and inside the scene"
                )
            texts.append(
                RText(
                    text=text.text,
                    font=_font(text.font, kit, f"{tfield}.font"),
                    size=text.size,
                    color=_color(text.color, kit, f"{tfield}.color"),
                    style=text.style,
                    position=text.position,
                    align=text.align,
                    animation=text.animation,
                    start_frame=first,
                    end_frame=last,
                )
            )
        scenes.append(
            RScene(
                index=i,
                start_frame=start,
                frames=length,
                fade_in_frames=fade,
                background=rbg,
                texts=texts,
            )
        )
        cursor = start + length
    total = cursor
    captions = []
    for k, caption in enumerate(spec.captions):
        first = round(caption.start_s * spec.fps)
        last = min(total, round(caption.end_s * spec.fps))
        if first >= total:
            raise SpecResolutionError(
                f"captions.{k}.start_s", f"starts after the video ends ({total / spec.fps:.2f}s)"
            )
        captions.append(
            RText(
                text=caption.text,
                font=_font(spec.caption_font, kit, "caption_font"),
                size=0.045,
                color=_color("text", kit, f"captions.{k}"),
                style="caption",
                position="bottom",
                align="center",
                animation="none",
                start_frame=first,
                end_frame=max(first + 1, last),
            )
        )
    logo = None
    if spec.logo is not None and kit.logo is not None:
        logo = RLogo(
            uri=kit.logo, corner=spec.logo.corner, width=spec.logo.width, opacity=spec.logo.opacity
        )
    return Timeline(
        fps=spec.fps,
        total_frames=total,
        background=background,
        scenes=scenes,
        captions=captions,
        logo=logo,
        qa_frame_code=spec.qa_frame_code,
        has_captions=bool(captions),
    )
