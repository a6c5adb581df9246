"""Still images are decoded by Pillow, never by FFmpeg.

The FFmpeg build we ship (a static registry build) has no PNG decoder, and decoding user
images in Pillow is safer anyway: the format is checked from the bytes, the pixel count is
checked from the header before any pixel is decoded (no decompression bombs), and FFmpeg only
ever sees an uncompressed TGA that this process wrote itself.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from smm_runtime.contract.errors import UnsafeMediaError

ALLOWED_FORMATS = frozenset({"PNG", "JPEG", "WEBP"})
MAX_PIXELS = 8192 * 8192  # the Node path (render_image/src/image_header.mts) keeps the same
# Our own check below (from the header, before any pixel is decoded) is the guard, and it is
# stricter than Pillow's bomb check; with Pillow's on, a bomb was refused by Pillow's
# message, which names no size, while the Node path names it: one message for both.
Image.MAX_IMAGE_PIXELS = None


def normalize_image(source: Path, dest: Path, field: str, *, max_pixels: int = MAX_PIXELS) -> Path:
    """Decode ``source`` safely and write it as RGBA TGA at ``dest``; returns ``dest``."""
    try:
        with Image.open(source) as img:
            if img.format not in ALLOWED_FORMATS:
                raise UnsafeMediaError(
                    f"{field}: {img.format or 'unknown'} images are not allowed "
                    f"(use {', '.join(sorted(ALLOWED_FORMATS))})"
                )
            width, height = img.size
            if width * height > max_pixels or width < 1 or height < 1:
                raise UnsafeMediaError(
                    f"{field}: {width}x{height} is outside the allowed size "
                    f"(at most {max_pixels} pixels)"
                )
            img.convert("RGBA").save(dest, format="TGA")
    except UnsafeMediaError:
        raise
    except (OSError, SyntaxError, ValueError) as err:
        # Pillow names the file by its full path: keep our work folder out of user errors.
        reason = str(err).replace(repr(str(source)), "").replace(str(source), "").strip()
        raise UnsafeMediaError(f"{field}: not a readable image ({reason})") from None
    return dest
