"""The trigger API's way in: the body limit, the signature and request-id replay, then the
routes (api.py, on Powertools' event handler). No Lambda plumbing here.

Bad input always gets a 4xx naming the field; only our own faults are 5xx.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from functions.trigger.api import build_app
from functions.trigger.replay import RequestLog, fingerprint
from functions.trigger.signing import AuthError, Key, authenticate
from smm_runtime.contract.publish_io import ApprovalDecision
from smm_runtime.contract.trigger_io import (
    ErrorResponse,
    PublishRequest,
    StartedResponse,
    StatusResponse,
)

MAX_BODY = 64 * 1024


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


def function_url_event(request: Request) -> dict[str, Any]:
    """The Function URL event (payload format 2.0) the resolver reads. The API takes JSON
    only and always parsed every body as JSON, whatever its content-type said: so it does."""
    headers = {**request.headers, "content-type": "application/json"}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "http": {"method": request.method, "path": request.path},
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": base64.b64encode(request.body).decode(),
        "isBase64Encoded": True,
    }


async def handle(
    request: Request,
    service: Any,
    keys: Mapping[str, Key],
    log: RequestLog,
    now: float | None = None,
) -> Response:
    if len(request.body) > MAX_BODY:
        return error(413, f"body: larger than {MAX_BODY} bytes", "body")
    try:
        request_id, key_id = authenticate(
            keys,
            request.headers,
            request.method,
            request.path,
            request.body,
            time.time() if now is None else now,
        )
    except AuthError as err:
        return error(401, str(err))
    earlier = log.begin(request_id, fingerprint(request.method, request.path, request.body))
    if earlier is not None:
        return Response(earlier.status, earlier.body)
    try:
        resolved = await build_app(service, keys[key_id]).resolve_async(
            function_url_event(request),
            None,  # type: ignore[arg-type]  # no context used
        )
    except BaseException:
        log.forget(request_id)  # failed on our side: the caller's retry runs again
        raise
    answer = Response(int(resolved["statusCode"]), json.loads(resolved.get("body") or "{}"))
    log.finish(request_id, answer.status, answer.body)
    return answer
