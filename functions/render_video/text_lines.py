"""Text laid out in lines for video: font fallback per cluster, line breaks that work without
spaces, bidirectional order, and drawing with Pillow's Raqm layout (HarfBuzz shaping).

A line is measured and broken in logical order, then reordered for display (Unicode bidi,
rules W/N/I/L: strong types from `unicodedata.bidirectional`, numbers after right-to-left
text stay left-to-right inside it, neutrals between two runs of one direction take it,
others the paragraph's, which is that of its first strong character). Explicit embeddings
and isolates are not honoured: overlay text does not carry them. Each run of one face and one
level is shaped by Raqm in its own direction, so Arabic joins and Hebrew reads right to left.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path

import resvg_py
from PIL import Image, ImageDraw, ImageFont

from functions.render_video.font_chain import Cluster, Face

# Kinsoku: no line starts with closing punctuation or a prolonged-sound mark, none ends
# with an opening bracket (escaped: the full-width forms look like ASCII ones).
NO_BREAK_BEFORE = set(
    "\u3001\u3002\uff0c\uff0e,.!?\uff01\uff1f:;\uff1a\uff1b)]}\uff09\u300d\u300f\u3011"
    "\u3015\u3009\u300b\u201d\u2019\u30fc\u2026\u309d\u309e\u30fd\u30fe\u3005"
)
NO_BREAK_AFTER = set("([{\uff08\u300c\u300e\u3010\u3014\u3008\u300a\u201c\u2018")


def _wide(ch: str) -> bool:
    """A character a line may break before or after without a space (CJK scripts)."""
    return unicodedata.east_asian_width(ch) in {"W", "F"}


@dataclass(frozen=True)
class Run:
    clusters: tuple[Cluster, ...]
    level: int

    @property
    def text(self) -> str:
        return "".join(c.text for c in self.clusters)

    @property
    def face(self) -> Face | None:
        return self.clusters[0].face

    @property
    def rtl(self) -> bool:
        return self.level % 2 == 1


@lru_cache(maxsize=256)
def font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)


@lru_cache(maxsize=512)
def emoji_image(svg: Path, size: int) -> Image.Image:
    # Our own layer's Twemoji SVGs (no text, no external references), at the text's size.
    png = resvg_py.svg_to_bytes(svg_path=str(svg), width=size, height=size, skip_system_fonts=True)
    return Image.open(BytesIO(bytes(png))).convert("RGBA")


def _strong(cluster: Cluster) -> str:
    """L, R, EN (a number) or N (neutral) for a cluster, from its first character."""
    if cluster.face is None:
        return "N"  # an emoji
    kind = unicodedata.bidirectional(cluster.text[0])
    if kind == "L":
        return "L"
    if kind in {"R", "AL"}:
        return "R"
    if kind in {"EN", "AN"}:
        return "EN"
    return "N"


def levels(clusters: list[Cluster]) -> list[int]:
    """The embedding level of each cluster of one paragraph line (see the module's note)."""
    kinds = [_strong(c) for c in clusters]
    base = 1 if next((k for k in kinds if k in {"L", "R"}), "L") == "R" else 0
    resolved: list[str] = []
    last = "R" if base else "L"
    for kind in kinds:  # W7: numbers after left-to-right text are left-to-right
        if kind == "EN":
            resolved.append("L" if last == "L" else "EN")
        else:
            resolved.append(kind)
            last = kind if kind in {"L", "R"} else last
    direction = ["R" if k == "EN" else k for k in resolved]
    for i, kind in enumerate(direction):  # N1/N2 on each stretch of neutrals
        if kind != "N":
            continue
        before = next((d for d in reversed(direction[:i]) if d != "N"), "R" if base else "L")
        after = next((d for d in direction[i + 1 :] if d != "N"), "R" if base else "L")
        resolved[i] = before if before == after else ("R" if base else "L")
    out = []
    for kind in resolved:
        if base == 0:
            out.append({"L": 0, "R": 1, "EN": 2}[kind])
        else:
            out.append({"R": 1, "L": 2, "EN": 2}[kind])
    # L1: trailing whitespace takes the paragraph's level.
    for i in range(len(clusters) - 1, -1, -1):
        if not clusters[i].text.isspace():
            break
        out[i] = base
    return out


def visual_runs(clusters: list[Cluster]) -> list[Run]:
    """Runs of one face and one level, in display order (L2)."""
    if not clusters:
        return []
    lv = levels(clusters)
    runs: list[Run] = []
    start = 0
    for i in range(1, len(clusters) + 1):
        if (
            i == len(clusters)
            or lv[i] != lv[start]
            or clusters[i].face != clusters[start].face
            or clusters[i].face is None
            or clusters[start].face is None
        ):
            runs.append(Run(tuple(clusters[start:i]), lv[start]))
            start = i
    for level in range(max(r.level for r in runs), 0, -1):
        i = 0
        while i < len(runs):
            if runs[i].level >= level:
                j = i
                while j < len(runs) and runs[j].level >= level:
                    j += 1
                runs[i:j] = reversed(runs[i:j])
                i = j
            else:
                i += 1
    return runs


def run_width(run: Run, size: int) -> float:
    if run.face is None:
        return len(run.clusters) * size * 1.1
    return font(run.face.path, size).getlength(run.text, direction="rtl" if run.rtl else "ltr")


def line_width(clusters: list[Cluster], size: int) -> float:
    return sum(run_width(r, size) for r in visual_runs(clusters))


def _break_points(clusters: list[Cluster]) -> list[int]:
    """Indexes a line may end before: after a space, and between wide (CJK) characters."""
    points = []
    for i in range(1, len(clusters)):
        prev, cur = clusters[i - 1].text, clusters[i].text
        cjk = (
            (_wide(prev[0]) or _wide(cur[0]))
            and not cur.isspace()
            and cur[0] not in NO_BREAK_BEFORE
            and prev[-1] not in NO_BREAK_AFTER
        )
        if prev.isspace() or cjk:
            points.append(i)
    return points


def wrap(clusters: list[Cluster], size: int, max_width: int) -> list[list[Cluster]]:
    """Greedy lines no wider than ``max_width``; a word wider than a line is cut between
    clusters. Newlines end paragraphs."""
    lines: list[list[Cluster]] = []
    paragraph: list[Cluster] = []
    for cluster in [*clusters, Cluster("\n", None)]:
        if cluster.text == "\n":
            lines += _wrap_paragraph(paragraph, size, max_width)
            paragraph = []
        else:
            paragraph.append(cluster)
    return lines


def _wrap_paragraph(clusters: list[Cluster], size: int, max_width: int) -> list[list[Cluster]]:
    lines: list[list[Cluster]] = []
    while clusters:
        if line_width(clusters, size) <= max_width:
            lines.append(clusters)
            break
        points = [
            p for p in _break_points(clusters) if line_width(_trim(clusters[:p]), size) <= max_width
        ]
        if points:
            cut = points[-1]
        else:  # one word wider than the line: cut it where it still fits
            cut = 1
            while cut < len(clusters) and line_width(clusters[: cut + 1], size) <= max_width:
                cut += 1
        lines.append(_trim(clusters[:cut]))
        clusters = clusters[cut:]
        while clusters and clusters[0].text.isspace():
            clusters = clusters[1:]
    return lines or [[]]


def _trim(clusters: list[Cluster]) -> list[Cluster]:
    end = len(clusters)
    while end and clusters[end - 1].text.isspace():
        end -= 1
    return clusters[:end]


def draw_line(
    img: Image.Image,
    runs: list[Run],
    x: float,
    baseline: int,
    size: int,
    fill: tuple[int, int, int, int],
    stroke: int = 0,
    stroke_fill: tuple[int, int, int, int] | None = None,
    with_emoji: bool = True,
) -> None:
    """Draw display-ordered ``runs`` from ``x`` on ``baseline`` (a shadow pass leaves the
    colour emoji out: ``with_emoji``)."""
    draw = ImageDraw.Draw(img)
    for run in runs:
        width = run_width(run, size)
        if run.face is None and with_emoji:
            for k, cluster in enumerate(run.clusters):
                assert cluster.emoji is not None
                glyph = emoji_image(cluster.emoji, size)
                left = round(x + k * size * 1.1 + size * 0.05)
                img.alpha_composite(glyph, (left, max(0, baseline - round(size * 0.88))))
        elif run.face is not None:
            draw.text(
                (x, baseline),
                run.text,
                font=font(run.face.path, size),
                fill=fill,
                anchor="ls",
                direction="rtl" if run.rtl else "ltr",
                stroke_width=stroke,
                stroke_fill=stroke_fill,
            )
        x += width
