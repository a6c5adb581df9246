"""What each kind of Postiz channel takes: which of a render's media, how many, what length.

Postiz checks some of this itself before it stores a post (each provider's
``checkValidity`` and ``maxLength``, gitroomhq/postiz-app@74b01ada
libraries/nestjs-libraries/src/integrations/social/<provider>.provider.ts) and the platform
checks the rest when Postiz publishes, hours later. The engine applies both before it
posts, so a render is never approved for a channel that cannot take it.

| provider | text limit | video posts | image posts | source |
|---|---|---|---|---|
| x | 280 (weighted) | one video | up to 4 images | x.provider.ts L91-103; X API media limits |
| instagram | 2 200 | carousel of up to 10 | up to 10 | instagram.provider.ts L46-60 |
| linkedin | 3 000 | one video | any number | linkedin.provider.ts L76-100 |
| facebook | 63 206 | one video | any number | facebook.provider.ts L43-58 |
| tiktok | 2 000 | one video | up to 35 photos | tiktok.provider.ts L49-70; TikTok photo posts |
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelRule:
    max_chars: int
    videos: int  # how many videos one post may carry
    images: int  # how many images one post may carry


RULES: dict[str, ChannelRule] = {
    "x": ChannelRule(280, 1, 4),
    "instagram": ChannelRule(2200, 10, 10),
    "instagram-standalone": ChannelRule(2200, 10, 10),
    "linkedin": ChannelRule(3000, 1, 20),
    "linkedin-page": ChannelRule(3000, 1, 20),
    "facebook": ChannelRule(63206, 1, 10),
    "tiktok": ChannelRule(2000, 1, 35),
    "tiktok-business": ChannelRule(2000, 1, 35),
}
DEFAULT_RULE = ChannelRule(100_000, 1, 10)


def rule_for(provider: str) -> ChannelRule:
    return RULES.get(provider, DEFAULT_RULE)


def media_for(provider: str, content_types: list[str]) -> list[int]:
    """The indexes of a render's media this channel's post carries, in order: the first
    presets first (a spec lists its primary format first)."""
    rule = rule_for(provider)
    videos = [i for i, t in enumerate(content_types) if t.startswith("video/")]
    if videos:
        return videos[: rule.videos]
    return [i for i, t in enumerate(content_types) if t.startswith("image/")][: rule.images]
