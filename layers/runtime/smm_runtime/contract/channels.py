"""What each kind of Postiz channel takes: its settings, its text, which of a render's media.

Postiz checks part of this before it stores a post: each provider's settings DTO,
``checkValidity`` and ``maxLength`` (gitroomhq/postiz-app@74b01ada,
libraries/nestjs-libraries/src/dtos/posts/providers-settings/<provider>.dto.ts and
libraries/nestjs-libraries/src/integrations/social/<provider>.provider.ts). The platform
checks the rest when Postiz publishes, hours later. The engine checks both before anyone
approves (``preflight``), so a render is never approved for a channel that cannot take it.

Rules and their sources, per provider (docs/publishing.md has the same as a table):

- x: 280 weighted characters; one video of 0.5-140 s, aspect 1:3 to 3:1, or up to 4
  images; needs ``who_can_reply_post`` (x.dto.ts L23-30, x.provider.ts L91-103;
  docs.x.com, media best practices).
- instagram: 2 200 characters; up to 10 media; Reels of 3-900 s at 23-60 fps; images of
  aspect 4:5 to 1.91:1, or 9:16; needs ``post_type`` (instagram.dto.ts L51-54,
  instagram.provider.ts L46-60; Ayrshare's Instagram media guidelines).
- linkedin: 3 000 characters; one video of 3 s-30 min, aspect 1:2.4 to 2.4:1, or up to 20
  images (linkedin.provider.ts L76-100; Ayrshare's LinkedIn media guidelines).
- facebook: 63 206 characters; one video of up to 4 h at up to 30 fps, or up to 10 images
  (facebook.provider.ts L43-58; Ayrshare's Facebook Pages media guidelines).
- tiktok: 2 000 characters; one video of 3-600 s at 23-60 fps, 9:16 or 16:9, or up to 35
  photos; needs privacy_level, duet, stitch, comment, autoAddMusic, brand_content_toggle,
  brand_organic_toggle and content_posting_method (tiktok.dto.ts L71-177,
  tiktok.provider.ts L49-70; Ayrshare's TikTok media guidelines).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Aspect = tuple[float, float]  # the allowed range of width / height


@dataclass(frozen=True)
class ChannelRule:
    max_chars: int
    videos: int  # how many videos one post may carry
    images: int  # how many images one post may carry
    min_s: float = 0.0
    max_s: float = 4 * 3600.0
    min_fps: int = 0
    max_fps: int = 60
    video_aspects: tuple[Aspect, ...] = ((0.0, 100.0),)
    image_aspects: tuple[Aspect, ...] = ((0.0, 100.0),)
    settings: Callable[[dict[str, Any]], list[tuple[str, str]]] = field(
        default=lambda s: [], compare=False
    )


def _one_of(
    name: str, options: tuple[str, ...]
) -> Callable[[dict[str, Any]], list[tuple[str, str]]]:
    return lambda s: (
        [] if s.get(name) in options else [(name, f"must be one of {', '.join(options)}")]
    )


def _x_settings(s: dict[str, Any]) -> list[tuple[str, str]]:
    if s.get("post_type") == "article":
        return []
    replies = ("everyone", "following", "mentionedUsers", "subscribers", "verified")
    return _one_of("who_can_reply_post", replies)(s)


def _tiktok_settings(s: dict[str, Any]) -> list[tuple[str, str]]:
    problems = _one_of(
        "privacy_level",
        ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"),
    )(s)
    for name in ("duet", "stitch", "comment", "brand_content_toggle", "brand_organic_toggle"):
        if not isinstance(s.get(name), bool):
            problems.append((name, "must be true or false"))
    problems += _one_of("autoAddMusic", ("yes", "no"))(s)
    problems += _one_of("content_posting_method", ("DIRECT_POST", "UPLOAD"))(s)
    return problems


_INSTAGRAM = ChannelRule(
    2200,
    10,
    10,
    min_s=3,
    max_s=900,
    min_fps=23,
    image_aspects=((0.8, 1.91), (9 / 16 - 0.01, 9 / 16 + 0.01)),
    settings=_one_of("post_type", ("post", "story")),
)
_LINKEDIN = ChannelRule(3000, 1, 20, min_s=3, max_s=1800, video_aspects=((1 / 2.4, 2.4),))
_TIKTOK = ChannelRule(
    2000,
    1,
    35,
    min_s=3,
    max_s=600,
    min_fps=23,
    video_aspects=((9 / 16 - 0.01, 9 / 16 + 0.01), (16 / 9 - 0.01, 16 / 9 + 0.01)),
    settings=_tiktok_settings,
)
RULES: dict[str, ChannelRule] = {
    "x": ChannelRule(
        280, 1, 4, min_s=0.5, max_s=140, video_aspects=((1 / 3, 3.0),), settings=_x_settings
    ),
    "instagram": _INSTAGRAM,
    "instagram-standalone": _INSTAGRAM,
    "linkedin": _LINKEDIN,
    "linkedin-page": _LINKEDIN,
    "facebook": ChannelRule(63206, 1, 10, max_fps=30),
    "tiktok": _TIKTOK,
    "tiktok-business": _TIKTOK,
}
DEFAULT_RULE = ChannelRule(100_000, 1, 10)


def rule_for(provider: str) -> ChannelRule:
    return RULES.get(provider, DEFAULT_RULE)


def fits(aspect: float, ranges: tuple[Aspect, ...]) -> bool:
    return any(low <= aspect <= high for low, high in ranges)


def media_for(
    provider: str, content_types: list[str], aspects: list[float] | None = None
) -> list[int]:
    """The indexes of a render's media this channel's post carries, in order: the media
    whose shape the channel takes first (a spec lists its primary format first)."""
    rule = rule_for(provider)
    videos = [i for i, t in enumerate(content_types) if t.startswith("video/")]
    if videos:
        if aspects is not None:
            videos = [i for i in videos if fits(aspects[i], rule.video_aspects)] or videos
        return videos[: rule.videos]
    return [i for i, t in enumerate(content_types) if t.startswith("image/")][: rule.images]
