"""A request id stands for one request: a retry after a lost answer gets that answer (and
starts nothing again), a retry after a failure on our side runs for real, and the same id
on a different request is refused. A caller's key acts only for its accounts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from functions.trigger.replay import RequestLog
from functions.trigger.signing import Key, keyring, sign
from smm_runtime.contract.trigger_io import StartedResponse
from tests.fakes import ANY_CHANNEL
from tests.idempotency_table import idempotency_table
from tests.trigger_calls import Request, handle

SECRET = b"shared-secret-shared"
KEYS = {"default": Key(SECRET)}
BODY = {
    "collection": "posts",
    "doc_id": "d1",
    "creative": {
        "kind": "image",
        "spec": {
            "brand_kit": "demo",
            "template": "quote_card",
            "props": {"quote": "q", "author": "a"},
        },
    },
    "post": {"content": "Hello from Payload", "integrations": ["x-1"], "type": "now"},
    "approval": {"reviewers": ["ana@example.com"]},
}


class Engine:
    def __init__(self, fail_times: int = 0) -> None:
        self.starts = 0
        self.fail_times = fail_times
        self.accounts: list[str | None] = []

    async def allowed_channels(self, account: str) -> frozenset[str] | None:
        return ANY_CHANNEL

    async def start_publish(self, request: Any) -> StartedResponse:
        self.starts += 1
        self.accounts.append(request.account)
        if self.starts <= self.fail_times:
            raise ConnectionError("Temporal unavailable")
        return StartedResponse(
            workflow_id="payload-posts-d1", run_id=f"run-{self.starts}", existing=self.starts > 1
        )


@pytest.fixture()
def log() -> Iterator[RequestLog]:
    with mock_aws():
        db = idempotency_table()
        yield RequestLog(db, "idem")


def signed(request_id: str, body: dict[str, Any]) -> Request:
    data = json.dumps(body).encode()
    ts = str(int(time.time()))
    return Request(
        "POST",
        "/v1/publish",
        {
            "x-smm-timestamp": ts,
            "x-smm-request-id": request_id,
            "x-smm-signature": sign(SECRET, ts, "POST", "/v1/publish", data, request_id=request_id),
        },
        data,
    )


async def test_a_retry_after_a_lost_answer_gets_the_same_answer(log: RequestLog) -> None:
    engine = Engine()
    first = await handle(signed("req-retry-0001", BODY), engine, KEYS, log)
    again = await handle(signed("req-retry-0001", BODY), engine, KEYS, log)
    assert (
        (first.status, first.body)
        == (again.status, again.body)
        == (202, {"workflow_id": "payload-posts-d1", "run_id": "run-1", "existing": False})
    )
    assert engine.starts == 1


async def test_a_retry_after_our_failure_runs_for_real(log: RequestLog) -> None:
    engine = Engine(fail_times=1)
    with pytest.raises(ConnectionError):
        await handle(signed("req-retry-0002", BODY), engine, KEYS, log)
    answer = await handle(signed("req-retry-0002", BODY), engine, KEYS, log)
    assert answer.status == 200 and engine.starts == 2


async def test_the_same_id_on_another_request_is_refused(log: RequestLog) -> None:
    engine = Engine()
    await handle(signed("req-retry-0003", BODY), engine, KEYS, log)
    other = await handle(signed("req-retry-0003", {**BODY, "doc_id": "d2"}), engine, KEYS, log)
    assert other.status == 409 and other.body["field"] == "x-smm-request-id"
    assert engine.starts == 1


async def test_a_key_acts_only_for_its_accounts(log: RequestLog) -> None:
    """Each caller's key is bound to the accounts it may bill and read; another account is a
    403 naming `account`, and nothing starts."""
    keys = keyring(
        '{"agency-a-key": {"secret": "secret-of-agency-a-0001", '
        '"accounts": ["agency-a"]}, "ops": "secret-of-the-operator-01"}'
    )
    engine = Engine()

    def as_key(key_id: str, request_id: str, account: str) -> Request:
        data = json.dumps({**BODY, "account": account}).encode()
        ts = str(int(time.time()))
        return Request(
            "POST",
            "/v1/publish",
            {
                "x-smm-timestamp": ts,
                "x-smm-request-id": request_id,
                "x-smm-signature": sign(
                    keys[key_id].secret,
                    ts,
                    "POST",
                    "/v1/publish",
                    data,
                    request_id=request_id,
                    key_id=key_id,
                ),
            },
            data,
        )

    refused = await handle(as_key("agency-a-key", "req-acct-0001", "agency-b"), engine, keys, log)
    assert refused.status == 403 and refused.body["field"] == "account"
    assert engine.starts == 0
    own = await handle(as_key("agency-a-key", "req-acct-0002", "agency-a"), engine, keys, log)
    assert own.status == 202 and engine.accounts == ["agency-a"]
    anyone = await handle(as_key("ops", "req-acct-0003", "agency-b"), engine, keys, log)
    assert anyone.status == 200 and engine.accounts == ["agency-a", "agency-b"]
