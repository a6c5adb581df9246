"""The trigger API: routes, input checks and answers (no Lambda or HTTP plumbing here).

Bad input always gets a 4xx naming the field; only our own faults are 5xx.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from functions.trigger.replay import RequestLog, fingerprint
from functions.trigger.signing import AuthError, Key, authenticate
from smm_runtime.contract.ownership import ACCOUNT_PATTERN
from smm_runtime.contract.publish_io import ApprovalDecision
from smm_runtime.contract.trigger_io import (
    AcceptedResponse,
    ErrorResponse,
    PublishRequest,
    StartedResponse,
    StatusResponse,
)
from smm_runtime.contract.validation import describe_validation_error

MAX_BODY = 64 * 1024
CREDITS_PATH = re.compile(r"^/v1/credits/(" + ACCOUNT_PATTERN.strip("^$") + ")$")
WORKFLOW_PATH = re.compile(r"^/v1/workflows/([A-Za-z0-9_.-]{1,200})(/approval)?$")


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Response:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})
    html: str | None = None  # the review pages answer HTML instead of JSON


class Service:
    """What the routes need from Temporal (the real one in service.py)."""

    start_publish: Callable[[PublishRequest], Awaitable[StartedResponse]]
    send_approval: Callable[[str, ApprovalDecision], Awaitable[bool]]
    read_status: Callable[[str], Awaitable[StatusResponse | None]]


def error(status: int, message: str, field_name: str | None = None) -> Response:
    return Response(status, ErrorResponse(error=message, field=field_name).model_dump())


def ok(status: int, model: BaseModel) -> Response:
    return Response(status, model.model_dump(mode="json"))


def parse(model: type[BaseModel], body: bytes) -> BaseModel | Response:
    try:
        raw = json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        return error(400, f"body: not valid JSON ({err.msg if hasattr(err, 'msg') else err})",
                     "body")
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        loc = err.errors()[0]["loc"] if err.errors() else ()
        return error(400, describe_validation_error(err),
                     ".".join(str(p) for p in loc) or "body")


async def handle(request: Request, service: Any, keys: Mapping[str, Key], log: RequestLog,
                 now: float | None = None) -> Response:
    if len(request.body) > MAX_BODY:
        return error(413, f"body: larger than {MAX_BODY} bytes", "body")
    try:
        request_id, key_id = authenticate(keys, request.headers, request.method, request.path,
                                          request.body, time.time() if now is None else now)
    except AuthError as err:
        return error(401, str(err))
    earlier = log.begin(request_id, fingerprint(request.method, request.path, request.body))
    if earlier is not None:
        return Response(earlier.status, earlier.body)
    try:
        answer = await route(request, service, keys[key_id])
    except BaseException:
        log.forget(request_id)  # failed on our side: the caller's retry runs again
        raise
    log.finish(request_id, answer.status, answer.body)
    return answer


async def route(request: Request, service: Any, key: Key) -> Response:
    if request.path == "/v1/publish":
        if request.method != "POST":
            return error(405, "use POST")
        parsed = parse(PublishRequest, request.body)
        if isinstance(parsed, Response):
            return parsed
        assert isinstance(parsed, PublishRequest)
        if parsed.account is None and not key.may_act_for(None):
            return error(403, "account: the key that signed this request acts only for "
                         f"{sorted(key.accounts or ())}; name the account to bill", "account")
        if not key.may_act_for(parsed.account):
            return error(403, f"account: the key that signed this request may not act for "
                         f"{parsed.account!r}", "account")
        started = await service.start_publish(parsed)
        return ok(200 if started.existing else 202, started)
    credits = CREDITS_PATH.match(request.path)
    if credits is not None:
        if request.method != "GET":
            return error(405, "use GET")
        if not key.may_act_for(credits.group(1)):
            return error(403, f"account: the key that signed this request may not read "
                         f"{credits.group(1)!r}", "account")
        return ok(200, await service.read_balance(credits.group(1)))
    match = WORKFLOW_PATH.match(request.path)
    if match is None:
        return error(404, f"no route for {request.path}")
    workflow_id, approval = match.group(1), match.group(2)
    if approval:
        if request.method != "POST":
            return error(405, "use POST")
        decision = parse(ApprovalDecision, request.body)
        if isinstance(decision, Response):
            return decision
        assert isinstance(decision, ApprovalDecision)
        if not await service.send_approval(workflow_id, decision, key):
            return error(404, f"workflow {workflow_id!r}: no publish started through this API "
                         "has this id", "workflow_id")
        return ok(202, AcceptedResponse(workflow_id=workflow_id))
    if request.method != "GET":
        return error(405, "use GET")
    status = await service.read_status(workflow_id, key)
    if status is None:
        return error(404, f"workflow {workflow_id!r} does not exist", "workflow_id")
    return ok(200, status)
