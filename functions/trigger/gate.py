"""The gate in front of the API's routes: the body limit, the signature, and each request id
acted on once — before any route is looked at, so an unsigned request learns nothing about
the routes, not even which exist.

It is middleware around the resolver rather than one of Powertools' route middlewares
because those run after the resolver's own body validation (``Route.call_async`` in
aws_lambda_powertools 3.37, event_handler/api_gateway.py: the request-validation middleware
comes first, then the router's): an unsigned request with a bad body would get a 400 naming
the field instead of a 401. The review pages (their signed link is their credential) and the
optional API docs pass through untouched.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger

from functions.trigger.replay import RequestLog, fingerprint
from functions.trigger.signing import AuthError, Key, authenticate
from smm_runtime.contract.trigger_io import ErrorResponse

logger = Logger(service="trigger", child=True)
MAX_BODY = 64 * 1024
Next = Callable[[dict[str, Any], Key | None], Awaitable[dict[str, Any]]]


def raw_body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else str(body).encode()


def json_answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    """A Function URL response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def refuse(status: int, message: str, field: str | None = None) -> dict[str, Any]:
    return json_answer(status, ErrorResponse(error=message, field=field).model_dump())


class SignedOnce:
    """Admit a signed request once: a retry of an answered request id gets that answer again,
    a request that failed on our side (5xx, an exception) is forgotten so its retry runs.
    ``keys`` is read per request, so a key added to the keyring is accepted without a
    deploy; a keyring that cannot be read is the operator's fault (500), never the caller's."""

    def __init__(
        self,
        keys: Callable[[], Mapping[str, Key]],
        log: RequestLog,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._log = log
        self._clock = clock

    async def __call__(
        self, event: dict[str, Any], next_: Next, unsigned: Callable[[str, str], bool]
    ) -> dict[str, Any]:
        """``next_`` with the request (and the key that signed it), or the refusal;
        ``unsigned(method, path)`` names the requests with a credential of their own (a
        signed review link) or none (the opt-in docs), which pass untouched."""
        path = str(event.get("rawPath") or "/")
        method = str(event.get("requestContext", {}).get("http", {}).get("method", "GET")).upper()
        if unsigned(method, path):
            return await next_(event, None)
        try:
            keys = self._keys()
        except ValueError as err:  # the secret in Secrets Manager is no keyring: ours to fix
            logger.error("trigger secret unusable", extra={"error": str(err)})
            return refuse(
                500,
                "the API's signing keys are misconfigured; the operator must fix the trigger "
                "secret",
            )
        body = raw_body(event)
        if len(body) > MAX_BODY:
            return refuse(413, f"body: larger than {MAX_BODY} bytes", "body")
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        try:
            request_id, key_id = authenticate(keys, headers, method, path, body, self._clock())
        except AuthError as err:
            return refuse(401, str(err))
        earlier = self._log.begin(request_id, fingerprint(method, path, body))
        if earlier is not None:
            return json_answer(earlier.status, earlier.body)
        try:
            body.decode("utf-8")  # the resolver decodes it too, and would raise: a 500
        except UnicodeDecodeError as err:
            answer = refuse(400, f"body: not UTF-8 text (byte {err.start}); send JSON", "body")
            self._log.finish(request_id, 400, json.loads(answer["body"]))
            return answer
        # The API takes JSON only and always parsed every body as JSON, whatever its
        # content-type said: so the resolver is told it is JSON.
        admitted = {**event, "headers": {**headers, "content-type": "application/json"}}
        try:
            answer = await next_(admitted, keys[key_id])
        except BaseException:
            self._log.forget(request_id)  # failed on our side: the caller's retry runs again
            raise
        status = int(answer["statusCode"])
        self._log.finish(request_id, status, json.loads(answer.get("body") or "{}"))
        return answer
