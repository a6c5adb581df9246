"""`GET /v1/channels/<account>`: what a composer (the Payload plugin's channel picker) offers
an editor — the channels the operator allowed the account, as Postiz lists them (provider and
name, from the double's `GET /public/v1/integrations`), readable only with a key that may act
for the account."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from moto import mock_aws

from functions.trigger.postiz_channels import PostizChannels
from functions.trigger.replay import RequestLog
from functions.trigger.signing import Key, sign
from smm_local.http_double import serve as serve_double
from smm_local.loopback import free_port
from smm_local.postiz_double import DEFAULT_INTEGRATIONS, Handler, PostizDouble
from smm_local.postiz_model import PostizState
from tests.idempotency_table import idempotency_table
from tests.trigger_calls import Answer, Request, handle

KEYS = {"ops": Key(b"o" * 32), "acme-cms": Key(b"a" * 32, frozenset({"acme"}))}
ALLOWED = {"acme": frozenset({"x-1", "li-2", "gone-9"}), "globex": frozenset({"fb-3"})}


class Accounts:
    async def allowed_channels(self, account: str) -> frozenset[str] | None:
        return ALLOWED.get(account)


@pytest.fixture
def replay() -> Iterator[RequestLog]:
    with mock_aws():
        yield RequestLog(idempotency_table(), "idem")


@pytest.fixture
def postiz() -> Iterator[PostizChannels]:
    double = PostizDouble(PostizState("k", dict(DEFAULT_INTEGRATIONS)))
    port = free_port()
    server = serve_double(double, Handler, port)
    try:
        yield PostizChannels(f"http://127.0.0.1:{port}/public/v1", lambda: "k")
    finally:
        server.shutdown()
        server.server_close()


async def read(
    replay: RequestLog, account: str, key_id: str, postiz: PostizChannels | None
) -> Answer:
    path = f"/v1/channels/{account}"
    ts, request_id = str(int(time.time())), str(uuid.uuid4())
    headers = {
        "x-smm-timestamp": ts,
        "x-smm-request-id": request_id,
        "x-smm-signature": sign(
            KEYS[key_id].secret, ts, "GET", path, b"", request_id=request_id, key_id=key_id
        ),
    }
    return await handle(
        Request("GET", path, headers, b""),
        Accounts(),
        KEYS,
        replay,
        channels=postiz() if postiz else None,
        channel_names=postiz.names if postiz else None,
    )


async def test_an_account_reads_its_allowed_channels_as_postiz_lists_them(
    replay: RequestLog, postiz: PostizChannels
) -> None:
    answer = await read(replay, "acme", "acme-cms", postiz)
    assert answer.status == 200, answer.body
    # gone-9 is allowed but Postiz no longer has it: not offered (the preflight would refuse).
    assert answer.body == {
        "account": "acme",
        "channels": [
            {"id": "li-2", "provider": "linkedin", "name": "li-2"},
            {"id": "x-1", "provider": "x", "name": "x-1"},
        ],
        "postiz_listed": True,
    }


async def test_without_postiz_the_allowed_ids_are_listed_and_say_so(replay: RequestLog) -> None:
    answer = await read(replay, "acme", "ops", None)
    assert answer.status == 200, answer.body
    assert answer.body["postiz_listed"] is False
    assert [c["id"] for c in answer.body["channels"]] == ["gone-9", "li-2", "x-1"]
    assert {c["provider"] for c in answer.body["channels"]} == {None}


async def test_an_account_with_no_channels_gets_an_empty_list(
    replay: RequestLog, postiz: PostizChannels
) -> None:
    answer = await read(replay, "initech", "ops", postiz)
    assert (answer.status, answer.body["channels"]) == (200, []), answer.body


async def test_another_accounts_channels_are_refused_naming_the_account(
    replay: RequestLog, postiz: PostizChannels
) -> None:
    answer = await read(replay, "globex", "acme-cms", postiz)
    assert answer.status == 403 and answer.body["field"] == "account", answer.body
    assert "fb-3" not in str(answer.body)
    bad = await read(replay, "not%20an%20account", "ops", postiz)
    assert bad.status == 404, bad.body
