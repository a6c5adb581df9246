"""Lambda handler of the trigger API (a Function URL): Payload's way in.

Parse the HTTP event -> authenticate, check and route (routes.py) -> Temporal (service.py).
"""

from __future__ import annotations

import asyncio
import base64
import json
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from replay import ReplayGuard
from routes import Request, Response, handle
from service import TemporalService
from smm_runtime import TASK_QUEUE
from smm_runtime.ledger import Ledger
from smm_runtime.temporal_conn import CachedClient

logger = Logger(service="trigger")
tracer = Tracer(service="trigger")  # X-Ray; off locally (POWERTOOLS_TRACE_DISABLED)


class TriggerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMM_")

    idempotency_table: str
    ledger_table: str | None = None
    output_bucket: str
    assets_bucket: str | None = None
    task_queue: str = TASK_QUEUE
    # On AWS the HMAC secret lives in Secrets Manager; locally, in the env.
    trigger_secret: SecretStr | None = None
    trigger_secret_arn: str | None = None

    def secret(self) -> bytes:
        if self.trigger_secret is not None:
            return self.trigger_secret.get_secret_value().encode()
        if self.trigger_secret_arn:
            from aws_lambda_powertools.utilities import parameters

            return str(parameters.get_secret(self.trigger_secret_arn, max_age=3600)).encode()
        raise ValueError("set SMM_TRIGGER_SECRET_ARN (or SMM_TRIGGER_SECRET locally)")


settings = TriggerSettings()  # a misconfigured function fails at cold start
_loop = asyncio.new_event_loop()  # kept across warm invocations, with the Temporal client
_clients = CachedClient()


@cache
def ledger() -> Ledger | None:
    return Ledger(boto3.client("dynamodb"), settings.ledger_table) \
        if settings.ledger_table else None


@cache
def replay_guard() -> ReplayGuard:
    return ReplayGuard(boto3.client("dynamodb"), settings.idempotency_table)


async def _serve(request: Request) -> Response:
    client = await _clients.get()
    service = TemporalService(client, settings.task_queue, settings.output_bucket,
                              settings.assets_bucket, ledger())
    return await handle(request, service, settings.secret(), replay_guard())


@logger.inject_lambda_context(log_event=False, clear_state=True)  # bodies may hold secrets
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    http = event.get("requestContext", {}).get("http", {})
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    request = Request(method=str(http.get("method", "GET")).upper(),
                      path=str(event.get("rawPath", "/")),
                      headers={k.lower(): v for k, v in (event.get("headers") or {}).items()},
                      body=raw)
    response = _loop.run_until_complete(_serve(request))
    logger.info("request", extra={"method": request.method, "path": request.path,
                                  "status": response.status})
    return {"statusCode": response.status, "headers": response.headers,
            "body": json.dumps(response.body)}
