"""Title and subtitle rendered to a transparent image (TGA) with the brand font.

The registry FFmpeg build we ship has no libfreetype (no drawtext), so text is drawn with
Pillow and overlaid. That also gives exact control over wrapping and fitting inside the
platform safe area, which drawtext does not do.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SAFE_MARGIN_X = 90  # keeps text clear of the UI chrome of vertical feeds
TITLE_SIZES = range(120, 47, -6)


def _hex_to_rgba(color: str, alpha: int = 255) -> tuple[int, int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), alpha


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont,
          max_width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if draw.textlength(trial, font=font) <= max_width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def _fit(draw: ImageDraw.ImageDraw, text: str, font_path: Path, max_width: int,
         sizes: range, max_lines: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    font = ImageFont.truetype(str(font_path), sizes[0])
    for size in sizes:
        font = ImageFont.truetype(str(font_path), size)
        lines = _wrap(draw, text, font, max_width)
        widest = max(draw.textlength(line, font=font) for line in lines)
        if len(lines) <= max_lines and widest <= max_width:
            return font, lines
    return font, _wrap(draw, text, font, max_width)


def render_title_card(
    *, title: str, subtitle: str | None, font_path: Path, color: str,
    width: int, height: int, out_path: Path,
) -> Path:
    card = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(card)
    max_width = width - 2 * SAFE_MARGIN_X
    title_font, title_lines = _fit(draw, title, font_path, max_width, TITLE_SIZES, 4)
    blocks: list[tuple[ImageFont.FreeTypeFont, list[str]]] = [(title_font, title_lines)]
    if subtitle:
        sub_sizes = range(max(int(title_font.size * 0.5), 36), 27, -2)
        blocks.append(_fit(draw, subtitle, font_path, max_width, sub_sizes, 3))
    line_gap = 0.22
    heights = [int(f.size * (1 + line_gap)) * len(lines) for f, lines in blocks]
    y = int(height * 0.42) - sum(heights) // 2
    fill = _hex_to_rgba(color)
    for font, lines in blocks:
        step = int(font.size * (1 + line_gap))
        stroke = max(2, int(font.size / 24))
        for line in lines:
            x = (width - draw.textlength(line, font=font)) / 2
            # A soft drop shadow then a thin dark stroke keep text legible on any background.
            draw.text((x + stroke * 2, y + stroke * 2), line, font=font, fill=(0, 0, 0, 110))
            draw.text((x, y), line, font=font, fill=fill, stroke_width=stroke,
                      stroke_fill=(0, 0, 0, 170))
            y += step
        y += int(font.size * 0.4)
    card.save(out_path, format="TGA")
    return out_path
