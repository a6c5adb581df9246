"""Where things go on each preset: platform safe areas (pure)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SafeArea:
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


# Fractions of the frame kept clear of each platform's UI chrome (left, top, right, bottom):
# vertical feeds put captions, buttons and the profile row over the bottom fifth.
_MARGINS = {
    (1080, 1920): (0.06, 0.12, 0.06, 0.22),
    (1080, 1080): (0.06, 0.06, 0.06, 0.08),
    (1920, 1080): (0.05, 0.07, 0.05, 0.10),
}


def safe_area(width: int, height: int) -> SafeArea:
    ml, mt, mr, mb = _MARGINS.get((width, height), (0.05, 0.05, 0.05, 0.05))
    return SafeArea(
        round(width * ml), round(height * mt), round(width * (1 - mr)), round(height * (1 - mb))
    )


CAPTION_BAND = 0.12  # of the safe height, kept for captions when a video has any


def text_area(
    width: int, height: int, *, logo_corner: str | None, logo_h: int, captions: bool
) -> SafeArea:
    """Where text layers go: the safe area minus the logo's row and the caption band, so
    titles never sit under the watermark or collide with a caption."""
    area = safe_area(width, height)
    top, bottom = area.top, area.bottom
    if logo_corner is not None and logo_corner.startswith("top"):
        top += logo_h + round(height * 0.02)
    elif logo_corner is not None:
        bottom -= logo_h + round(height * 0.02)
    if captions:
        bottom -= round(area.height * CAPTION_BAND)
    return SafeArea(area.left, top, area.right, max(top + 1, bottom))


def place(box_w: int, box_h: int, area: SafeArea, position: str, align: str) -> tuple[int, int]:
    """Top-left corner of a box placed inside the safe area."""
    if align == "left":
        x = area.left
    elif align == "right":
        x = area.right - box_w
    else:
        x = area.left + (area.width - box_w) // 2
    if position == "top":
        y = area.top
    elif position == "bottom":
        y = area.bottom - box_h
    else:
        y = area.top + (area.height - box_h) // 2
    return x, y


def logo_origin(logo_w: int, logo_h: int, width: int, height: int, corner: str) -> tuple[int, int]:
    area = safe_area(width, height)
    x = area.left if corner.endswith("left") else area.right - logo_w
    y = area.top if corner.startswith("top") else area.bottom - logo_h
    return x, y
