"""Shared plumbing of the local API doubles: a loopback JSON server that records requests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class DoubleHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    double: Any = None

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet: state is queryable
        pass

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def route(self) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        return parts.path, parse_qs(parts.query)

    def control(self) -> bool:
        """The double's own endpoints (not part of the real API): state and controls."""
        path, _ = self.route()
        if path == "/_double/state" and self.command == "GET":
            with self.double.lock:
                self.send_json(200, self.double.state())
            return True
        if path == "/_double/control" and self.command == "POST":
            with self.double.lock:
                self.double.controls.update(json.loads(self.body() or b"{}"))
            self.send_json(200, {"ok": True})
            return True
        return False


def serve(double: Any, handler: type[DoubleHandler], port: int) -> ThreadingHTTPServer:
    handler.double = double
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
