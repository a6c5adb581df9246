"""Preflight: every channel's settings, text and media rules, checked from the spec alone,
and held against what the Postiz double (upstream at the pinned commit) accepts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from smm_local.postiz_double import CHANNEL_SETTINGS, DEFAULT_INTEGRATIONS
from smm_local.postiz_model import PostizState
from smm_local.postiz_validation import PostizError
from smm_runtime.contract.preflight import CreativeFacts, facts_of, preflight, x_length
from smm_runtime.contract.publish_io import PostSpec

VIDEO_916 = CreativeFacts("video", [9 / 16], duration_s=12, fps=30)


def post(channels: list[str], **kw: Any) -> PostSpec:
    return PostSpec.model_validate(
        {"content": "Spring launch", "integrations": channels, "channel_settings": CHANNEL_SETTINGS}
        | kw
    )


def fields(channels: list[str], facts: CreativeFacts = VIDEO_916, **kw: Any) -> list[str]:
    return [r.field for r in preflight(post(channels, **kw), facts, DEFAULT_INTEGRATIONS).refusals]


def test_each_channel_needs_its_own_providers_settings() -> None:
    assert fields(["x-1", "tiktok-demo", "instagram-demo"]) == []
    only_x = {"x-1": {"who_can_reply_post": "everyone"}}
    assert fields(["x-1", "tiktok-demo"], channel_settings=only_x) == [
        "post.channel_settings.tiktok-demo.privacy_level",
        "post.channel_settings.tiktok-demo.duet",
        "post.channel_settings.tiktok-demo.stitch",
        "post.channel_settings.tiktok-demo.comment",
        "post.channel_settings.tiktok-demo.brand_content_toggle",
        "post.channel_settings.tiktok-demo.brand_organic_toggle",
        "post.channel_settings.tiktok-demo.autoAddMusic",
        "post.channel_settings.tiktok-demo.content_posting_method",
    ]
    refusal = preflight(post(["x-1"], channel_settings={}), VIDEO_916, DEFAULT_INTEGRATIONS)
    assert str(refusal.refusals[0]) == (
        "post.channel_settings.x-1.who_can_reply_post: X needs who_can_reply_post: it must be "
        "one of everyone, following, mentionedUsers, subscribers, verified"
    )


def test_the_caption_is_measured_as_each_platform_measures_it() -> None:
    assert x_length("a" * 10 + " https://example.com/a/very/long/path") == 10 + 1 + 23
    assert x_length("\U0001f680") == 2
    long = "a" * 300
    assert fields(["x-1", "li-2"], content=long) == ["post.content"]  # X only


def test_a_video_goes_to_each_channel_in_a_shape_it_takes() -> None:
    square_then_tall = CreativeFacts("video", [1.0, 9 / 16], duration_s=12)
    checked = preflight(post(["tiktok-demo", "li-2"]), square_then_tall, DEFAULT_INTEGRATIONS)
    assert checked.refusals == []
    assert checked.media == {"tiktok-demo": [1], "li-2": [0]}  # TikTok gets the 9:16 one
    square_only = CreativeFacts("video", [1.0], duration_s=12)
    assert fields(["tiktok-demo"], square_only) == ["creative.spec.presets"]


@pytest.mark.parametrize(
    ("channel", "facts", "field"),
    [
        ("x-1", CreativeFacts("video", [9 / 16], duration_s=141), "creative.spec.scenes"),
        ("tiktok-demo", CreativeFacts("video", [9 / 16], duration_s=2), "creative.spec.scenes"),
        ("fb-3", CreativeFacts("video", [9 / 16], duration_s=10, fps=60), "creative.spec.fps"),
        ("instagram-demo", CreativeFacts("image", [16 / 9 * 1.2]), "creative.spec.size"),
    ],
)
def test_media_no_platform_would_take_is_refused_before_the_render(
    channel: str, facts: CreativeFacts, field: str
) -> None:
    assert fields([channel], facts) == [field]


def test_an_unknown_channel_is_named_and_no_providers_means_no_provider_checks() -> None:
    assert fields(["x-9"]) == ["post.integrations.0"]
    assert preflight(post(["x-9"], channel_settings={}), VIDEO_916, None).refusals == []


def test_facts_come_from_the_spec_as_the_workflow_parses_it() -> None:
    spec = {
        "brand_kit": "acme",
        "scenes": [
            {"duration_s": 4},
            {"duration_s": 4, "transition_in": {"type": "crossfade", "duration_s": 1}},
        ],
        "presets": ["1:1", "16:9"],
        "fps": 60,
    }
    facts = facts_of("video", spec)
    assert (facts.duration_s, facts.fps, facts.aspects) == (7, 60, [1.0, 16 / 9])
    cards = facts_of("image", {"brand_kit": "acme", "carousel": [{"title": "a"}, {"title": "b"}]})
    assert cards.kind == "image" and cards.aspects == [1.0, 1.0]


@pytest.mark.parametrize("channel", sorted(DEFAULT_INTEGRATIONS))
def test_what_preflight_accepts_postiz_accepts_and_what_it_refuses_postiz_refuses(
    channel: str,
) -> None:
    """Held against the double, which is upstream Postiz's own validation at the pinned
    commit: the settings preflight passes, Postiz passes; without them, both refuse."""
    media = [{"id": "m", "path": "https://uploads.postiz.local/m.mp4"}]

    def create(settings: dict[str, Any]) -> bool:
        body = {
            "type": "schedule",
            "date": "2026-12-07T12:00:00Z",
            "shortLink": False,
            "tags": [],
            "posts": [
                {
                    "integration": {"id": channel},
                    "value": [{"content": "Spring launch", "image": media}],
                    "settings": settings,
                }
            ],
        }
        try:
            PostizState("k", dict(DEFAULT_INTEGRATIONS)).create(body, datetime.now(UTC))
        except PostizError:
            return False
        return True

    assert fields([channel]) == [] and create(CHANNEL_SETTINGS[channel])
    refused_here = bool(fields([channel], channel_settings={}))
    assert refused_here == (not create({}))
