"""Calling the trigger as Lambda does: a Function URL event (payload format 2.0, as AWS
sends it) through the gate and the one Powertools app, answered as Lambda would return it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from functions.trigger.api import serve
from functions.trigger.gate import SignedOnce
from functions.trigger.replay import RequestLog
from functions.trigger.service import Service
from functions.trigger.signing import Key
from smm_local.lambda_emulator.http_api import function_url_event


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


async def call(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    service: Any,
    keys: Mapping[str, Key],
    log: RequestLog,
    now: float | None = None,
    channels: dict[str, str] | None = None,
    channel_names: Callable[[], dict[str, str]] | None = None,
) -> Answer:
    gate = SignedOnce(lambda: keys, log, clock=time.time if now is None else lambda: now)
    event = function_url_event(method, path, "", headers, body)
    answer = await serve(
        event,
        None,
        gate=gate,
        service=cast(Service, service),
        channels=lambda: channels,
        channel_names=channel_names,
    )
    return Answer(
        int(answer["statusCode"]), json.loads(answer.get("body") or "{}"), answer["headers"]
    )


@dataclass
class Request:
    """An HTTP request as a test writes it; ``handle`` sends it as a Function URL event."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


async def handle(
    request: Request,
    service: Any,
    keys: Mapping[str, Key],
    log: RequestLog,
    now: float | None = None,
    channels: dict[str, str] | None = None,
    channel_names: Callable[[], dict[str, str]] | None = None,
) -> Answer:
    return await call(
        request.method,
        request.path,
        request.headers,
        request.body,
        service=service,
        keys=keys,
        log=log,
        now=now,
        channels=channels,
        channel_names=channel_names,
    )
