"""The trigger refuses, before it answers 202, a publish any channel would refuse: the
channel's provider settings, the caption's length, the media's shape and length, named by
field; the Postiz organisation's channels come from Postiz (here, as the double lists them)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from functions.trigger.postiz_channels import PostizChannels
from functions.trigger.replay import RequestLog
from functions.trigger.signing import Key, sign
from smm_local.http_double import serve as serve_double
from smm_local.loopback import free_port
from smm_local.postiz_double import CHANNEL_SETTINGS, DEFAULT_INTEGRATIONS, Handler, PostizDouble
from smm_local.postiz_model import PostizState
from smm_runtime.contract.trigger_io import StartedResponse
from tests.fakes import ANY_CHANNEL
from tests.idempotency_table import idempotency_table
from tests.trigger_calls import Request, handle

SECRET = b"preflight-secret-0123456789"
KEYS = {"default": Key(SECRET)}
IMAGE = {"brand_kit": "acme", "template": "quote_card", "props": {"quote": "q", "author": "a"}}
VIDEO = {"brand_kit": "acme", "scenes": [{"duration_s": 5}], "presets": ["1:1"]}


class Starts:
    def __init__(self) -> None:
        self.started: list[Any] = []

    async def allowed_channels(self, account: str) -> frozenset[str] | None:
        return ANY_CHANNEL

    async def start_publish(self, request: Any) -> StartedResponse:
        self.started.append(request)
        return StartedResponse(workflow_id=request.workflow_id(), run_id="r", existing=False)


@pytest.fixture
def replay() -> Iterator[RequestLog]:
    with mock_aws():
        yield RequestLog(idempotency_table(), "idem")


async def publish(
    body: dict[str, Any], replay: RequestLog, channels: dict[str, str] | None
) -> tuple[int, dict[str, Any], Starts]:
    data = json.dumps(body).encode()
    ts, request_id = str(int(time.time())), str(uuid.uuid4())
    headers = {
        "x-smm-timestamp": ts,
        "x-smm-request-id": request_id,
        "x-smm-signature": sign(SECRET, ts, "POST", "/v1/publish", data, request_id=request_id),
    }
    service = Starts()
    answer = await handle(
        Request("POST", "/v1/publish", headers, data), service, KEYS, replay, channels=channels
    )
    return answer.status, answer.body, service


def body(channels: list[str], creative: dict[str, Any], **post: Any) -> dict[str, Any]:
    return {
        "collection": "posts",
        "doc_id": uuid.uuid4().hex[:8],
        "creative": creative,
        "post": {"content": "Spring launch", "integrations": channels, "type": "now", **post},
    }


@pytest.mark.parametrize(
    ("channels", "creative", "post", "field"),
    [
        (
            ["x-1"],
            {"kind": "image", "spec": IMAGE},
            {},
            "post.channel_settings.x-1.who_can_reply_post",
        ),
        (
            ["tiktok-demo"],
            {"kind": "video", "spec": VIDEO},
            {"channel_settings": CHANNEL_SETTINGS},
            "creative.spec.presets",
        ),
        (
            ["x-1"],
            {"kind": "image", "spec": IMAGE},
            {"channel_settings": CHANNEL_SETTINGS, "content": "x" * 281},
            "post.content",
        ),
        (["x-9"], {"kind": "image", "spec": IMAGE}, {}, "post.integrations.0"),
    ],
)
async def test_a_publish_a_channel_would_refuse_is_a_400_naming_the_field(
    replay: RequestLog,
    channels: list[str],
    creative: dict[str, Any],
    post: dict[str, Any],
    field: str,
) -> None:
    status, answer, service = await publish(
        body(channels, creative, **post), replay, dict(DEFAULT_INTEGRATIONS)
    )
    assert status == 400 and answer["field"] == field, answer
    assert service.started == []


async def test_a_publish_every_channel_takes_is_started(replay: RequestLog) -> None:
    request = body(
        ["x-1", "tiktok-demo"],
        {"kind": "video", "spec": {**VIDEO, "presets": ["1:1", "9:16"]}},
        channel_settings=CHANNEL_SETTINGS,
    )
    status, answer, service = await publish(request, replay, dict(DEFAULT_INTEGRATIONS))
    assert status == 202 and len(service.started) == 1, answer


def test_the_trigger_reads_the_channels_from_postiz_and_keeps_them_a_while() -> None:
    double = PostizDouble(PostizState("k", dict(DEFAULT_INTEGRATIONS)))
    port = free_port()
    server = serve_double(double, Handler, port)
    clock = [0.0]
    try:
        channels = PostizChannels(
            f"http://127.0.0.1:{port}/public/v1", lambda: "k", lambda: clock[0]
        )
        assert channels() == DEFAULT_INTEGRATIONS
        channels()
        assert len(double.requests) == 1  # kept
        clock[0] = 301
        server.shutdown()
        server.server_close()
        assert channels() == DEFAULT_INTEGRATIONS  # Postiz gone: the last answer stands
    finally:
        server.shutdown()
    assert PostizChannels(None, lambda: "k")() is None
