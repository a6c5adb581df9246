"""The codec server: lets the Temporal Web UI (and `temporal` CLI) show decoded payloads to
people who hold a codec token, while the shared server itself stores only ciphertext.

It speaks Temporal's remote codec protocol: `POST /decode` and `POST /encode` with a JSON
body `{"payloads": [...]}` (Payload in protobuf JSON: base64 metadata values and data) and
answers the same shape. Every POST needs `Authorization: Bearer <token>` with one of
SMM_CODEC_TOKENS; the namespace the UI names in `X-Namespace` must be ours, and must be
named. CORS answers only the origins in SMM_CODEC_CORS_ORIGINS (the Web UI's address).

Nothing is read from a request before it is known to be allowed and small: the token and the
namespace come from the headers, then the size from a valid `Content-Length` (absent: 411;
negative or not a number: 400; too large: 413), and only then the body. Requests are served
by a bounded pool (a burst beyond it gets 503 at once, not a thread each), and with a
certificate and key the server speaks TLS, which an https Web UI needs to call it.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import socket
import ssl
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from smm_runtime.codec import AesGcmCodec, PayloadKeyError

MAX_BODY = 4 * 1024 * 1024  # Temporal payloads are at most 2 MB; a batch stays well under
WORKERS = 8  # requests decoded at once
BACKLOG = 32  # requests waiting for a worker; beyond: 503
READ_TIMEOUT_S = 10.0  # a client that stops sending mid-body is dropped


@dataclass(frozen=True)
class CodecServerConfig:
    codec: AesGcmCodec
    tokens: Sequence[str]
    namespace: str
    cors_origins: Sequence[str] = ("http://localhost:8233",)


def _refusal(config: CodecServerConfig, path: str, headers: Any) -> tuple[int, str] | None:
    """Why a request may not be read at all, from its headers alone (None: it may)."""
    auth = headers.get("Authorization", "")
    token = auth[7:] if auth.startswith("Bearer ") else ""
    # Compare against every token, whatever matches, so timing says nothing about which.
    matches = [hmac.compare_digest(token.encode(), t.encode()) for t in config.tokens]
    if not token or not any(matches):
        return 401, "Authorization: a valid 'Bearer <codec token>' is required"
    if path not in ("/decode", "/encode"):
        return 404, f"{path}: the codec server answers /decode and /encode"
    namespace = headers.get("X-Namespace")
    if not namespace:
        return 400, f"X-Namespace: name the namespace ({config.namespace!r})"
    if namespace != config.namespace:
        return 403, f"X-Namespace: this codec serves {config.namespace!r} only"
    return None


def body_length(headers: Any) -> tuple[int, str] | int:
    """The body's size from Content-Length, or (status, why) when it cannot be trusted."""
    raw = headers.get("Content-Length")
    if raw is None:
        return 411, "Content-Length: required"
    if not raw.isdigit():  # '-1', '1e9', ' 5', '' — none is a size
        return 400, f"Content-Length: {raw[:20]!r} is not a size in bytes"
    if int(raw) > MAX_BODY:
        return 413, f"body: over {MAX_BODY} bytes"
    return int(raw)


def _handle(config: CodecServerConfig, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    try:
        message = json_format.Parse(body.decode() or "{}", Payloads())
    except (json_format.ParseError, UnicodeDecodeError) as err:
        return 400, {"error": f"payloads: not a list of Temporal payloads in JSON ({err})"}
    try:
        if path == "/decode":
            out = [config.codec.open(p) for p in message.payloads]
        else:
            out = [config.codec.seal(p) for p in message.payloads]
    except PayloadKeyError as err:
        return 422, {"error": str(err)}
    return 200, json_format.MessageToDict(Payloads(payloads=out))


class _PooledServer(HTTPServer):
    """An HTTP server whose requests run on a bounded pool; over capacity answers 503."""

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        tls: ssl.SSLContext | None,
    ) -> None:
        super().__init__(address, handler)
        self.tls = tls
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="codec")
        self.slots = threading.BoundedSemaphore(WORKERS + BACKLOG)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                    b"Retry-After: 1\r\nConnection: close\r\n\r\n"
                )
            self.shutdown_request(request)
            return
        self.pool.submit(self._serve, request, client_address)

    def _serve(self, request: socket.socket, client_address: Any) -> None:
        try:
            request.settimeout(READ_TIMEOUT_S)
            if self.tls is not None:  # the handshake on the pool, never on the accept loop
                request = self.tls.wrap_socket(request, server_side=True)
            self.finish_request(request, client_address)
        except (OSError, ssl.SSLError):
            pass
        finally:
            self.shutdown_request(request)
            self.slots.release()

    def server_close(self) -> None:
        super().server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    return context


class CodecServer:
    def __init__(
        self, host: str, port: int, config: CodecServerConfig, tls: ssl.SSLContext | None = None
    ) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass  # request lines could carry tokens in odd clients; keep them out of logs

            def _cors(self) -> None:
                origin = self.headers.get("Origin")
                if origin and origin in config.cors_origins:
                    self.send_header("Access-Control-Allow-Origin", origin)
                    self.send_header("Access-Control-Allow-Credentials", "true")
                    self.send_header(
                        "Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace"
                    )
                    self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
                    self.send_header("Vary", "Origin")

            def _answer(self, status: int, data: dict[str, Any]) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self._cors()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_OPTIONS(self) -> None:  # CORS preflight carries no credentials
                self.send_response(204)
                self._cors()
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _refuse(self, status: int, why: str) -> None:
                self.close_connection = True  # the unread body must not become a request
                self._answer(status, {"error": why})

            def do_POST(self) -> None:
                refused = _refusal(config, self.path, self.headers)
                if refused is not None:
                    self._refuse(*refused)
                    return
                length = body_length(self.headers)
                if isinstance(length, tuple):
                    self._refuse(*length)
                    return
                self._answer(*_handle(config, self.path, self.rfile.read(length)))

        self._server = _PooledServer((host, port), Handler, tls)
        self.port = self._server.server_address[1]
        self.scheme = "https" if tls is not None else "http"

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
