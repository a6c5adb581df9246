"""The codec server: lets the Temporal Web UI (and `temporal` CLI) show decoded payloads to
people who hold a codec token, while the shared server itself stores only ciphertext.

It speaks Temporal's remote codec protocol: `POST /decode` and `POST /encode` with a JSON
body `{"payloads": [...]}` (Payload in protobuf JSON: base64 metadata values and data) and
answers the same shape. Every POST needs `Authorization: Bearer <token>` with one of
SMM_CODEC_TOKENS; the namespace the UI names in `X-Namespace` must be ours. CORS answers
only the origins in SMM_CODEC_CORS_ORIGINS (the Web UI's address).
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from smm_runtime.codec import AesGcmCodec, PayloadKeyError

MAX_BODY = 4 * 1024 * 1024  # Temporal payloads are at most 2 MB; a batch stays well under


@dataclass(frozen=True)
class CodecServerConfig:
    codec: AesGcmCodec
    tokens: Sequence[str]
    namespace: str
    cors_origins: Sequence[str] = ("http://localhost:8233",)


def _handle(config: CodecServerConfig, path: str, headers: Any,
            body: bytes) -> tuple[int, dict[str, Any]]:
    auth = headers.get("Authorization", "")
    token = auth[7:] if auth.startswith("Bearer ") else ""
    # Compare against every token, whatever matches, so timing says nothing about which.
    matches = [hmac.compare_digest(token.encode(), t.encode()) for t in config.tokens]
    if not token or not any(matches):
        return 401, {"error": "Authorization: a valid 'Bearer <codec token>' is required"}
    if path not in ("/decode", "/encode"):
        return 404, {"error": f"{path}: the codec server answers /decode and /encode"}
    namespace = headers.get("X-Namespace")
    if namespace and namespace != config.namespace:
        return 403, {"error": f"X-Namespace: this codec serves {config.namespace!r} only"}
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


class CodecServer:
    def __init__(self, host: str, port: int, config: CodecServerConfig) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass  # request lines could carry tokens in odd clients; keep them out of logs

            def _cors(self) -> None:
                origin = self.headers.get("Origin")
                if origin and origin in config.cors_origins:
                    self.send_header("Access-Control-Allow-Origin", origin)
                    self.send_header("Access-Control-Allow-Credentials", "true")
                    self.send_header("Access-Control-Allow-Headers",
                                     "Authorization, Content-Type, X-Namespace")
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

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self._answer(413, {"error": f"body: over {MAX_BODY} bytes"})
                    return
                self._answer(*_handle(config, self.path, self.headers, self.rfile.read(length)))

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
