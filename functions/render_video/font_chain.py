"""Which font draws each character of a text: the brand's font first, then the fallback chain
of the fonts layer (chain.json), and Twemoji for emoji.

A text is cut into clusters (a character with its combining marks; an emoji sequence: flags,
keycaps, skin tones, ZWJ families), and each cluster goes to the first face that has every
character of it. Han characters go to the CJK font of the text's language, guessed from the
text itself (kana: Japanese; Hangul: Korean; else simplified, then traditional Chinese), so
a Japanese line is not drawn with Chinese glyph shapes. A character no face has makes the
render fail before any work, naming it: never an empty box.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from smm_runtime.contract.errors import InvalidRequestError
from smm_runtime.font_coverage import INVISIBLE, describe, file_codepoints

ZWJ, VS16, KEYCAP = 0x200D, 0xFE0F, 0x20E3
SKIN_TONES = range(0x1F3FB, 0x1F400)
REGIONAL = range(0x1F1E6, 0x1F200)
TAGS = range(0xE0020, 0xE0080)
# Characters shown as emoji without a VS16 (Unicode Emoji_Presentation) in the BMP; above it
# pictographs default to emoji. Others (©, ™, ✓, ↔) are text unless followed by VS16.
BMP_EMOJI = frozenset(
    [
        0x231A,
        0x231B,
        *range(0x23E9, 0x23ED),
        0x23F0,
        0x23F3,
        0x25FD,
        0x25FE,
        0x2614,
        0x2615,
        *range(0x2648, 0x2654),
        0x267F,
        0x2693,
        0x26A1,
        0x26AA,
        0x26AB,
        0x26BD,
        0x26BE,
        0x26C4,
        0x26C5,
        0x26CE,
        0x26D4,
        0x26EA,
        0x26F2,
        0x26F3,
        0x26F5,
        0x26FA,
        0x26FD,
        0x2705,
        0x270A,
        0x270B,
        0x2728,
        0x274C,
        0x274E,
        *range(0x2753, 0x2756),
        0x2757,
        *range(0x2795, 0x2798),
        0x27B0,
        0x27BF,
        0x2B1B,
        0x2B1C,
        0x2B50,
        0x2B55,
    ]
)
MAX_SEQUENCE = 14  # code points in the longest emoji sequence (a family with skin tones)


@dataclass(frozen=True)
class Face:
    path: Path
    covers: frozenset[int]
    lang: str | None = None


@dataclass(frozen=True)
class Cluster:
    text: str
    face: Face | None  # None: an emoji, drawn from ``emoji`` (a Twemoji SVG)
    emoji: Path | None = None


def twemoji_name(sequence: str) -> str:
    """Twemoji's file name for an emoji sequence: its code points in hex joined by '-',
    without VS16 unless the sequence has a ZWJ (Twemoji's own rule)."""
    points = [ord(c) for c in sequence]
    if ZWJ not in points:
        points = [p for p in points if p != VS16]
    return "-".join(f"{p:x}" for p in points)


@lru_cache(maxsize=4)
def _emoji_names(folder: Path) -> frozenset[str]:
    return frozenset(p.stem for p in folder.glob("*.svg")) if folder.is_dir() else frozenset()


@lru_cache(maxsize=4)
def _chain(fonts_dir: Path) -> tuple[tuple[tuple[Face, int], ...], Path]:
    """The chain's faces with their weights, and the emoji folder (chain.json, read once)."""
    chain = json.loads((fonts_dir / "chain.json").read_text())
    faces = tuple(
        (
            Face(fonts_dir / f["file"], file_codepoints(fonts_dir / f["file"]), f.get("lang")),
            int(f["weight"]),
        )
        for f in chain["fonts"]
    )
    return faces, fonts_dir / chain["emoji"]["dir"]


def _is_emoji_start(text: str, i: int) -> bool:
    point = ord(text[i])
    follows_vs16 = i + 1 < len(text) and ord(text[i + 1]) == VS16
    if point in REGIONAL or point in BMP_EMOJI or follows_vs16:
        return True
    if i + 1 < len(text) and ord(text[i + 1]) == KEYCAP:
        return True
    return point >= 0x1F000 and unicodedata.category(text[i]) == "So"


class FontChain:
    """The faces one text layer draws with: ``brand`` first, then the chain of ``fonts_dir``
    in the weight nearest ``weight`` (CJK faces come in one weight)."""

    def __init__(self, brand: Path, fonts_dir: Path, weight: int = 400) -> None:
        chain, self.emoji_dir = _chain(fonts_dir)
        by_file: dict[str, tuple[Face, int]] = {}
        for face, w in chain:
            family = face.path.name.split("-")[0]
            best = by_file.get(family)
            if best is None or abs(w - weight) < abs(best[1] - weight):
                by_file[family] = (face, w)
        self.fallbacks = [face for face, _ in by_file.values()]
        self.brand = Face(brand, file_codepoints(brand))

    def faces_for(self, text: str) -> list[Face]:
        """Brand, then the fallbacks with the CJK face of the text's language first."""
        lang = (
            "ja-JP"
            if any(0x3040 <= ord(c) <= 0x30FF for c in text)
            else "ko-KR"
            if any(0xAC00 <= ord(c) <= 0xD7AF or 0x1100 <= ord(c) <= 0x11FF for c in text)
            else None
        )
        cjk = [f for f in self.fallbacks if f.lang]
        cjk.sort(key=lambda f: f.lang != lang)  # stable: the chain's order otherwise
        return [self.brand, *[f for f in self.fallbacks if not f.lang], *cjk]

    def _emoji_at(self, text: str, i: int) -> str | None:
        """The longest Twemoji sequence starting at ``i``, if an emoji starts there."""
        if not _is_emoji_start(text, i):
            return None
        names = _emoji_names(self.emoji_dir)
        for end in range(min(len(text), i + MAX_SEQUENCE), i, -1):
            if twemoji_name(text[i:end]) in names:
                return text[i:end]
        return None

    def clusters(self, text: str) -> tuple[list[Cluster], list[str]]:
        """The text as clusters with their faces, and the characters no face has."""
        faces = self.faces_for(text)
        out: list[Cluster] = []
        missing: list[str] = []
        i = 0
        while i < len(text):
            emoji = self._emoji_at(text, i)
            if emoji is not None:
                out.append(Cluster(emoji, None, self.emoji_dir / f"{twemoji_name(emoji)}.svg"))
                i += len(emoji)
                continue
            end = i + 1
            while end < len(text) and (
                unicodedata.combining(text[end])
                or unicodedata.category(text[end]) in {"Mn", "Mc", "Me"}
                or ord(text[end]) in INVISIBLE - {0x0A}
            ):
                end += 1
            cluster = text[i:end]
            needed = {ord(c) for c in cluster} - INVISIBLE
            face = next((f for f in faces if needed <= f.covers), None)
            if face is None:
                missing += [
                    c
                    for c in cluster
                    if ord(c) not in INVISIBLE and not any(ord(c) in f.covers for f in faces)
                ]
                face = faces[0]
            out.append(Cluster(cluster, face))
            i = end
        return out, list(dict.fromkeys(missing))

    def check(self, text: str, field: str) -> None:
        """Refuse, naming ``field`` and the characters, a text some character of which no
        face in the chain can draw."""
        _, missing = self.clusters(text)
        if missing:
            raise InvalidRequestError(
                f"{field}: no font covers {describe(missing)}; use a brand font that has "
                f"{'it' if len(missing) == 1 else 'them'}, or remove "
                f"{'it' if len(missing) == 1 else 'them'}"
            )
