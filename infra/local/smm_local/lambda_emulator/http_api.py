"""The emulator's HTTP face: what boto3 and Function URL callers talk to."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from smm_local.iam import ACCOUNT, REGION
from smm_local.iam_gate import denial_message, signer
from smm_local.lambda_emulator.emulator import Emulator
from smm_local.lambda_emulator.host import EVENT_PAYLOAD_LIMIT, SYNC_PAYLOAD_LIMIT

log = logging.getLogger("smm.emulator")


def function_url_event(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An HTTP request as a Lambda Function URL hands it to the function (payload format
    2.0, as AWS documents it): lower-case headers, the body base64-encoded, and the request
    context with its routeKey and stage, which a Function URL fills with the sentinel
    "$default" (Lambda developer guide, "Invoking Lambda function URLs", request payload
    format: docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads; Powertools'
    resolver reads the stage to find the path)."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip},
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": int(time.time() * 1000),
        },
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


class InvokeApi(BaseHTTPRequestHandler):
    """The Invoke API (``/2015-03-31/functions/<name>/invocations``), Function URLs
    (``/_url/<name>/...``) and the emulator's own controls (``/_emulator/...``)."""

    emulator: Emulator
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug(fmt, *args)

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, kind: str, message: str) -> None:
        self._send(status, {"Type": "User", "message": message}, {"x-amzn-ErrorType": kind})

    def _authorised(self, action: str, function: str) -> bool:
        """IAM on the Lambda API: the signer may call ``lambda:<action>`` on the function
        (answers AccessDeniedException, as Lambda does, when not)."""
        signed = signer(dict(self.headers.items()), parse_qs(urlparse(self.path).query))
        principal = signed[0] if signed else ""
        if self.emulator.may_invoke(principal, function, action):
            return True
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"
        log.warning("iam: denied %s lambda:%s on %s", principal, action, arn)
        self._error(403, "AccessDeniedException",
                    denial_message(principal, f"lambda:{action}", arn))  # fmt: skip
        return False

    def function_url(self) -> None:
        """``/_url/<Function>/<path>``: a Lambda Function URL (payload format 2.0)."""
        parsed = urlparse(self.path)
        _, _, name, *rest = parsed.path.split("/")
        pool = self.emulator.pool(unquote(name))
        if pool is None:
            self._error(404, "ResourceNotFoundException", f"Function not found: {name}")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        event = function_url_event(
            self.command,
            "/" + "/".join(rest),
            parsed.query,
            dict(self.headers.items()),
            body,
            self.client_address[0],
        )
        outcome = pool.try_invoke(event)
        if outcome is None:
            self._send(429, {"message": "Rate Exceeded."})
        elif not outcome.ok or not isinstance(outcome.payload, dict):
            self._send(502, {"message": "Internal Server Error"})
        else:
            answer = outcome.payload
            payload = answer.get("body", "")
            data = (
                base64.b64decode(payload)
                if answer.get("isBase64Encoded")
                else str(payload).encode()
            )
            self.send_response(int(answer.get("statusCode", 200)))
            # Header names are case-insensitive: the function's own replace the default.
            given = {str(k).lower(): v for k, v in (answer.get("headers") or {}).items()}
            headers = {"content-type": "application/json", **given}
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def do_PUT(self) -> None:
        self.function_url()

    do_PATCH = do_DELETE = do_PUT

    def do_GET(self) -> None:
        if urlparse(self.path).path.startswith("/_url/"):
            self.function_url()
            return
        parts = urlparse(self.path).path.strip("/").split("/")
        if (
            len(parts) == 4
            and parts[:2] == ["2019-09-30", "functions"]
            and parts[3] == "concurrency"
        ):  # GetFunctionConcurrency
            pool = self.emulator.pool(unquote(parts[2]))
            if pool is None:
                self._error(404, "ResourceNotFoundException", f"Function not found: {parts[2]}")
            elif not self._authorised("GetFunctionConcurrency", pool.spec.logical_id):
                pass
            elif pool.spec.reserved_concurrency:
                self._send(200, {"ReservedConcurrentExecutions": pool.spec.reserved_concurrency})
            else:
                self._send(200, {})  # as Lambda answers when none is reserved
            return
        if urlparse(self.path).path == "/_emulator/stats":
            self._send(200, {n: p.snapshot() for n, p in self.emulator.pools.items()})
        elif urlparse(self.path).path == "/_emulator/chaos":
            self._send(200, self.emulator.chaos.snapshot())
        else:
            self._error(404, "ResourceNotFoundException", "no such path")

    def do_POST(self) -> None:
        if urlparse(self.path).path.startswith("/_url/"):
            self.function_url()
            return
        if urlparse(self.path).path == "/_emulator/reset-peaks":
            for each in self.emulator.pools.values():
                with each.lock:
                    each.stats.peak_active = len(each.busy)
            self._send(200, {"ok": True})
            return
        if urlparse(self.path).path == "/_emulator/recycle":
            # As Lambda recycles idle execution environments: the next invocations start cold.
            recycled = sum(each.recycle_idle() for each in self.emulator.pools.values())
            self._send(200, {"recycled": recycled})
            return
        if urlparse(self.path).path == "/_emulator/chaos":
            length = int(self.headers.get("Content-Length") or 0)
            self.emulator.chaos.configure(json.loads(self.rfile.read(length) or b"{}"))
            self._send(200, {"ok": True})
            return
        parts = urlparse(self.path).path.strip("/").split("/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if len(parts) != 4 or parts[1] != "functions" or parts[3] != "invocations":
            self._error(404, "ResourceNotFoundException", f"unknown path {self.path}")
            return
        name = unquote(parts[2])
        pool = self.emulator.pool(name)
        if pool is None:
            self._error(404, "ResourceNotFoundException", f"Function not found: {name}")
            return
        if not self._authorised("InvokeFunction", pool.spec.logical_id):
            return
        kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        limit = EVENT_PAYLOAD_LIMIT if kind == "Event" else SYNC_PAYLOAD_LIMIT
        if len(body) > limit:
            self._error(
                413,
                "RequestEntityTooLargeException",
                f"Request must be smaller than {limit} bytes for the {kind} invocation type",
            )
            return
        try:
            event = json.loads(body or b"{}")
        except json.JSONDecodeError:
            self._error(
                400, "InvalidRequestContentException", "Could not parse request body into json"
            )
            return
        if kind == "Event":
            with pool.lock:
                pool.stats.accepted_events += 1
            pool.events.put((event, time.monotonic(), 0))
            self.emulator.chaos.after_accept(pool, event)
            self._send(202, b"")
        elif kind == "DryRun":
            self._send(204, b"")
        else:
            outcome = pool.try_invoke(event)
            if outcome is None:
                self._error(429, "TooManyRequestsException", "Rate Exceeded.")
            elif outcome.ok:
                self._send(
                    200, json.dumps(outcome.payload).encode(), {"X-Amz-Executed-Version": "$LATEST"}
                )
            else:
                self._send(
                    200,
                    {"errorType": outcome.error_type, "errorMessage": outcome.error_message},
                    {"X-Amz-Function-Error": "Unhandled", "X-Amz-Executed-Version": "$LATEST"},
                )


def api_for(emulator: Emulator) -> type[InvokeApi]:
    return type("BoundInvokeApi", (InvokeApi,), {"emulator": emulator})
