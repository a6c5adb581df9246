"""How Postiz rewrites and judges a post's text and settings, per provider.

Reproduced from gitroomhq/postiz-app at ``UPSTREAM`` (paths below are relative to that
commit; ``L`` gives the lines). The double (``postiz_model``) calls these on the same paths
Postiz does; the engine's own preflight never imports this module (it has its own rules,
``smm_runtime.contract.channels``), so a test that compares the two is a real check.

- SAN  libraries/helpers/src/utils/sanitize.post.content.ts L3-36 (DOMPurify on every
  ``value[].content``, via the ``@Transform`` in dtos/posts/create.post.dto.ts L31-36)
- STRIP libraries/helpers/src/utils/strip.links.ts L1-34
- SHORT libraries/nestjs-libraries/src/short-linking/short.link.service.ts L11-94
- DTOS libraries/nestjs-libraries/src/dtos/posts/providers-settings/{x,instagram,linkedin,
  facebook,tiktok}.dto.ts (class-validator rules; messages are class-validator's defaults)
- PROV libraries/nestjs-libraries/src/integrations/social/{x,instagram,linkedin,facebook,
  tiktok}.provider.ts (name, maxLength, checkValidity, stripLinks)
- LEN  libraries/helpers/src/utils/count.length.ts L37-39 (twitter-text weighted length, X)
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

UPSTREAM = "74b01ada154a177242d558bedc646fcfed100adf"

# --- SAN: DOMPurify with Postiz's allow-lists ---------------------------------------------

ALLOWED_TAGS = {"p", "br", "strong", "u", "a", "ul", "li", "h1", "h2", "h3", "span"}
ALLOWED_ATTR = {"href", "target", "rel", "class", "data-mention-id", "data-mention-label"}
ALLOWED_URI = re.compile(r"^(?:https?:|mailto:|/|#)", re.I)
# DOMPurify drops these elements with everything inside them (its FORBID_CONTENTS default).
DROP_WITH_CONTENT = {"script", "style", "template", "iframe", "noscript", "title", "xmp"}
VOID = {"br", "img", "hr", "input", "meta", "link"}


class _Purifier(HTMLParser):
    """The serialised result of parsing ``value`` as HTML and keeping what SAN allows.

    Text is serialised as the HTML serialiser does (``&`` → ``&amp;``, ``<`` → ``&lt;``,
    ``>`` → ``&gt;``, U+00A0 → ``&nbsp;``); the parser has already turned CR LF and lone CR
    into LF. Disallowed elements are removed and their text kept, except DROP_WITH_CONTENT.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_WITH_CONTENT:
            self.dropping += 1
            return
        if self.dropping or tag not in ALLOWED_TAGS:
            return
        kept = []
        for name, value in attrs:
            if name not in ALLOWED_ATTR:
                continue
            if name == "href" and not ALLOWED_URI.match((value or "").strip()):
                continue
            kept.append(f' {name}="{_attr(value or "")}"')
        self.out.append(f"<{tag}{''.join(kept)}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_WITH_CONTENT:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping or tag not in ALLOWED_TAGS or tag in VOID:
            return
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(_text(data))


def _text(data: str) -> str:
    return (
        data.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\u00a0", "&nbsp;")
    )


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("\u00a0", "&nbsp;")


def sanitize(value: Any) -> str:
    """SAN L26-36: non-strings and empty strings become ''."""
    if not isinstance(value, str) or not value:
        return ""
    # The HTML input stream normalises newlines before tokenising (HTML Living Standard,
    # "preprocessing the input stream"); a '<' not starting a tag stays text.
    purifier = _Purifier()
    purifier.feed(value.replace("\r\n", "\n").replace("\r", "\n"))
    purifier.close()
    return "".join(purifier.out)


def plain(value: str) -> str:
    """The text a reader sees: tags stripped, entities decoded (the 'normal' strip of
    libraries/helpers/src/utils/strip.html.validation.ts, for content without markup)."""
    return html.unescape(re.sub(r"<[^>]*>", "", value))


# --- STRIP and SHORT ----------------------------------------------------------------------

_SCHEME_URL = (
    r"https?:\/\/(?:www\.)?[-a-zA-Z0-9@:%._\+~#=]{1,256}\.[a-zA-Z0-9()]{1,6}\b"
    r"(?:[-a-zA-Z0-9()@:%_\+.~#?&//=]*)"
)
_TLDS = (
    "online|store|cloud|social|world|blog|shop|site|tech|news|live|link|info|app|dev|xyz|com|"
    "net|org|edu|gov|biz|io|co|ai|me|tv|cc|ly|gl|sh|fm|am|be|to|gg|so|is|us|uk|ca|au|de|fr|es|"
    "it|nl|se|no|dk|fi|pl|ch|at|ie|nz|za|in|jp|br|mx|ru|eu"
)
_BARE_DOMAIN = rf"(?<![\w@./-])(?:[a-zA-Z0-9-]+\.)+(?:{_TLDS})\b(?:\/[-a-zA-Z0-9()@:%_+.~#?&/=]*)?"
_ANY_URL = re.compile(rf"(?:{_SCHEME_URL})|(?:{_BARE_DOMAIN})", re.I | re.M)
_SHORTENABLE = re.compile(rf"({_SCHEME_URL})", re.M)


def strip_links(text: str) -> str:
    """STRIP L26-34."""
    out = _ANY_URL.sub("", text)
    out = re.sub(r"<a\b[^>]*>\s*</a>", "", out, flags=re.I)
    out = re.sub(r"[ \t]{2,}", " ", out)
    out = re.sub(r" +\n", "\n", out)
    return out.strip()


def short_links(text: str, domain: str, mint: Callable[[str], str]) -> str:
    """SHORT L54-94 with a configured provider (DUB_TOKEN and friends): entities that
    sanitising made are undone, then every scheme'd URL not already on the short domain is
    replaced by a freshly minted short link."""
    text = text.replace("&amp;", "&").replace("&quest;", "?").replace("&num;", "#")
    return _SHORTENABLE.sub(
        lambda m: m.group(0) if domain in m.group(0) else mint(m.group(0)), text
    )


# --- LEN: X's weighted length -------------------------------------------------------------

_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))  # weight 1; others 2
_EMOJI = re.compile(
    "(?:[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff](?:\ufe0f)?(?:\u200d"
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff](?:\ufe0f)?)*)"
)


def weighted_length(text: str) -> int:
    """twitter-text v3's default config: URLs count 23, an emoji sequence 2, code points in
    the light ranges 1, all others 2; text is NFC-normalised first."""
    text = unicodedata.normalize("NFC", text)
    total = 23 * len(re.findall(_SCHEME_URL, text))
    text = re.sub(_SCHEME_URL, "", text)
    total += 2 * len(_EMOJI.findall(text))
    for char in _EMOJI.sub("", text):
        total += 1 if any(lo <= ord(char) <= hi for lo, hi in _LIGHT) else 2
    return total


# --- DTOS: settings validation as class-validator words it --------------------------------


def _is_in(prop: str, options: tuple[str, ...]) -> str:
    return f"{prop} must be one of the following values: {', '.join(options)}"


def _bool(prop: str) -> str:
    return f"{prop} must be a boolean value"


def _x_settings(s: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    community = s.get("community")
    if community is not None and not re.fullmatch(
        r"(https://x\.com/i/communities/\d+)?", str(community)
    ):
        errors.append(
            "Invalid X community URL. It should be in the format: "
            "https://x.com/i/communities/1493446837214187523"
        )
    replies = ("everyone", "following", "mentionedUsers", "subscribers", "verified")
    if s.get("post_type") != "article" and s.get("who_can_reply_post") not in replies:
        errors.append(_is_in("who_can_reply_post", replies))
    if s.get("post_type") is not None and s.get("post_type") not in ("post", "article"):
        errors.append(_is_in("post_type", ("post", "article")))
    if s.get("post_type") == "article":
        title = s.get("article_title")
        if not isinstance(title, str):
            errors.append("article_title must be a string")
        elif not title:
            errors.append("Article title is required")
        if s.get("article_status") not in ("draft", "published"):
            errors.append(_is_in("article_status", ("draft", "published")))
    for prop in ("made_with_ai", "paid_partnership"):
        if s.get(prop) is not None and not isinstance(s[prop], bool):
            errors.append(_bool(prop))
    return errors


def _instagram_settings(s: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    if s.get("post_type") is None:
        errors.append("post_type should not be null or undefined")
    if s.get("post_type") not in ("post", "story"):
        errors.append(_is_in("post_type", ("post", "story")))
    strategy = s.get("graduation_strategy")
    if strategy is not None and strategy not in ("MANUAL", "SS_PERFORMANCE"):
        errors.append(_is_in("graduation_strategy", ("MANUAL", "SS_PERFORMANCE")))
    if s.get("collaborators") is not None and not isinstance(s["collaborators"], list):
        errors.append("collaborators must be an array")
    return errors


def _linkedin_settings(s: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    carousel = s.get("post_as_images_carousel")
    if carousel is not None and not isinstance(carousel, bool):
        errors.append(_bool("post_as_images_carousel"))
    if s.get("carousel_name") is not None and not isinstance(s["carousel_name"], str):
        errors.append("carousel_name must be a string")
    return errors


def _facebook_settings(s: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    url = s.get("url")
    if url and not re.match(r"^(https?://)?[^\s/$.?#][^\s]*\.[^\s]+$", str(url)):
        errors.append("url must be a URL address")
    if s.get("post_type") is not None and s["post_type"] not in ("post", "story"):
        errors.append(_is_in("post_type", ("post", "story")))
    preset = s.get("text_format_preset_id")
    if preset is not None and not isinstance(preset, str):
        errors.append("text_format_preset_id must be a string")
    return errors


TIKTOK_PRIVACY = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")


def _tiktok_settings(s: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    title = s.get("title")
    if title and (not isinstance(title, str) or len(title) > 90):
        errors.append("title must be shorter than or equal to 90 characters")
    privacy = s.get("privacy_level")
    if not isinstance(privacy, str):  # decorators run bottom-up: IsString, then IsIn
        errors.append("privacy_level must be a string")
    if privacy not in TIKTOK_PRIVACY:
        errors.append(_is_in("privacy_level", TIKTOK_PRIVACY))
    for prop in ("duet", "stitch", "comment"):
        if not isinstance(s.get(prop), bool):
            errors.append(_bool(prop))
    if s.get("autoAddMusic") not in ("yes", "no"):
        errors.append(_is_in("autoAddMusic", ("yes", "no")))
    if not isinstance(s.get("brand_content_toggle"), bool):
        errors.append(_bool("brand_content_toggle"))
    made = s.get("video_made_with_ai")
    if made is not None and not isinstance(made, bool):
        errors.append(_bool("video_made_with_ai"))
    if not isinstance(s.get("brand_organic_toggle"), bool):
        errors.append(_bool("brand_organic_toggle"))
    method = s.get("content_posting_method")
    if not isinstance(method, str):
        errors.append("content_posting_method must be a string")
    if method not in ("DIRECT_POST", "UPLOAD"):
        errors.append(_is_in("content_posting_method", ("DIRECT_POST", "UPLOAD")))
    return errors


# --- PROV: what each provider checks ------------------------------------------------------


def _is_video(path: str) -> bool:
    return "mp4" in path


def _x_validity(media: list[list[dict[str, Any]]], s: dict[str, Any]) -> str | bool:
    if s.get("post_type") != "article":
        return True
    if any(str(m.get("path", "")).split("?")[0].endswith(".mp4") for p in media for m in p):
        return "X articles only support images"
    if s.get("article_status") != "published" and len(media) > 1:
        return "A draft article cannot have thread replies, remove them or publish the article"
    return True


def _instagram_validity(media: list[list[dict[str, Any]]], s: dict[str, Any]) -> str | bool:
    first = media[0] if media else []
    if not first:
        return "Should have at least one media"
    if len(first) > 10:
        return "Instagram carousel only supports up to 10 media attachments"
    if s.get("is_trial_reel") in (True, "true"):
        if len(first) > 1:
            return "Trial Reels can only have one video"
        if not any(_is_video(m.get("path", "")) for m in first):
            return "Trial Reels must be a video"
    return True


def _linkedin_validity(media: list[list[dict[str, Any]]], s: dict[str, Any]) -> str | bool:
    first, rest = (media[0] if media else []), media[1:]
    has_video = any(_is_video(m.get("path", "")) for m in first)
    if s.get("post_as_images_carousel") in (True, "true") and (len(first) < 2 or has_video):
        return "Carousel can only be created with 2 or more images and no videos."
    if len(first) > 1 and has_video:
        return "Can have maximum 1 media when selecting a video."
    if any(rest_post for rest_post in rest):
        return "Comments can only contain text."
    return True


def _facebook_validity(media: list[list[dict[str, Any]]], s: dict[str, Any]) -> str | bool:
    if s.get("post_type") == "story" and not (media[0] if media else []):
        return "Story should have at least one media"
    return True


def _tiktok_validity(media: list[list[dict[str, Any]]], s: dict[str, Any]) -> str | bool:
    first = media[0] if media else []
    if not first:
        return "No video / images selected"
    if len(first) > 1 and any(_is_video(m.get("path", "")) for m in first):
        return "Only pictures are supported when selecting multiple items"
    if len(first) != 1 and _is_video(first[0].get("path", "")):
        return "You need one media"
    return True


@dataclass(frozen=True)
class Provider:
    identifier: str
    name: str
    settings: Callable[[dict[str, Any]], list[str]] | None
    validity: Callable[[list[list[dict[str, Any]]], dict[str, Any]], str | bool]
    max_length: Callable[[dict[str, Any]], int]


def _always(media: list[list[dict[str, Any]]], s: dict[str, Any]) -> str | bool:
    return True


PROVIDERS: dict[str, Provider] = {
    # x.provider.ts L72-103: 280, 4000 for Verified (premium), 100000 for articles
    "x": Provider(
        "x",
        "X",
        _x_settings,
        _x_validity,
        lambda s: 100000 if s.get("post_type") == "article" else 280,
    ),
    # instagram.provider.ts L30-48
    "instagram": Provider(
        "instagram",
        "Instagram\n(Facebook Business)",
        _instagram_settings,
        _instagram_validity,
        lambda s: 2200,
    ),
    "instagram-standalone": Provider(
        "instagram-standalone",
        "Instagram\n(Standalone)",
        _instagram_settings,
        _instagram_validity,
        lambda s: 2200,
    ),
    # linkedin.provider.ts L59-79 (the DTO's fields are all optional)
    "linkedin": Provider(
        "linkedin", "LinkedIn", _linkedin_settings, _linkedin_validity, lambda s: 3000
    ),
    # linkedin.page.provider.ts L20-23: overrides the identifier, keeps the name
    "linkedin-page": Provider(
        "linkedin-page", "LinkedIn", _linkedin_settings, _linkedin_validity, lambda s: 3000
    ),
    # facebook.provider.ts L30-46
    "facebook": Provider(
        "facebook", "Facebook Page", _facebook_settings, _facebook_validity, lambda s: 63206
    ),
    # tiktok.provider.ts L34-52
    "tiktok": Provider("tiktok", "Tiktok", _tiktok_settings, _tiktok_validity, lambda s: 2000),
}


def provider(identifier: str) -> Provider:
    """Providers outside the five the engine documents get no settings rules (EmptySettings)
    and no media rules; the double refuses to pretend more than it read."""
    return PROVIDERS.get(
        identifier, Provider(identifier, identifier, None, _always, lambda s: 1_000_000)
    )
