"""The creative on the review page, shown as it will be seen: each video with its poster in a
player of the right shape that fits the screen and a contact sheet of its scenes under it (a
tab per format when there are several), a
carousel as a strip of slides to swipe, and the post as it will appear. Plain HTML and CSS:
the tabs are radio buttons, so nothing needs a script."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from smm_runtime.contract.video_spec import PRESET_SLUGS

# The file name of each format's render (renders/<workflow>/<slug>.mp4) -> its label, shape.
SHAPES = {"vertical": "portrait", "square": "square", "landscape": "landscape"}
FORMATS = {slug: (preset, SHAPES[slug]) for preset, slug in PRESET_SLUGS.items()}
MAX_TABS = 4

MEDIA_STYLE = (
    """
.player { position: relative; margin: 0 auto; width: min(100%, calc(78vh * var(--ar)));
          aspect-ratio: var(--ar); background: #000; border-radius: 8px; overflow: hidden; }
.player video, .player img { display: block; width: 100%; height: 100%; object-fit: contain; }
.formats > input { position: absolute; opacity: 0; width: 1px; height: 1px; }
.formats > label { display: inline-block; padding: 8px 14px; margin: 0 4px 8px 0; min-height: 44px;
                   border: 1px solid var(--line); border-radius: 999px; background: #fff;
                   cursor: pointer; font-weight: 600; }
.formats > input:checked + label { background: var(--ink); color: #fff; border-color: var(--ink); }
.formats > input:focus-visible + label { outline: 3px solid #f59e0b; outline-offset: 2px; }
.formats > .panel { display: none; }
"""
    + "".join(
        f".formats > #format-{i}:checked ~ #panel-{i} {{ display: block; }}\n"
        for i in range(1, MAX_TABS + 1)
    )
    + """
.strip { display: flex; gap: 12px; overflow-x: auto; scroll-snap-type: x mandatory;
         padding-bottom: 8px; -webkit-overflow-scrolling: touch; }
.strip figure { flex: 0 0 min(85%, 420px); margin: 0; scroll-snap-align: center; }
.strip img, .single img { width: 100%; height: auto; border-radius: 8px; display: block;
                          background: #e5e7eb; }
.single { max-width: min(100%, 560px); margin: 0 auto; }
.sheet { margin: 12px auto 0; text-align: center; }
.sheet img { max-width: min(100%, 720px); max-height: 36vh; width: auto; height: auto;
             border-radius: 8px; display: inline-block; }
figcaption { color: var(--muted); font-size: .9rem; text-align: center; margin-top: 4px; }
.post { display: flex; gap: 12px; align-items: flex-start; }
.post .avatar { flex: 0 0 40px; width: 40px; height: 40px; border-radius: 50%;
                background: var(--brand, var(--ask)); object-fit: contain; }
.post .author { font-weight: 700; margin: 0; }
.post .text { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0 0 8px; }
.post .thumb { max-width: 100%; max-height: 240px; border-radius: 8px; display: block; }
.chips span { display: inline-block; border: 1px solid var(--line); border-radius: 999px;
              padding: 2px 10px; margin: 0 4px 4px 0; font-size: .9rem; background: #fff; }
"""
)


@dataclass(frozen=True)
class Media:
    url: str
    kind: str  # "video" or "image"
    poster: str | None = None
    slug: str | None = None  # a video's format: vertical, square, landscape
    sheet: str | None = None  # a video's contact sheet: a still from each scene

    @property
    def ratio(self) -> str:
        preset = FORMATS.get(self.slug or "", ("9:16", ""))[0]
        width, height = preset.split(":")
        return f"{width} / {height}"

    @property
    def label(self) -> str:
        preset, shape = FORMATS.get(self.slug or "", ("video", ""))
        return f"{preset} {shape}".strip()


def _player(item: Media, number: int) -> str:
    poster = f' poster="{escape(item.poster)}"' if item.poster else ""
    sheet = (
        (
            f'<figure class="sheet"><img src="{escape(item.sheet)}" loading="lazy" '
            f'alt="A still from each scene of video {number}"><figcaption>The scenes, in '
            f"order</figcaption></figure>"
        )
        if item.sheet
        else ""
    )
    return (
        f'<div class="player" style="--ar: {item.ratio}">'
        f'<video controls playsinline preload="metadata"{poster} src="{escape(item.url)}" '
        f'aria-label="Rendered video {number}, {escape(item.label)}"></video></div>{sheet}'
    )


def creative(items: list[Media]) -> str:
    videos = [m for m in items if m.kind == "video"]
    images = [m for m in items if m.kind == "image"]
    parts = []
    if len(videos) == 1:
        parts.append(_player(videos[0], 1))
    elif videos:
        tabs = "".join(
            f'<input type="radio" name="format" id="format-{i}"{" checked" if i == 1 else ""}>'
            f'<label for="format-{i}">{escape(v.label)}</label>'
            for i, v in enumerate(videos[:MAX_TABS], start=1)
        )
        panels = "".join(
            f'<div class="panel" id="panel-{i}">{_player(v, i)}</div>'
            for i, v in enumerate(videos[:MAX_TABS], start=1)
        )
        parts.append(f'<div class="formats" role="group" aria-label="Formats">{tabs}{panels}</div>')
    if len(images) == 1:
        parts.append(
            f'<div class="single"><img src="{escape(images[0].url)}" '
            'alt="The rendered image"></div>'
        )
    elif images:
        slides = "".join(
            f'<figure><img src="{escape(m.url)}" alt="Slide {i} of {len(images)}" '
            f'loading="lazy"><figcaption>{i} / {len(images)}</figcaption></figure>'
            for i, m in enumerate(images, start=1)
        )
        parts.append(
            f'<div class="strip" tabindex="0" aria-label="Carousel, swipe for more">{slides}</div>'
        )
    return '<section class="media" aria-label="The creative">' + "".join(parts) + "</section>"


def post_preview(
    post: dict[str, Any], items: list[Media], author: str = "", avatar: str | None = None
) -> str:
    """The post as it will appear: from the brand (its logo and name, when the page has
    them), the text as written (line breaks kept), the first media, the channels and the
    schedule."""
    channels = "".join(f"<span>{escape(str(c))}</span>" for c in post.get("integrations", []))
    when = escape(str(post.get("publish_at") or "as soon as approved"))
    first = next((m.poster or m.url for m in items if m.poster or m.kind == "image"), None)
    thumb = f'<img class="thumb" src="{escape(first)}" alt="">' if first else ""
    face = (
        f'<img class="avatar" src="{escape(avatar)}" alt="">'
        if avatar
        else '<div class="avatar" aria-hidden="true"></div>'
    )
    by = f'<p class="author">{escape(author)}</p>' if author else ""
    return (
        f'<section class="card" aria-labelledby="post-h"><h2 id="post-h">The post, as it '
        f'will appear</h2><div class="post">{face}<div>{by}'
        f'<p class="text">{escape(str(post.get("content", "")))}</p>{thumb}</div></div>'
        f'<p class="chips muted">Channels: {channels or "—"}</p>'
        f'<p class="muted">Scheduled: {when}</p></section>'
    )
