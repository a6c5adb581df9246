"""The Postiz double does what Postiz does at the pinned commit (postiz_rules.UPSTREAM):
each test names the upstream behaviour it holds the double to."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smm_local import postiz_rules as rules
from smm_local.postiz_double import CHANNEL_SETTINGS, DEFAULT_INTEGRATIONS
from smm_local.postiz_model import PostizState
from smm_local.postiz_throttle import Throttle
from smm_local.postiz_validation import PostizError

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
VALID = CHANNEL_SETTINGS  # what each provider accepts, as the double exports it
VIDEO = [{"id": "m1", "path": "https://uploads.postiz.local/m1.mp4"}]


def model(**kw: Any) -> PostizState:
    return PostizState("k", dict(DEFAULT_INTEGRATIONS), publish_delay_s=0, **kw)


def body(
    channel: str, kind: str = "schedule", content: str = "Hello", **post: Any
) -> dict[str, Any]:
    return {
        "type": kind,
        "date": "2026-12-07T12:00:00Z",
        "shortLink": False,
        "tags": [],
        "posts": [
            {
                "integration": {"id": channel},
                "value": [{"content": content, "image": post.pop("image", VIDEO)}],
                "settings": post.pop("settings", VALID[channel]),
                **post,
            }
        ],
    }


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("Tom & Jerry <3", "Tom &amp; Jerry &lt;3"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("non\u00a0breaking", "non&nbsp;breaking"),
        ("<b>bold</b> <strong>kept</strong>", "bold <strong>kept</strong>"),
        ("<script>alert(1)</script>after", "after"),
        ('<a href="javascript:x()" onclick="y">link</a>', "<a>link</a>"),
        ("emoji \U0001f680 stays", "emoji \U0001f680 stays"),
    ],
)
def test_content_is_stored_as_dompurify_serialises_it(sent: str, stored: str) -> None:
    """create.post.dto.ts L35 (@Transform sanitizePostContent) and sanitize.post.content.ts."""
    state = model()
    state.create(body("li-2", content=sent), NOW)
    assert state.posts[0]["content"] == stored


def test_x_links_are_stripped_when_postiz_is_configured_to() -> None:
    """x.provider.ts L76 and posts.service.ts L921-936 with strip.links.ts."""
    state = model(strip_x_links=True)
    state.create(body("x-1", content="Read https://example.com/a now or example.org"), NOW)
    assert state.posts[0]["content"] == "Read now or"


@pytest.mark.parametrize(
    ("channel", "settings", "message"),
    [
        (
            "x-1",
            {},
            "posts.0.settings.who_can_reply_post must be one of the following values: "
            "everyone, following, mentionedUsers, subscribers, verified",
        ),
        ("instagram-demo", {}, "posts.0.settings.post_type should not be null or undefined"),
        ("tiktok-demo", {"privacy_level": 3}, "posts.0.settings.privacy_level must be a string"),
        (
            "fb-3",
            {"post_type": "reel"},
            "posts.0.settings.post_type must be one of the following values: post, story",
        ),
        (
            "li-2",
            {"post_as_images_carousel": "yes"},
            "posts.0.settings.post_as_images_carousel must be a boolean value",
        ),
    ],
)
def test_settings_are_validated_per_provider_by_the_dto(
    channel: str, settings: dict[str, Any], message: str
) -> None:
    """posts.service.ts mapTypeToPost L285-296 with the provider DTOs."""
    with pytest.raises(PostizError) as refused:
        model().create(body(channel, settings=settings), NOW)
    assert refused.value.status == 400
    assert message in refused.value.body["message"]
    assert refused.value.body["error"] == "Bad Request"


@pytest.mark.parametrize(
    ("channel", "image", "content", "provider", "message"),
    [
        (
            "tiktok-demo",
            VIDEO * 2,
            "Hi",
            "tiktok",
            "Only pictures are supported when selecting multiple items",
        ),
        ("instagram-demo", [], "Hi", "instagram", "Should have at least one media"),
        ("li-2", VIDEO * 2, "Hi", "linkedin", "Can have maximum 1 media when selecting a video."),
        ("x-1", [], "x" * 281, "x", "post is too long, please fix it"),
        ("x-1", [], "\U0001f680" * 141, "x", "post is too long, please fix it"),
    ],
)
def test_media_and_length_are_checked_per_provider_with_the_provider_named(
    channel: str, image: list[dict[str, Any]], content: str, provider: str, message: str
) -> None:
    """validatePosts L763-859, answered by PostValidationExceptionFilter L26-39."""
    with pytest.raises(PostizError) as refused:
        model().create(body(channel, content=content, image=image), NOW)
    assert refused.value.body == {
        "statusCode": 400,
        "provider": provider,
        "name": rules.provider(provider).name,
        "message": message,
    }


def test_text_of_any_length_and_a_short_one_are_accepted() -> None:
    """The MinLength(6) rule is gone upstream: 'Hi' is a post."""
    state = model()
    state.create(body("x-1", content="Hi", image=[]), NOW)
    assert state.posts[0]["content"] == "Hi"


def test_a_draft_is_not_published_and_settings_come_back_as_json_text() -> None:
    state = model()
    state.create(
        body("x-1", kind="draft", settings={"who_can_reply_post": "everyone", "k": "v"}), NOW
    )
    state.advance(NOW + timedelta(hours=1))
    listed = state.listed("2026-12-07T11:00:00Z", "2026-12-07T13:00:00Z", None)
    assert listed[0]["state"] == "DRAFT"
    assert json.loads(listed[0]["settings"]) == {
        "who_can_reply_post": "everyone",
        "k": "v",
        "__type": "x",
    }


def test_postiz_publishes_later_or_never_and_the_list_shows_no_reason() -> None:
    """post.workflow.v1.0.9.ts L155-160 (due), L446-451 (updatePost); changeState keeps the
    error in a column getPosts does not select (posts.repository.ts L168-192)."""
    state = model()
    state.stick_next, state.fail_next = 1, ["token expired"]
    for channel in ("x-1", "li-2", "fb-3"):
        state.create(body(channel, image=[]), NOW)
    state.advance(NOW - timedelta(seconds=1))
    assert {p["state"] for p in state.posts} == {"QUEUE"}  # not due yet
    state.advance(NOW)
    stuck, failed, published = state.posts
    assert stuck["state"] == "QUEUE"
    assert failed["state"] == "ERROR" and failed["error"] == "token expired"
    assert published["state"] == "PUBLISHED" and published["releaseURL"].startswith("https://")
    listed = state.listed("2026-12-07T11:00:00Z", "2026-12-07T13:00:00Z", None)
    assert all("error" not in p for p in listed)
    state.advance(NOW + timedelta(days=3))
    assert stuck["state"] == "QUEUE"


def test_saving_a_published_post_again_is_refused() -> None:
    """posts.service.ts L880-917: the republish guard."""
    state = model()
    post_id = state.create(body("li-2", image=[]), NOW)[0]["postId"]
    state.advance(NOW)
    again = body("li-2", image=[])
    again["posts"][0]["value"][0]["id"] = post_id
    with pytest.raises(PostizError) as refused:
        state.create(again, NOW)
    assert "already published on 2026-12-07 12:00 UTC" in refused.value.body["message"]


def test_a_sent_value_id_updates_that_row_and_never_names_a_new_one() -> None:
    """posts.repository.ts L570-586: upsert where id = value.id."""
    state = model()
    draft = state.create(body("li-2", kind="draft", image=[]), NOW)[0]["postId"]
    promote = body("li-2", image=[])
    promote["posts"][0]["value"][0]["id"] = draft
    assert state.create(promote, NOW)[0]["postId"] == draft
    unknown = body("li-2", image=[])
    unknown["posts"][0]["value"][0]["id"] = "chosen-by-us"
    assert state.create(unknown, NOW)[0]["postId"] != "chosen-by-us"
    assert len(state.posts) == 2 and state.posts[0]["state"] == "QUEUE"


def test_the_throttle_blocks_for_its_window_with_retry_after() -> None:
    """throttler.provider.ts, app.module.ts L35-43, @nestjs/throttler 6.5.0 guard, Redis Lua."""
    clock = [0.0]
    throttle = Throttle(limit=2, ttl_s=100, clock=lambda: clock[0])
    assert throttle.hit("org_posts").headers["X-RateLimit-Remaining"] == "1"
    assert throttle.hit("org_posts").allowed
    blocked = throttle.hit("org_posts")
    assert not blocked.allowed and blocked.headers == {"Retry-After": "100"}
    clock[0] = 60
    assert throttle.hit("org_posts").headers == {"Retry-After": "40"}  # the block lasts
    clock[0] = 101
    assert throttle.hit("org_posts").allowed  # window and block have both run out
    assert Throttle.applies("POST", "/public/v1/posts")
    assert not Throttle.applies("GET", "/public/v1/posts")
    assert not Throttle.applies("POST", "/public/v1/upload")


def test_bad_bodies_get_postiz_answers() -> None:
    state = model()
    with pytest.raises(PostizError) as no_id:
        state.create({"type": "now", "posts": [{"value": []}]}, NOW)
    assert no_id.value.body["message"] == "All posts must have an integration id"
    with pytest.raises(PostizError) as unknown:
        state.create(body("li-2") | {"posts": [{"integration": {"id": "nope"}}]}, NOW)
    assert unknown.value.body["message"] == "Integration with id nope not found"
    with pytest.raises(PostizError) as empty:
        state.create(body("li-2", content="<p></p>", image=[]), NOW)
    assert (
        "If images do not exist, content must be a non-empty string."
        in empty.value.body["message"][0]
    )
    with pytest.raises(PostizError) as missing:
        state.delete("no-such-post", NOW)
    assert missing.value.status == 500
    with pytest.raises(PostizError) as upload:
        state.upload("notes.txt", b"plain text")
    assert upload.value.body["message"] == "Unsupported file type."
