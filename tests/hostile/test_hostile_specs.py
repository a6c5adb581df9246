"""Malformed and hostile specs and API requests: each refused with a clear error that names
the field, and none of them reaches a render, the ledger or Temporal."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from functions.trigger.replay import RequestLog
from functions.trigger.signing import Key, sign
from orchestrator.render.resolve import SpecResolutionError, resolve
from smm_runtime.contract.validation import ContractError, parse_image_spec, parse_spec
from tests.factories import brand_kit
from tests.hostile.spec_corpus import API_REQUESTS, IMAGE_SPECS, VIDEO_SPECS
from tests.idempotency_table import idempotency_table
from tests.trigger_calls import Request, handle

SECRET = b"corpus-secret"


def test_the_corpus_is_big_enough() -> None:
    assert len(VIDEO_SPECS) + len(IMAGE_SPECS) + len(API_REQUESTS) >= 50


def refusal(raw: Any) -> str:
    """What RenderVideoWorkflow would fail with: the parse, then the brand-kit resolution."""
    try:
        resolve(parse_spec(raw), brand_kit())
    except (ContractError, SpecResolutionError) as err:
        return str(err)
    raise AssertionError("accepted")


@pytest.mark.parametrize(("name", "raw", "field"), VIDEO_SPECS, ids=[c[0] for c in VIDEO_SPECS])
def test_a_hostile_video_spec_is_refused_naming_the_field(name: str, raw: Any, field: str) -> None:
    message = refusal(raw)
    assert field in message, message
    assert len(message) < 1_000  # a clear line, not a dump of the input
    assert "Traceback" not in message


@pytest.mark.parametrize(("name", "raw", "field"), IMAGE_SPECS, ids=[c[0] for c in IMAGE_SPECS])
def test_a_hostile_image_spec_is_refused_naming_the_field(name: str, raw: Any, field: str) -> None:
    with pytest.raises(ContractError) as err:
        parse_image_spec(raw)
    assert field in str(err.value), str(err.value)


class NothingMayHappen:
    """The trigger's Temporal side: any call means a bad request got through."""

    calls: list[str]

    def __init__(self) -> None:
        self.calls = []

    def __getattr__(self, name: str) -> Any:
        async def call(*args: Any) -> None:
            self.calls.append(name)

        return call


@pytest.fixture
def replay() -> Iterator[RequestLog]:
    with mock_aws():
        db = idempotency_table()
        yield RequestLog(db, "idem")


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "status", "field"),
    API_REQUESTS,
    ids=[c[0] for c in API_REQUESTS],
)
async def test_a_hostile_api_request_gets_a_clear_4xx_and_changes_nothing(
    name: str, method: str, path: str, body: Any, status: int, field: str, replay: RequestLog
) -> None:
    data = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
    ts = str(int(time.time()))
    request_id = str(uuid.uuid4())
    headers = {
        "x-smm-timestamp": ts,
        "x-smm-request-id": request_id,
        "x-smm-signature": sign(SECRET, ts, method, path, data, request_id=request_id),
    }
    service = NothingMayHappen()
    answer = await handle(
        Request(method, path, headers, data), service, {"default": Key(SECRET)}, replay
    )
    assert answer.status == status, answer.body
    assert answer.body["error"], answer.body
    if field:
        assert field in (answer.body.get("field") or "") or field in answer.body["error"], (
            answer.body
        )
    assert service.calls == []


BOUND = {"agency": Key(b"agency-secret-0123456789", frozenset({"acme"}))}
PUBLISH = {
    "collection": "posts",
    "doc_id": "1",
    "creative": {
        "kind": "image",
        "spec": {
            "brand_kit": "acme",
            "template": "quote_card",
            "props": {"quote": "q", "author": "a"},
        },
    },
    "post": {"content": "Hello there", "integrations": ["x-1"], "type": "now"},
}
CROSS_ACCOUNT: list[tuple[str, str, str, Any]] = [
    ("publish with no account (it would run unbilled)", "POST", "/v1/publish", PUBLISH),
    ("publish for another account", "POST", "/v1/publish", {**PUBLISH, "account": "globex"}),
    ("another account's credits", "GET", "/v1/credits/globex", None),
    ("another account's channels", "GET", "/v1/channels/globex", None),
]


@pytest.mark.parametrize(
    ("name", "method", "path", "body"), CROSS_ACCOUNT, ids=[c[0] for c in CROSS_ACCOUNT]
)
async def test_a_key_bound_to_an_account_cannot_act_for_another_or_for_none(
    name: str, method: str, path: str, body: Any, replay: RequestLog
) -> None:
    data = b"" if body is None else json.dumps(body).encode()
    ts, request_id = str(int(time.time())), str(uuid.uuid4())
    headers = {
        "x-smm-timestamp": ts,
        "x-smm-request-id": request_id,
        "x-smm-signature": sign(
            BOUND["agency"].secret, ts, method, path, data, request_id=request_id, key_id="agency"
        ),
    }
    service = NothingMayHappen()
    answer = await handle(Request(method, path, headers, data), service, BOUND, replay)
    assert answer.status == 403 and answer.body["field"] == "account", answer.body
    assert service.calls == []  # nothing started, nothing read
