"""Keys bound to accounts, through the trigger's real routes and its real Temporal side (a dev
server): a bound key cannot publish unbilled or for another account, and cannot approve or
read another account's publish (answered as missing, and the workflow receives nothing)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from temporalio.testing import WorkflowEnvironment

from functions.trigger.replay import RequestLog
from functions.trigger.service import TemporalService
from functions.trigger.signing import Key, sign
from smm_runtime.account_channels import AccountChannels
from tests.idempotency_table import TABLE, idempotency_table
from tests.ledger_table import ledger_table
from tests.trigger_calls import Answer as Response
from tests.trigger_calls import Request, handle

KEYS = {
    "ops": Key(b"o" * 32),
    "acme-cms": Key(b"a" * 32, frozenset({"acme"})),
    "globex-cms": Key(b"g" * 32, frozenset({"globex"})),
}


@pytest.fixture
def requests_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[RequestLog]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # in-process moto only
    with mock_aws():
        yield RequestLog(idempotency_table(), TABLE)


@pytest.fixture
def channels(requests_log: RequestLog) -> AccountChannels:
    """Accounts' channels in a ledger-shaped table (in the same moto as the request log)."""
    db = ledger_table("ledger")
    store = AccountChannels(db, "ledger")
    store.allow("acme", ["x-1"])
    store.allow("globex", ["x-1"])
    return store


async def send(
    service: TemporalService, log: RequestLog, key_id: str, method: str, path: str, body: Any = None
) -> Response:
    data = json.dumps(body).encode() if body is not None else b""
    ts, request_id = str(int(time.time())), str(uuid.uuid4())
    headers = {
        "x-smm-timestamp": ts,
        "x-smm-request-id": request_id,
        "x-smm-signature": sign(
            KEYS[key_id].secret, ts, method, path, data, request_id=request_id, key_id=key_id
        ),
    }
    return await handle(Request(method, path, headers, data), service, KEYS, log)


def publish(doc: str, **extra: Any) -> dict[str, Any]:
    return {
        "collection": "posts",
        "doc_id": doc,
        **extra,
        "creative": {
            "kind": "image",
            "spec": {
                "brand_kit": "acme",
                "template": "quote_card",
                "props": {"quote": "q", "author": "a"},
            },
        },
        "post": {"content": "Hello from the CMS", "integrations": ["x-1"], "type": "now"},
        "approval": {"reviewers": ["ana@example.com"]},
    }


async def signals(env: WorkflowEnvironment, workflow_id: str) -> int:
    history = await env.client.get_workflow_handle(workflow_id).fetch_history()
    return sum(e.HasField("workflow_execution_signaled_event_attributes") for e in history.events)


async def test_a_bound_key_acts_only_for_its_accounts(
    dev_env: WorkflowEnvironment, requests_log: RequestLog, channels: AccountChannels
) -> None:
    # No worker polls this queue: only what the server records matters here.
    service = TemporalService(
        dev_env.client, f"tq-{uuid.uuid4()}", "out-bucket", None, channels=channels
    )
    doc = f"doc{uuid.uuid4().hex[:8]}"

    unbilled = await send(service, requests_log, "acme-cms", "POST", "/v1/publish", publish(doc))
    assert unbilled.status == 403 and unbilled.body["field"] == "account", unbilled.body
    assert "acme" in unbilled.body["error"]
    foreign = await send(
        service, requests_log, "acme-cms", "POST", "/v1/publish", publish(doc, account="globex")
    )
    assert foreign.status == 403 and foreign.body["field"] == "account"
    # Its own account, but a channel the operator never allowed it: refused, naming it
    # (any account could post to any channel of the shared Postiz organisation before).
    elsewhere = publish(doc, account="acme")
    elsewhere["post"]["integrations"] = ["x-1", "li-2"]
    other_channel = await send(service, requests_log, "acme-cms", "POST", "/v1/publish", elsewhere)
    assert other_channel.status == 403, other_channel.body
    assert other_channel.body["field"] == "post.integrations[1]"
    assert "'li-2'" in other_channel.body["error"]
    nobody = await send(
        service, requests_log, "ops", "POST", "/v1/publish", publish(doc, account="initech")
    )
    assert nobody.status == 403 and nobody.body["field"] == "post.integrations", nobody.body
    started = await send(
        service, requests_log, "acme-cms", "POST", "/v1/publish", publish(doc, account="acme")
    )
    assert started.status == 202, started.body
    workflow_id = started.body["workflow_id"]
    try:
        path = f"/v1/workflows/{workflow_id}"
        decision = {"decision": "approve", "reviewer": "ana@example.com"}
        for method, where, body in (("POST", f"{path}/approval", decision), ("GET", path, None)):
            other = await send(service, requests_log, "globex-cms", method, where, body)
            assert other.status == 404 and other.body["field"] == "workflow_id", other.body
        assert await signals(dev_env, workflow_id) == 0  # nothing reached the workflow
        balance = await send(service, requests_log, "globex-cms", "GET", "/v1/credits/acme")
        assert balance.status == 403

        # The same document for another account (or unbilled) is not "already started":
        # it belongs to acme. It used to answer 200 existing with acme's workflow id.
        for key_id, account in (("globex-cms", "globex"), ("ops", None)):
            extra = {"account": account} if account else {}
            taken = await send(
                service, requests_log, key_id, "POST", "/v1/publish", publish(doc, **extra)
            )
            assert taken.status == 409 and taken.body["field"] == "doc_id", taken.body
            assert "another account" in taken.body["error"]
        again = await send(
            service, requests_log, "acme-cms", "POST", "/v1/publish", publish(doc, account="acme")
        )
        assert (again.status, again.body["existing"]) == (200, True), again.body

        for key_id in ("acme-cms", "ops"):  # its own account's key, and the operator's
            sent = await send(service, requests_log, key_id, "POST", f"{path}/approval", decision)
            assert sent.status == 202, sent.body
        assert await signals(dev_env, workflow_id) == 2
    finally:
        await dev_env.client.get_workflow_handle(workflow_id).terminate()
