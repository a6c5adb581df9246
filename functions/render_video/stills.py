"""Still images for a render, drawn with Pillow: text layers, captions, gradients, image
backgrounds fitted to a preset, the logo. Outputs are TGA, the one still format our static
FFmpeg decodes with alpha; every drawing is deterministic, so two segments that draw the same
layer get the same pixels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from functions.render_video.font_chain import Cluster, FontChain
from functions.render_video.layout import SafeArea, place, safe_area
from functions.render_video.text_lines import draw_line, font, run_width, visual_runs, wrap
from smm_runtime.contract.timeline import RGradient, RImage, RText


@dataclass(frozen=True)
class Placed:
    path: Path
    x: int
    y: int
    width: int
    height: int


def rgba(color: str, alpha: int = 255) -> tuple[int, int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), alpha


def _fit(
    chain: FontChain, text: str, size: int, max_width: int, max_lines: int
) -> tuple[int, list[list[Cluster]]]:
    # Shrink until the text fits the safe width in at most max_lines lines.
    clusters, _ = chain.clusters(text)
    while True:
        lines = wrap(clusters, size, max_width)
        if len(lines) <= max_lines or size <= 12:
            return size, lines
        size = int(size * 0.92)


def _line_height(lines: list[list[Cluster]], size: int) -> tuple[int, int]:
    """(ascent, line height) over every face the text uses: a CJK or Devanagari fallback is
    taller than most Latin brand fonts, and its marks must not be clipped."""
    faces = {c.face.path for line in lines for c in line if c.face is not None}
    metrics = [font(path, size).getmetrics() for path in faces] or [(size, size // 4)]
    ascent = max(a for a, _ in metrics)
    descent = max(d for _, d in metrics)
    return ascent, round((ascent + descent) * 1.12)


def render_text(
    layer: RText, chain: FontChain, width: int, height: int, out: Path, area: SafeArea | None = None
) -> Placed:
    area = area or safe_area(width, height)
    size = max(12, round(layer.size * min(width, height)))
    caption = layer.style == "caption"
    pad = round(size * 0.35) if caption else round(size * 0.15)
    size, lines = _fit(chain, layer.text, size, area.width - 2 * pad, 3 if caption else 5)
    ascent, line_h = _line_height(lines, size)
    runs = [visual_runs(line) for line in lines]
    widths = [round(sum(run_width(r, size) for r in line)) for line in runs]
    box_w = min(max(widths) + 2 * pad, area.width)
    box_h = line_h * len(lines) + 2 * pad
    img = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    if caption:
        ImageDraw.Draw(img).rounded_rectangle(
            (0, 0, box_w - 1, box_h - 1), radius=pad, fill=(0, 0, 0, 150)
        )
    stroke = max(2, size // 20) if layer.style in {"stroke", "shadow"} else 0
    fill = rgba(layer.color)
    for i, line in enumerate(runs):
        if layer.align == "left":
            x = pad
        elif layer.align == "right":
            x = box_w - pad - widths[i]
        else:
            x = (box_w - widths[i]) // 2
        baseline = pad + i * line_h + ascent
        if layer.style == "shadow":
            offset = max(2, size // 18)
            draw_line(
                img, line, x + offset, baseline + offset, size, (0, 0, 0, 120), with_emoji=False
            )
        draw_line(img, line, x, baseline, size, fill, stroke, (0, 0, 0, 180) if stroke else None)
    img.save(out, format="TGA")
    x0, y0 = place(box_w, box_h, area, layer.position, layer.align)
    return Placed(out, x0, y0, box_w, box_h)


def render_gradient(bg: RGradient, width: int, height: int, out: Path) -> Path:
    start, end = rgba(bg.from_color), rgba(bg.to_color)
    # A one-pixel ramp resized with bilinear filtering: fast and band-free enough for video.
    steps = 256
    ramp = Image.new("RGB", (steps, 1))
    for i in range(steps):
        f = i / (steps - 1)
        ramp.putpixel(
            (i, 0), tuple(round(a + (b - a) * f) for a, b in zip(start[:3], end[:3], strict=True))
        )
    if bg.direction == "horizontal":
        img = ramp.resize((width, height), Image.Resampling.BILINEAR)
    elif bg.direction == "vertical":
        img = ramp.rotate(-90, expand=True).resize((width, height), Image.Resampling.BILINEAR)
    else:
        side = max(width, height) * 2
        img = (
            ramp.resize((side, side), Image.Resampling.BILINEAR)
            .rotate(-45, resample=Image.Resampling.BILINEAR, expand=False)
            .crop(
                (
                    (side - width) // 2,
                    (side - height) // 2,
                    (side + width) // 2,
                    (side + height) // 2,
                )
            )
        )
    img.save(out, format="TGA")
    return out


def fit_image(source: Path, bg: RImage, width: int, height: int, out: Path) -> Path:
    """The image as the scene's background at the preset size (2x for Ken Burns, so zooming
    in stays sharp)."""
    scale = 2 if bg.ken_burns else 1
    w, h = width * scale, height * scale
    with Image.open(source) as opened:
        img = opened.convert("RGB")
    canvas = Image.new("RGB", (w, h), rgba(bg.pad_color)[:3])
    if bg.fit == "fill" or bg.ken_burns:
        ratio = max(w / img.width, h / img.height)
        resized = img.resize(
            (max(w, round(img.width * ratio)), max(h, round(img.height * ratio))),
            Image.Resampling.LANCZOS,
        )
        left, top = (resized.width - w) // 2, (resized.height - h) // 2
        canvas = resized.crop((left, top, left + w, top + h))
    elif bg.fit == "fit":
        ratio = min(w / img.width, h / img.height)
        resized = img.resize(
            (max(1, round(img.width * ratio)), max(1, round(img.height * ratio))),
            Image.Resampling.LANCZOS,
        )
        canvas.paste(resized, ((w - resized.width) // 2, (h - resized.height) // 2))
    else:  # crop: native scale, centred, padded where the image is smaller than the frame
        left, top = (img.width - w) // 2, (img.height - h) // 2
        region = img.crop(
            (
                max(0, left),
                max(0, top),
                max(0, left) + min(w, img.width),
                max(0, top) + min(h, img.height),
            )
        )
        canvas.paste(region, ((w - region.width) // 2, (h - region.height) // 2))
    canvas.save(out, format="TGA")
    return out


def fit_logo(source: Path, frame_width: int, width_fraction: float, out: Path) -> Placed:
    with Image.open(source) as opened:
        img = opened.convert("RGBA")
    target_w = max(8, round(frame_width * width_fraction))
    target_h = max(1, round(img.height * target_w / img.width))
    img.resize((target_w, target_h), Image.Resampling.LANCZOS).save(out, format="TGA")
    return Placed(out, 0, 0, target_w, target_h)
