"""Malformed and hostile specs and API requests, each with the field its refusal must name.

Video specs go through the same checks as RenderVideoWorkflow (parse, then resolve against
the brand kit); image specs as GenerateImageWorkflow; API requests through the trigger's
routes with a real signature and replay guard.
"""

from __future__ import annotations

from typing import Any

from tests.factories import spec

BOMB = "A" * 2_000
NESTED: dict[str, Any] = {}
_cursor = NESTED
for _ in range(200):
    _cursor["x"] = {}
    _cursor = _cursor["x"]


def scene_with(**fields: Any) -> dict[str, Any]:
    return spec(scenes=[{"duration_s": 2, **fields}])


# (name, spec, field the message must name)
VIDEO_SPECS: list[tuple[str, Any, str]] = [
    ("not an object", "render me", "spec"),
    ("a list instead of an object", [spec()], "spec"),
    ("no scenes", spec(scenes=[]), "spec.scenes"),
    ("too many scenes", spec(scenes=[{"duration_s": 1}] * 51), "spec.scenes"),
    ("unknown top-level field", {**spec(), "exec": "rm -rf /"}, "spec.exec"),
    ("unknown spec version", spec(spec_version=2), "spec.spec_version"),
    ("brand kit with a path", spec(brand_kit="../../etc/passwd"), "spec.brand_kit"),
    ("brand kit with uppercase", spec(brand_kit="ACME"), "spec.brand_kit"),
    ("negative duration", spec(scenes=[{"duration_s": -1}]), "spec.scenes.0.duration_s"),
    ("absurd duration", spec(scenes=[{"duration_s": 1e9}]), "spec.scenes.0.duration_s"),
    ("duration NaN", spec(scenes=[{"duration_s": float("nan")}]), "spec.scenes.0.duration_s"),
    ("duration infinite", spec(scenes=[{"duration_s": float("inf")}]), "spec.scenes.0.duration_s"),
    ("duration as text", spec(scenes=[{"duration_s": "ten"}]), "spec.scenes.0.duration_s"),
    (
        "background over http",
        scene_with(background={"type": "video", "uri": "http://169.254.169.254/latest/meta-data/"}),
        "spec.scenes.0.background",
    ),
    (
        "background from a local file",
        scene_with(background={"type": "image", "uri": "file:///etc/passwd"}),
        "spec.scenes.0.background",
    ),
    (
        "background from /proc",
        scene_with(background={"type": "video", "uri": "/proc/self/environ"}),
        "spec.scenes.0.background",
    ),
    (
        "background as an hls url",
        scene_with(background={"type": "video", "uri": "hls+http://127.0.0.1/x.m3u8"}),
        "spec.scenes.0.background",
    ),
    (
        "background as a data url",
        scene_with(background={"type": "image", "uri": "data:image/png;base64,AAAA"}),
        "spec.scenes.0.background",
    ),
    (
        "s3 uri with no key",
        scene_with(background={"type": "image", "uri": "s3://bucket"}),
        "spec.scenes.0.background",
    ),
    (
        "unknown background type",
        scene_with(background={"type": "shader", "code": "..."}),
        "spec.scenes.0.background",
    ),
    (
        "ken burns zoom 50x",
        scene_with(
            background={
                "type": "image",
                "uri": "s3://assets-bucket/a.png",
                "ken_burns": {"zoom_to": 50},
            }
        ),
        "spec.scenes.0.background.image.ken_burns.zoom_to",
    ),
    ("text too long", scene_with(texts=[{"text": BOMB}]), "spec.scenes.0.texts.0.text"),
    ("empty text", scene_with(texts=[{"text": ""}]), "spec.scenes.0.texts.0.text"),
    ("text size zero", scene_with(texts=[{"text": "a", "size": 0}]), "spec.scenes.0.texts.0.size"),
    ("too many text layers", scene_with(texts=[{"text": "a"}] * 9), "spec.scenes.0.texts"),
    (
        "unknown animation",
        scene_with(texts=[{"text": "a", "animation": "explode"}]),
        "spec.scenes.0.texts.0.animation",
    ),
    (
        "transition of a minute",
        scene_with(transition_in={"type": "crossfade", "duration_s": 60}),
        "spec.scenes.0.transition_in.duration_s",
    ),
    (
        "caption ending before it starts",
        spec(captions=[{"start_s": 1, "end_s": 0, "text": "x"}]),
        "spec.captions.0",
    ),
    (
        "too many captions",
        spec(captions=[{"start_s": 0, "end_s": 1, "text": "x"}] * 501),
        "spec.captions",
    ),
    ("music over ftp", spec(music={"uri": "ftp://example.com/a.mp3"}), "spec.music.uri"),
    (
        "music volume 100",
        spec(music={"uri": "s3://assets-bucket/m.mp3", "volume": 100}),
        "spec.music.volume",
    ),
    ("unknown preset", spec(presets=["8K"]), "spec.presets.0"),
    ("too many presets", spec(presets=["9:16", "1:1", "16:9", "9:16"]), "spec.presets"),
    ("segments of a microsecond", spec(segment_target_s=0.000001), "spec.segment_target_s"),
    ("thousands of segments", spec(max_segments=10_000), "spec.max_segments"),
    ("logo opacity negative", spec(logo={"opacity": -1}), "spec.logo.opacity"),
    (
        "deeply nested junk",
        {**spec(), "scenes": [{"duration_s": 1, "background": NESTED}]},
        "spec.scenes.0.background",
    ),
    (
        "colour missing from the brand kit",
        scene_with(background={"type": "solid", "color": "chartreuse"}),
        "color",
    ),
    ("font missing from the brand kit", scene_with(texts=[{"text": "a", "font": "Comic"}]), "font"),
]

IMAGE_SPECS: list[tuple[str, Any, str]] = [
    ("image spec not an object", 42, "spec"),
    ("unknown template", {"brand_kit": "acme", "template": "evil", "props": {}}, "template"),
    ("carousel of one", {"brand_kit": "acme", "carousel": [{"title": "x"}]}, "carousel"),
    (
        "carousel of a hundred",
        {"brand_kit": "acme", "carousel": [{"title": "x"}] * 100},
        "carousel",
    ),
    (
        "unknown image size",
        {
            "brand_kit": "acme",
            "template": "quote_card",
            "size": "huge",
            "props": {"quote": "q", "author": "a"},
        },
        "size",
    ),
    (
        "image brand kit with a path",
        {"brand_kit": "../x", "template": "quote_card", "props": {"quote": "q", "author": "a"}},
        "brand_kit",
    ),
]

# (name, method, path, body, expected status, field the answer must name)
API_REQUESTS: list[tuple[str, str, str, Any, int, str]] = [
    ("publish body not JSON", "POST", "/v1/publish", b"{not json", 400, "body"),
    ("publish body empty", "POST", "/v1/publish", b"", 400, "body"),
    ("publish body not UTF-8", "POST", "/v1/publish", b"\xff\xfe{}", 400, "body"),
    (
        "approval body not UTF-8",
        "POST",
        "/v1/workflows/payload-posts-1/approval",
        b'{"decision": "\xff"}',
        400,
        "body",
    ),
    ("publish body a list", "POST", "/v1/publish", [], 400, "body"),
    ("publish with unknown field", "POST", "/v1/publish", {"hack": 1}, 400, "hack"),
    (
        "publish collection with a path",
        "POST",
        "/v1/publish",
        {"collection": "../posts", "doc_id": "1", "creative": {}, "post": {}},
        400,
        "collection",
    ),
    (
        "publish doc id with spaces",
        "POST",
        "/v1/publish",
        {"collection": "posts", "doc_id": "a b", "creative": {}, "post": {}},
        400,
        "doc_id",
    ),
    (
        "publish revision zero",
        "POST",
        "/v1/publish",
        {"collection": "posts", "doc_id": "1", "revision": 0, "creative": {}, "post": {}},
        400,
        "revision",
    ),
    (
        "approval body not JSON",
        "POST",
        "/v1/workflows/payload-posts-1/approval",
        b"yes",
        400,
        "body",
    ),
    (
        "approval without decision",
        "POST",
        "/v1/workflows/payload-posts-1/approval",
        {"reviewer": "ana@example.com"},
        400,
        "decision",
    ),
    (
        "approval with unknown decision",
        "POST",
        "/v1/workflows/payload-posts-1/approval",
        {"decision": "maybe", "reviewer": "ana@example.com"},
        400,
        "decision",
    ),
    (
        "publish an empty image spec",
        "POST",
        "/v1/publish",
        {
            "collection": "posts",
            "doc_id": "1",
            "creative": {"kind": "image", "spec": {}},
            "post": {"content": "Hello", "integrations": ["x-1"]},
        },
        400,
        "creative.spec",
    ),
    (
        "publish a video spec without scenes",
        "POST",
        "/v1/publish",
        {
            "collection": "posts",
            "doc_id": "1",
            "creative": {"kind": "video", "spec": {"brand_kit": "acme", "scenes": []}},
            "post": {"content": "Hello", "integrations": ["x-1"]},
        },
        400,
        "creative.spec.scenes",
    ),
    (
        "publish to an empty-string channel",
        "POST",
        "/v1/publish",
        {
            "collection": "posts",
            "doc_id": "1",
            "creative": {"kind": "image", "spec": {}},
            "post": {"content": "Hello", "integrations": [""]},
        },
        400,
        "post.integrations.0",
    ),
    ("workflow id with a path", "GET", "/v1/workflows/../../default", None, 404, ""),
    ("credits of a bad account", "GET", "/v1/credits/a b", None, 404, ""),
    ("channels of a bad account", "GET", "/v1/channels/a b", None, 404, ""),
    ("oversized body", "POST", "/v1/publish", b"x" * 70_000, 413, "body"),
    ("wrong method", "DELETE", "/v1/publish", None, 405, ""),
    ("unknown route", "GET", "/admin", None, 404, ""),
]
