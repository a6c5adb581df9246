"""Still images for a render, drawn with Pillow: text layers, captions, gradients, image
backgrounds fitted to a preset, the logo. Outputs are TGA, the one still format our static
FFmpeg decodes with alpha; every drawing is deterministic, so two segments that draw the same
layer get the same pixels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from functions.render_video.layout import SafeArea, place, safe_area
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


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont,
          max_width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            trial = f"{current} {word}".strip()
            if draw.textlength(trial, font=font) <= max_width or not current:
                current = trial
            else:
                lines.append(current)
                current = word
        lines.append(current)
    return lines


def _fit_font(draw: ImageDraw.ImageDraw, text: str, font_path: Path, size: int,
              max_width: int, max_lines: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    # Shrink until the text fits the safe width in at most max_lines lines.
    while True:
        font = ImageFont.truetype(str(font_path), size)
        lines = _wrap(draw, text, font, max_width)
        widest = max(draw.textlength(line, font=font) for line in lines)
        if (len(lines) <= max_lines and widest <= max_width) or size <= 12:
            return font, lines
        size = int(size * 0.92)


def render_text(layer: RText, font_path: Path, width: int, height: int,
                out: Path, area: SafeArea | None = None) -> Placed:
    area = area or safe_area(width, height)
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    size = max(12, round(layer.size * min(width, height)))
    caption = layer.style == "caption"
    pad = round(size * 0.35) if caption else round(size * 0.15)
    font, lines = _fit_font(probe, layer.text, font_path, size, area.width - 2 * pad,
                            3 if caption else 5)
    ascent, descent = font.getmetrics()
    line_h = round((ascent + descent) * 1.12)
    widths = [round(probe.textlength(line, font=font)) for line in lines]
    box_w = max(widths) + 2 * pad
    box_h = line_h * len(lines) + 2 * pad
    img = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    if caption:
        draw.rounded_rectangle((0, 0, box_w - 1, box_h - 1), radius=pad, fill=(0, 0, 0, 150))
    stroke = max(2, size // 20) if layer.style in {"stroke", "shadow"} else 0
    fill = rgba(layer.color)
    for i, line in enumerate(lines):
        if layer.align == "left":
            x = pad
        elif layer.align == "right":
            x = box_w - pad - widths[i]
        else:
            x = (box_w - widths[i]) // 2
        y = pad + i * line_h
        if layer.style == "shadow":
            offset = max(2, size // 18)
            draw.text((x + offset, y + offset), line, font=font, fill=(0, 0, 0, 120))
        draw.text((x, y), line, font=font, fill=fill, stroke_width=stroke,
                  stroke_fill=(0, 0, 0, 180) if stroke else None)
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
        ramp.putpixel((i, 0), tuple(round(a + (b - a) * f) for a, b in
                                    zip(start[:3], end[:3], strict=True)))
    if bg.direction == "horizontal":
        img = ramp.resize((width, height), Image.Resampling.BILINEAR)
    elif bg.direction == "vertical":
        img = ramp.rotate(-90, expand=True).resize((width, height), Image.Resampling.BILINEAR)
    else:
        side = max(width, height) * 2
        img = ramp.resize((side, side), Image.Resampling.BILINEAR).rotate(
            -45, resample=Image.Resampling.BILINEAR, expand=False).crop(
            ((side - width) // 2, (side - height) // 2, (side + width) // 2,
             (side + height) // 2))
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
        resized = img.resize((max(w, round(img.width * ratio)), max(h, round(img.height * ratio))),
                             Image.Resampling.LANCZOS)
        left, top = (resized.width - w) // 2, (resized.height - h) // 2
        canvas = resized.crop((left, top, left + w, top + h))
    elif bg.fit == "fit":
        ratio = min(w / img.width, h / img.height)
        resized = img.resize((max(1, round(img.width * ratio)), max(1, round(img.height * ratio))),
                             Image.Resampling.LANCZOS)
        canvas.paste(resized, ((w - resized.width) // 2, (h - resized.height) // 2))
    else:  # crop: native scale, centred, padded where the image is smaller than the frame
        left, top = (img.width - w) // 2, (img.height - h) // 2
        region = img.crop((max(0, left), max(0, top), max(0, left) + min(w, img.width),
                           max(0, top) + min(h, img.height)))
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
