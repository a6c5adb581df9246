"""Property-based fuzzing of the trigger from its own OpenAPI description (Schemathesis
generates the requests, valid and invalid; each is signed as a caller would sign it and
served as Lambda serves it). No request may get a 5xx, and no request the description
refuses may be accepted."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from moto import mock_aws
from schemathesis.generation import GenerationMode

from functions.trigger.replay import RequestLog
from functions.trigger.signing import Key, sign
from smm_local.postiz_double import DEFAULT_INTEGRATIONS
from smm_runtime.contract.preflight import facts_of, preflight
from smm_runtime.contract.publish_io import ApprovalDecision
from smm_runtime.contract.trigger_io import BalanceResponse, PublishRequest, StartedResponse
from tests.fakes import ANY_CHANNEL
from tests.idempotency_table import idempotency_table
from tests.trigger_calls import call

SPEC = Path(__file__).resolve().parents[2] / "functions" / "trigger" / "openapi.json"
SCHEMA = schemathesis.openapi.from_dict(json.loads(SPEC.read_text()))
SECRET = b"fuzz-secret-0123456789abcdef"
KEYS = {"default": Key(SECRET)}
BODIES: dict[str, Any] = {
    "/v1/publish": PublishRequest,
    "/v1/workflows/{workflow_id}/approval": ApprovalDecision,
}
OPERATIONS = [
    ("/v1/publish", "POST"),
    ("/v1/credits/{account}", "GET"),
    ("/v1/channels/{account}", "GET"),
    ("/v1/workflows/{workflow_id}", "GET"),
    ("/v1/workflows/{workflow_id}/approval", "POST"),
    ("/v1/workflows/{workflow_id}/retry", "POST"),
]


class Accepting:
    """The trigger's Temporal side, accepting whatever reaches it (and remembering it)."""

    def __init__(self) -> None:
        self.started: list[PublishRequest] = []

    async def allowed_channels(self, account: str) -> frozenset[str] | None:
        return ANY_CHANNEL

    async def start_publish(self, request: PublishRequest) -> StartedResponse:
        self.started.append(request)
        return StartedResponse(workflow_id=request.workflow_id(), run_id="run", existing=False)

    async def read_balance(self, account: str) -> BalanceResponse:
        return BalanceResponse(account=account, balance=0, held=0, granted=0, captured=0)

    async def send_approval(self, workflow_id: str, decision: Any, key: Any) -> bool:
        return True

    async def read_status(self, workflow_id: str, key: Any = None) -> None:
        return None

    async def retry_publish(self, workflow_id: str, key: Any) -> tuple[bool, str | None]:
        return True, None


@pytest.fixture(scope="module")
def replay() -> Iterator[RequestLog]:
    with mock_aws():
        yield RequestLog(idempotency_table(), "idem")


def send(case: Any, replay: RequestLog, service: Accepting) -> tuple[int, dict[str, Any]]:
    path = case.formatted_path
    if isinstance(case.body, bytes):
        data = case.body
    elif case.body is not None and type(case.body).__name__ != "NotSet":
        data = json.dumps(case.body).encode()
    else:
        data = b""
    ts, request_id = str(int(time.time())), str(uuid.uuid4())
    headers = {
        "x-smm-timestamp": ts,
        "x-smm-request-id": request_id,
        "x-smm-signature": sign(SECRET, ts, case.method, path, data, request_id=request_id),
    }
    answer = _run(
        call(
            case.method,
            path,
            headers,
            data,
            service=service,
            keys=KEYS,
            log=replay,
            channels=dict(DEFAULT_INTEGRATIONS),
        )
    )
    return answer.status, answer.body


def _run(coroutine: Any) -> Any:
    import asyncio

    return asyncio.new_event_loop().run_until_complete(coroutine)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_5xx_and_none_the_description_refuses_is_accepted(
    path: str, method: str, mode: GenerationMode, replay: RequestLog
) -> None:
    operation = SCHEMA[path][method]
    seen: list[int] = []

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(generation_mode=mode))
    def fuzz(case: Any) -> None:
        service = Accepting()
        status, body = send(case, replay, service)
        seen.append(status)
        assert status < 500, (case.method, case.formatted_path, case.body, body)
        if status < 400 and path == "/v1/publish":
            (started,) = service.started
            # What was accepted is a valid request whose creative parses and whose every
            # channel takes it, as the workflow will check again.
            PublishRequest.model_validate(started.model_dump())
            facts = facts_of(started.creative.kind, started.creative.spec)
            assert preflight(started.post, facts, dict(DEFAULT_INTEGRATIONS)).refusals == []
        model = BODIES.get(path)
        if model is not None and status < 400:
            # Accepted: so the body the fuzzer sent must be one the description allows.
            model.model_validate(case.body)

    fuzz()
    assert seen  # the fuzzer ran
