"""The FFmpeg graph of one segment: frames [start, end) of the absolute timeline (pure).

Every stream carries absolute timestamps (time base 1/fps at the timeline's own rate, pts =
absolute frame number), so every time-dependent expression — cross-fades, text entrances,
caption and text visibility, Ken Burns motion, the QA frame code — is a function of the
absolute frame, identical whether the window is one segment or the whole video. That is why
segments join without a seam. Only at the very end are timestamps rebased to start at zero
for the segment's own file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ffmpeg

from functions.render_video.layout import logo_origin
from functions.render_video.stills import Placed
from smm_runtime.contract.kinds import SegmentRequest
from smm_runtime.contract.timeline import RImage, RScene, RSolid, RText, RVideo
from smm_runtime.media_tools import PROTOCOL_WHITELIST, ROLES

X264_PRESET = "veryfast"
GOP_SECONDS = 2
TEXT_ENTRANCE_S = 0.4
SLIDE_PX_FRACTION = 0.04
QA_BITS = 12
CLIP_PREROLL_S = 1.0


@dataclass(frozen=True)
class SceneAssets:
    background: Path | None = None  # TGA for gradient/image backgrounds, the clip for video
    texts: list[Placed] = field(default_factory=list)


@dataclass(frozen=True)
class SegmentAssets:
    scenes: dict[int, SceneAssets]
    captions: list[Placed] = field(default_factory=list)
    logo: Placed | None = None


def _hex(color: str) -> str:
    return "0x" + color.lstrip("#")


def _absolute(stream: Any, first_frame: int, fps: int) -> Any:
    return stream.filter("settb", f"1/{fps}").filter("setpts", f"N+{first_frame}")


def _still(path: Path, count: int) -> Any:
    # One decode, then the frame is repeated from memory.
    return ffmpeg.input(str(path), protocol_whitelist=PROTOCOL_WHITELIST).filter(
        "loop", loop=count - 1, size=1, start=0
    )


def _fit_filters(stream: Any, fit: str, width: int, height: int, pad: str) -> Any:
    if fit == "fill":
        stream = stream.filter("scale", width, height, force_original_aspect_ratio="increase")
        stream = stream.filter("crop", width, height)
    elif fit == "fit":
        stream = stream.filter("scale", width, height, force_original_aspect_ratio="decrease")
        stream = stream.filter("pad", width, height, "(ow-iw)/2", "(oh-ih)/2", color=_hex(pad))
    else:
        stream = stream.filter("crop", f"min(iw,{width})", f"min(ih,{height})")
        stream = stream.filter("pad", width, height, "(ow-iw)/2", "(oh-ih)/2", color=_hex(pad))
    return stream.filter("setsar", 1)


def _scene_stream(
    scene: RScene, assets: SceneAssets, first: int, count: int, req: SegmentRequest
) -> Any:
    w, h, fps = req.width, req.height, req.timeline.fps
    local = first - scene.start_frame  # frames into the scene where this window starts
    bg = scene.background
    if isinstance(bg, RSolid):
        # Spelled unlike the canvas source on purpose: ffmpeg-python merges identical nodes.
        stream = ffmpeg.input(
            f"color=color={_hex(bg.color)}:size={w}x{h}:rate={fps}", f="lavfi"
        ).trim(end_frame=count)
    elif isinstance(bg, RVideo):
        assert assets.background is not None
        source_first = bg.trim_start_s + local / fps
        preroll = max(0.0, source_first - CLIP_PREROLL_S)
        clip = ffmpeg.input(
            str(assets.background),
            protocol_whitelist=PROTOCOL_WHITELIST,
            format_whitelist=ROLES["video"].demuxers,
            ss=f"{preroll:.6f}",
            t=f"{source_first - preroll + count / fps + 1:.6f}",
        )
        # Back to source time, then a frame grid anchored at the scene's first source frame:
        # the same grid whatever the seek point, so frame k is the same picture in any window.
        stream = (
            clip.video.filter("setpts", f"PTS+{preroll:.6f}/TB")
            .filter("fps", fps, start_time=f"{bg.trim_start_s:.6f}")
            .filter("tpad", stop=-1, stop_mode="clone")
            .filter("trim", start_frame=local, end_frame=local + count)
        )
        stream = _fit_filters(stream, bg.fit, w, h, bg.pad_color)
    elif isinstance(bg, RImage) and bg.ken_burns:
        assert assets.background is not None
        kb = bg.ken_burns
        span = max(1, scene.frames - 1)
        p = f"((on+{local})/{span})"
        zoom = f"({kb.zoom_from}+({kb.zoom_to}-{kb.zoom_from})*{p})"
        cx = f"({kb.from_center[0]}+({kb.to_center[0]}-{kb.from_center[0]})*{p})"
        cy = f"({kb.from_center[1]}+({kb.to_center[1]}-{kb.from_center[1]})*{p})"
        stream = _still(assets.background, count).filter(
            "zoompan",
            z=zoom,
            d=1,
            s=f"{w}x{h}",
            fps=fps,
            x=f"max(0,min(iw-iw/zoom,{cx}*iw-iw/zoom/2))",
            y=f"max(0,min(ih-ih/zoom,{cy}*ih-ih/zoom/2))",
        )
    else:
        assert assets.background is not None  # gradient or still image, already fitted
        stream = _still(assets.background, count)
    stream = _absolute(stream.filter("format", "yuv420p"), first, fps)
    if scene.fade_in_frames and first < scene.start_frame + scene.fade_in_frames:
        stream = stream.filter("format", "yuva420p").filter(
            "fade",
            type="in",
            alpha=1,
            start_time=f"{scene.start_frame / fps:.6f}",
            duration=f"{scene.fade_in_frames / fps:.6f}",
        )
    return stream


def _overlay_text(
    base: Any, layer: RText, placed: Placed, start: int, end: int, height: int, fps: int
) -> Any:
    first, last = max(start, layer.start_frame), min(end, layer.end_frame)
    stream = _still(placed.path, last - first)
    if layer.animation in {"fade", "slide_up"}:
        stream = stream.filter("format", "rgba")
        stream = _absolute(stream, first, fps).filter(
            "fade",
            type="in",
            alpha=1,
            start_time=f"{layer.start_frame / fps:.6f}",
            duration=TEXT_ENTRANCE_S,
        )
    else:
        stream = _absolute(stream, first, fps)
    y: str | int = placed.y
    if layer.animation == "slide_up":
        t0 = layer.start_frame / fps
        shift = round(height * SLIDE_PX_FRACTION)
        y = f"{placed.y}+{shift}*pow(max(0,1-(t-{t0:.6f})/{TEXT_ENTRANCE_S}),2)"
    return ffmpeg.overlay(base, stream, x=placed.x, y=y, eof_action="pass")


def _qa_code(stream: Any, fps: int) -> Any:
    """The absolute frame number as QA_BITS white/black squares along the top-left edge."""
    size, gap, x0, y0 = 28, 6, 12, 12
    stream = stream.filter(
        "drawbox",
        x=x0 - 6,
        y=y0 - 6,
        w=QA_BITS * (size + gap) + 6,
        h=size + 12,
        color="black",
        t="fill",
    )
    for bit in range(QA_BITS):
        stream = stream.filter(
            "drawbox",
            x=x0 + bit * (size + gap),
            y=y0,
            w=size,
            h=size,
            color="white",
            t="fill",
            enable=f"eq(mod(floor(floor(t*{fps}+0.5)/{2**bit}),2),1)",
        )
    return stream


def video_stream(req: SegmentRequest, assets: SegmentAssets) -> Any:
    """The composited frames [start, end), timestamps rebased to zero (not yet encoded)."""
    start, end = req.start_frame, req.end_frame
    count = end - start
    tl = req.timeline
    composite = _absolute(
        ffmpeg.input(
            f"color=c={_hex(tl.background)}:s={req.width}x{req.height}:r={tl.fps}", f="lavfi"
        ).trim(end_frame=count),
        start,
        tl.fps,
    )
    for scene in tl.scenes:
        first, last = max(start, scene.start_frame), min(end, scene.end_frame)
        if last <= first:
            continue
        scene_assets = assets.scenes.get(scene.index, SceneAssets())
        stream = _scene_stream(scene, scene_assets, first, last - first, req)
        composite = ffmpeg.overlay(composite, stream, x=0, y=0, eof_action="pass")
        for layer, placed in zip(scene.texts, scene_assets.texts, strict=True):
            composite = _overlay_text(composite, layer, placed, start, end, req.height, tl.fps)
    for caption, placed in zip(tl.captions, assets.captions, strict=True):
        composite = _overlay_text(composite, caption, placed, start, end, req.height, tl.fps)
    if tl.logo is not None and assets.logo is not None:
        lx, ly = logo_origin(
            assets.logo.width, assets.logo.height, req.width, req.height, tl.logo.corner
        )
        logo = _absolute(
            _still(assets.logo.path, count)
            .filter("format", "rgba")
            .filter("colorchannelmixer", aa=tl.logo.opacity),
            start,
            tl.fps,
        )
        composite = ffmpeg.overlay(composite, logo, x=lx, y=ly, eof_action="pass")
    if tl.qa_frame_code:
        composite = _qa_code(composite, tl.fps)
    return composite.filter("format", "yuv420p").filter("setpts", "N")


def encoder_options(req: SegmentRequest) -> dict[str, Any]:
    """Identical for every segment of a render (and the single pass): that is what lets the
    concat demuxer join the parts by stream copy."""
    return {
        "vcodec": "libx264",
        "preset": X264_PRESET,
        "crf": req.crf,
        "pix_fmt": "yuv420p",
        "g": GOP_SECONDS * req.timeline.fps,
        "r": req.timeline.fps,
        "profile:v": "high",
        "frames:v": req.end_frame - req.start_frame,
    }


def build_graph(req: SegmentRequest, assets: SegmentAssets, output: Path, threads: int = 0) -> Any:
    # Threads change how x264 splits the work, not the stream's format: segments encoded
    # with different counts still join by stream copy.
    extra = {"threads": threads} if threads else {}
    return ffmpeg.output(
        video_stream(req, assets), str(output), an=None, f="mp4", **encoder_options(req), **extra
    )


def command(
    req: SegmentRequest, assets: SegmentAssets, output: Path, binary: str, threads: int = 0
) -> list[str]:
    args: list[str] = build_graph(req, assets, output, threads).compile(cmd=binary)
    budget: list[str] = []
    if threads:
        # A thread budget is the whole process's, not only x264's: the filter graph and each
        # input's decoder would otherwise take a thread per core each.
        budget = ["-filter_complex_threads", str(threads)]
        args = [
            a for arg in args for a in (["-threads", str(threads), arg] if arg == "-i" else [arg])
        ]
    return [
        args[0],
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "error",
        "-progress",
        "pipe:1",
        "-y",
        *budget,
        *args[1:],
    ]
