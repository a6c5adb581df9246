"""Which characters a font file can draw, read from its cmap table.

Both renderers fail a render that would draw a missing-glyph box ("tofu") before any FFmpeg or
Satori work, so they need the exact set of code points each font in the chain maps to a real
glyph. The OpenType cmap table is small and stable (formats 4 and 12 cover every font we
ship or a brand uploads; format 12 is the full-Unicode one), so it is read here directly
rather than by pulling fontTools into every function. The Node function reads it the same
way (`functions/render_image/src/font_coverage.mts`); a test holds the two to the same answer
for every font of the chain.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from pathlib import Path

# Characters that draw nothing and need no glyph: controls, joiners, variation selectors.
INVISIBLE = frozenset(
    {
        0x09,
        0x0A,
        0x0D,
        0x200B,
        0x200C,
        0x200D,
        0x200E,
        0x200F,
        0x2060,
        0xFEFF,
        *range(0xFE00, 0xFE10),
        *range(0xE0020, 0xE0080),
    }
)


class FontFormatError(ValueError):
    """The bytes are not a TrueType/OpenType font (or collection) with a usable cmap."""


def _tables(data: bytes, offset: int) -> dict[bytes, tuple[int, int]]:
    (count,) = struct.unpack_from(">H", data, offset + 4)
    tables = {}
    for i in range(count):
        tag, _, start, length = struct.unpack_from(">4sIII", data, offset + 12 + 16 * i)
        tables[tag] = (start, length)
    return tables


def _format4(data: bytes, at: int) -> set[int]:
    (seg_x2,) = struct.unpack_from(">H", data, at + 6)
    segs = seg_x2 // 2
    ends = struct.unpack_from(f">{segs}H", data, at + 14)
    starts = struct.unpack_from(f">{segs}H", data, at + 16 + seg_x2)
    deltas = struct.unpack_from(f">{segs}h", data, at + 16 + 2 * seg_x2)
    range_at = at + 16 + 3 * seg_x2
    ranges = struct.unpack_from(f">{segs}H", data, range_at)
    found: set[int] = set()
    for i in range(segs):
        for code in range(starts[i], min(ends[i], 0xFFFE) + 1):
            if ranges[i] == 0:
                glyph = (code + deltas[i]) & 0xFFFF
            else:
                where = range_at + 2 * i + ranges[i] + 2 * (code - starts[i])
                (glyph,) = struct.unpack_from(">H", data, where)
                glyph = (glyph + deltas[i]) & 0xFFFF if glyph else 0
            if glyph:
                found.add(code)
    return found


def _format12(data: bytes, at: int) -> set[int]:
    (groups,) = struct.unpack_from(">I", data, at + 12)
    found: set[int] = set()
    for i in range(groups):
        start, end, glyph = struct.unpack_from(">III", data, at + 16 + 12 * i)
        found.update(range(start + (1 if glyph == 0 else 0), end + 1))
    return found


def codepoints(data: bytes, index: int = 0) -> frozenset[int]:
    """The code points font ``index`` of ``data`` (a TTF, OTF or TTC) maps to a glyph."""
    try:
        offset = 0
        if data[:4] == b"ttcf":
            (count,) = struct.unpack_from(">I", data, 8)
            if index >= count:
                raise FontFormatError(f"the collection has {count} fonts, not {index + 1}")
            (offset,) = struct.unpack_from(">I", data, 12 + 4 * index)
        elif data[:4] not in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
            raise FontFormatError("not a TrueType or OpenType font file")
        cmap = _tables(data, offset).get(b"cmap")
        if cmap is None:
            raise FontFormatError("the font has no cmap table")
        base = cmap[0]
        (count,) = struct.unpack_from(">H", data, base + 2)
        subtables = {}
        for i in range(count):
            platform, encoding, sub = struct.unpack_from(">HHI", data, base + 4 + 8 * i)
            (fmt,) = struct.unpack_from(">H", data, base + sub)
            subtables[(platform, encoding, fmt)] = base + sub
        # Full Unicode first (format 12), then the Basic Multilingual Plane (format 4).
        for key in ((3, 10, 12), (0, 4, 12), (0, 6, 12), (0, 3, 12)):
            if key in subtables:
                return frozenset(_format12(data, subtables[key]))
        for key in ((3, 1, 4), (0, 3, 4), (0, 1, 4), (0, 0, 4)):
            if key in subtables:
                return frozenset(_format4(data, subtables[key]))
        raise FontFormatError("the font has no Unicode cmap (format 4 or 12)")
    except struct.error:
        raise FontFormatError("the font file is truncated") from None


@lru_cache(maxsize=64)
def file_codepoints(path: Path) -> frozenset[int]:
    """``codepoints`` of a font file, read once per process (fonts are immutable here)."""
    return codepoints(path.read_bytes())


def describe(chars: list[str]) -> str:
    """'"𓀀" (U+13000), "ꙮ" (U+A66E)': what to name in an error."""
    return ", ".join(f'"{c}" (U+{ord(c):04X})' for c in chars)
