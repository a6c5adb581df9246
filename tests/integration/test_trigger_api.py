"""The trigger API as Payload calls it: signed HTTP to the function's URL (emulated)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from temporalio.client import Client

from functions.trigger.signing import sign
from smm_local.postiz_double import CHANNEL_SETTINGS
from smm_local.stack import LocalStack
from smm_runtime.ledger import Ledger
from tests.integration.test_cli_status import cli

pytestmark = pytest.mark.integration
OPENAPI = json.loads(
    (Path(__file__).resolve().parents[2] / "functions" / "trigger" / "openapi.json").read_text()
)


@pytest.fixture(scope="module")
def default_queue_worker(stack: LocalStack) -> Iterator[None]:
    """The trigger starts workflows on the default task queue: a worker process serves it."""
    worker = stack.start_worker(name="worker-trigger")
    yield
    worker.terminate()
    worker.wait(timeout=30)


def call(
    stack: LocalStack,
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    secret: str | None = None,
    timestamp: int | None = None,
    request_id: str | None = None,
    signature: str | None = None,
) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    ts = str(timestamp if timestamp is not None else int(time.time()))
    request_id = request_id or str(uuid.uuid4())
    headers = {
        "x-smm-timestamp": ts,
        "x-smm-request-id": request_id,
        "x-smm-signature": signature
        or sign(
            (secret or stack.trigger_secret).encode(), ts, method, path, data, request_id=request_id
        ),
        "content-type": "application/json",
    }
    req = urllib.request.Request(
        f"{stack.trigger_url}{path}", data=data or None, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def conforms(path: str, method: str, status: int, body: Any) -> None:
    """The answer matches the committed OpenAPI description."""
    spec_path = (
        "/v1/workflows/{workflow_id}" + ("/approval" if path.endswith("/approval") else "")
        if path.startswith("/v1/workflows/")
        else path
    )
    response = OPENAPI["paths"][spec_path][method.lower()]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": OPENAPI["components"]}).validate(body)


async def stage_reached(stack: LocalStack, path: str, stage: str) -> dict[str, Any]:
    """Read the publish's status through the API until it reaches ``stage`` (or 60 s pass)."""
    state: dict[str, Any] = {}
    for _ in range(300):
        code, state = call(stack, "GET", path)
        if code == 200 and state["status"]["stage"] == stage:
            break
        await asyncio.sleep(0.2)
    return state


def publish_body(assets: dict[str, str], doc: str) -> dict[str, Any]:
    return {
        "collection": "posts",
        "doc_id": doc,
        "creative": {
            "kind": "image",
            "spec": {
                "brand_kit": assets["brand_kit"],
                "template": "quote_card",
                "props": {"quote": "Started from Payload", "author": "Hook"},
            },
        },
        "post": {
            "content": "Hello from Payload",
            "integrations": ["x-1"],
            "type": "now",
            "channel_settings": CHANNEL_SETTINGS,
        },
        "approval": {"reviewers": ["ana@example.com"]},
    }


async def test_payload_starts_approves_and_reads_a_publish_through_the_api(
    stack: LocalStack, assets: dict[str, str], default_queue_worker: None
) -> None:
    doc = f"doc{uuid.uuid4().hex[:8]}"
    status, started = call(stack, "POST", "/v1/publish", publish_body(assets, doc))
    assert status == 202, started
    conforms("/v1/publish", "POST", status, started)
    assert started["workflow_id"] == f"payload-posts-{doc}" and not started["existing"]

    again, second = call(stack, "POST", "/v1/publish", publish_body(assets, doc))
    assert again == 200 and second["existing"]
    assert (second["workflow_id"], second["run_id"]) == (started["workflow_id"], started["run_id"])

    path = f"/v1/workflows/{started['workflow_id']}"
    for _ in range(300):
        code, state = call(stack, "GET", path)
        if code == 200 and state["status"]["stage"] == "awaiting_approval":
            break
        await asyncio.sleep(0.2)
    conforms(path, "GET", code, state)
    assert state["status"]["stage"] == "awaiting_approval"
    code, accepted = call(
        stack, "POST", f"{path}/approval", {"decision": "approve", "reviewer": "ana@example.com"}
    )
    assert code == 202
    conforms(f"{path}/approval", "POST", code, accepted)
    for _ in range(300):
        code, state = call(stack, "GET", path)
        if state["status"]["stage"] == "published":
            break
        await asyncio.sleep(0.2)
    assert state["status"]["stage"] == "published"
    assert state["status"]["postiz_post_ids"]


@pytest.mark.parametrize(
    ("case", "expected_status", "field"),
    [
        ("bad signature", 401, None),
        ("stale timestamp", 401, None),
        ("bad json", 400, "body"),
        ("schema error", 400, "post.integrations"),
        ("oversized body", 413, "body"),
        ("unknown workflow", 404, "workflow_id"),
        ("unknown route", 404, None),
        ("bad approval", 400, "decision"),
        ("wrong method", 405, None),
        ("docs are off unless asked for", 401, None),
    ],
)
def test_bad_requests_get_a_clear_4xx(
    stack: LocalStack, assets: dict[str, str], case: str, expected_status: int, field: str | None
) -> None:
    body = publish_body(assets, "doc-bad")
    if case == "bad signature":
        status, answer = call(stack, "POST", "/v1/publish", body, secret="not-the-secret")
    elif case == "stale timestamp":
        status, answer = call(stack, "POST", "/v1/publish", body, timestamp=int(time.time()) - 3600)
        assert answer["error"].startswith("x-smm-timestamp: outside the 300 s window")
    elif case == "bad json":
        status, answer = call(stack, "POST", "/v1/publish", raw=b"{not json")
    elif case == "schema error":
        status, answer = call(
            stack, "POST", "/v1/publish", {**body, "post": {**body["post"], "integrations": []}}
        )
    elif case == "oversized body":
        status, answer = call(stack, "POST", "/v1/publish", raw=b"x" * (65 * 1024))
    elif case == "unknown workflow":
        status, answer = call(
            stack,
            "POST",
            "/v1/workflows/payload-posts-nope/approval",
            {"decision": "approve", "reviewer": "ana@example.com"},
        )
    elif case == "unknown route":
        status, answer = call(stack, "GET", "/v2/everything")
    elif case == "wrong method":
        status, answer = call(stack, "GET", "/v1/publish")
        assert answer["error"] == "use POST"
    elif case == "docs are off unless asked for":  # TriggerApiDocs defaults to "false"
        try:
            urllib.request.urlopen(f"{stack.trigger_url}/docs", timeout=30)
            status, answer = 200, {}
        except urllib.error.HTTPError as err:
            status, answer = err.code, json.load(err)
    else:
        status, answer = call(
            stack,
            "POST",
            "/v1/workflows/payload-posts-nope/approval",
            {"decision": "maybe", "reviewer": "ana@example.com"},
        )
    assert status == expected_status, answer
    assert answer["field"] == field
    assert answer["error"]
    if case == "schema error":
        assert answer["error"].startswith("post.integrations: List should have at least 1 item")


def test_a_request_id_stands_for_one_request(stack: LocalStack) -> None:
    """The same id and request again gets the first answer again (a client that lost the
    response learns it); the same id on another request is refused."""
    request_id = str(uuid.uuid4())
    first, one = call(stack, "GET", "/v1/workflows/payload-posts-none", request_id=request_id)
    again, two = call(stack, "GET", "/v1/workflows/payload-posts-none", request_id=request_id)
    assert first == again == 404 and one == two
    other, answer = call(stack, "GET", "/v1/workflows/payload-posts-other", request_id=request_id)
    assert other == 409 and answer["field"] == "x-smm-request-id"
    assert "different request" in answer["error"]


async def test_approvals_reach_only_publishes_started_through_the_api(
    stack: LocalStack, client: Client, assets: dict[str, str]
) -> None:
    """A signed caller cannot signal a semaphore (unknown signals are buffered forever) or a
    publish started elsewhere: 404, and the workflow receives nothing."""
    queue = f"tq-{uuid.uuid4()}"
    permits = await client.start_workflow(
        "SemaphoreWorkflow", id=f"semaphore-{uuid.uuid4().hex[:6]}", task_queue=queue, args=[]
    )
    elsewhere = await client.start_workflow(
        "PublishCreativeWorkflow",
        publish_body(assets, "x"),
        id=f"cli-{uuid.uuid4().hex[:6]}",
        task_queue=queue,
    )  # no worker polls: only what the server records matters
    try:
        for handle in (permits, elsewhere):
            code, body = call(
                stack,
                "POST",
                f"/v1/workflows/{handle.id}/approval",
                {"decision": "approve", "reviewer": "ana@example.com"},
            )
            assert code == 404 and body["field"] == "workflow_id", body
            history = await handle.fetch_history()
            assert not [
                e
                for e in history.events
                if e.HasField("workflow_execution_signaled_event_attributes")
            ]
    finally:
        for handle in (permits, elsewhere):
            await handle.terminate()


async def test_a_publish_through_the_api_is_billed_to_its_account(
    stack: LocalStack, assets: dict[str, str], default_queue_worker: None
) -> None:
    account = f"agency-{uuid.uuid4().hex[:6]}"
    ledger = Ledger(stack.dynamodb(), stack.ledger_table)
    ledger.grant(account, 500, f"{account}-grant")
    doc = f"doc{uuid.uuid4().hex[:8]}"
    body = {**publish_body(assets, doc), "account": account}
    # A channel is never open by default: the account posts only where the operator allowed
    # (the CLI, as the operator runs it, under the template's OperatorPolicy).
    status, refused = call(stack, "POST", "/v1/publish", body)
    assert status == 403 and refused["field"] == "post.integrations", refused
    allow = cli(stack, "channels", "allow", account, "li-2")
    assert allow.returncode == 0, allow.stderr
    status, refused = call(stack, "POST", "/v1/publish", body)
    assert status == 403 and refused["field"] == "post.integrations[0]", refused
    assert "'x-1'" in refused["error"] and "li-2" in refused["error"]
    assert cli(stack, "channels", "allow", account, "x-1", "li-2").returncode == 0
    shown = cli(stack, "channels", "show", account)
    assert shown.stdout.strip() == f"{account} may post to: li-2, x-1", shown
    status, started = call(stack, "POST", "/v1/publish", body)
    assert status == 202, started
    path = f"/v1/workflows/{started['workflow_id']}"
    await stage_reached(stack, path, "awaiting_approval")
    assert ledger.balance(account).held > 0  # held while it waits
    code, _ = call(
        stack, "POST", f"{path}/approval", {"decision": "approve", "reviewer": "ana@example.com"}
    )
    assert code == 202
    state = await stage_reached(stack, path, "published")
    assert state["status"]["stage"] == "published"
    balance = ledger.balance(account)
    assert balance.captured > 0 and balance.held == 0
    assert balance.balance == 500 - balance.captured


async def test_a_channel_postiz_failed_is_retried_through_the_api_alone(
    stack: LocalStack, assets: dict[str, str], default_queue_worker: None
) -> None:
    """Postiz fails one channel's post: the publish ends publish_failed naming it; a retry
    through the API posts that channel again and leaves the live one alone."""
    doc = f"doc{uuid.uuid4().hex[:8]}"
    body = publish_body(assets, doc)
    body["post"] = {**body["post"], "integrations": ["x-1", "li-2"]}
    status, started = call(stack, "POST", "/v1/publish", body)
    assert status == 202, started
    path = f"/v1/workflows/{started['workflow_id']}"
    code, refused = call(stack, "POST", f"{path}/retry", None)
    assert code == 409 and "only a publish that ended publish_failed" in refused["error"]
    await stage_reached(stack, path, "awaiting_approval")
    stack.double_control("postiz", fail_next=["the platform refused the media"])
    code, _ = call(
        stack, "POST", f"{path}/approval", {"decision": "approve", "reviewer": "ana@example.com"}
    )
    assert code == 202
    failed = await stage_reached(stack, path, "publish_failed")
    (channel,) = [ch for ch, st in failed["status"]["channels"].items() if st == "ERROR"]
    live = next(ch for ch in ("x-1", "li-2") if ch != channel)
    code, _ = call(stack, "POST", f"{path}/retry", None)
    assert code == 202
    done = await stage_reached(stack, path, "published")
    assert set(done["status"]["permalinks"]) == {"x-1", "li-2"}
    assert done["status"]["permalinks"][live] == failed["status"]["permalinks"][live]
    posts = [
        p
        for p in stack.double_state("postiz")["posts"]
        if p["state"] != "DRAFT"
        and p["integration"]["id"] in ("x-1", "li-2")
        and p["id"]
        in set(done["status"]["postiz_post_ids"]) | set(failed["status"]["postiz_post_ids"])
    ]
    states = sorted((p["integration"]["id"], p["state"]) for p in posts)
    assert states == sorted([(live, "PUBLISHED"), (channel, "ERROR"), (channel, "PUBLISHED")])


TYPED_CLIENT = """
const hook = await import(process.argv[1]);
const doc = { id: process.argv[2], status: 'ready_for_render', caption: 'Typed client',
              channels: ['x-1'], channelSettings: { 'x-1': { who_can_reply_post: 'everyone' } },
              creative: JSON.parse(process.argv[3]) };
const started = await hook.startPublishOnReady({ doc, operation: 'update' });
const again = await hook.startPublishOnReady({ doc, operation: 'update' });
const status = await hook.engineStatus(started.engineWorkflowId);
let refused = '';
try { await hook.engineStatus('payload-posts-none-such'); } catch (err) { refused = err.message; }
console.log(JSON.stringify({ id: started.engineWorkflowId, again: again.engineWorkflowId,
                             stage: status.status.stage, refused }));
"""


def test_the_generated_typed_client_signs_and_calls_the_api(
    stack: LocalStack, assets: dict[str, str], default_queue_worker: None, tmp_path: Path
) -> None:
    """infra/payload/smm-engine-hook.ts as Payload would run it: compiled by tsc, openapi-fetch
    over the types generated from openapi.json, its middleware signing each request."""
    payload = Path(__file__).resolve().parents[2] / "infra" / "payload"
    out = payload / f".test-build-{uuid.uuid4().hex[:6]}"  # beside node_modules: it resolves
    try:
        subprocess.run(
            [
                str(payload / "node_modules" / ".bin" / "tsc"),
                "-p",
                str(payload),
                "--noEmit",
                "false",
                "--outDir",
                str(out),
            ],
            check=True,
        )
        doc = f"typed{uuid.uuid4().hex[:8]}"
        done = subprocess.run(
            [
                "node",
                "--input-type=module",
                "-e",
                TYPED_CLIENT,
                str(out / "smm-engine-hook.js"),
                doc,
                json.dumps(publish_body(assets, doc)["creative"]),
            ],
            env={
                **os.environ,
                "SMM_TRIGGER_URL": stack.trigger_url,
                "SMM_TRIGGER_SECRET": stack.trigger_secret,
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(out, ignore_errors=True)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["id"] == answer["again"] == f"payload-posts-{doc}"
    # Just started, nobody approves here: the creative renders, then waits for approval.
    assert answer["stage"] in {"rendering", "awaiting_approval"}
    assert answer["refused"].startswith("creative engine: 404 workflow_id")
