"""A loopback proxy in front of a real service (Payload) that fails on request, the ways a
network and a busy server fail: refused before the service sees the request (503), or after
it committed the write — answered 502, or not answered until the client has given up.

The service behind it stays real: a write that "failed after the commit" is in its database,
so a client that retries must cope with its own earlier write, as it must in production.

    python -m smm_local.fault_proxy --port 9100 --target http://127.0.0.1:3000
    POST /_fault/control {"fault": "after_commit_502", "count": 3}   # the next 3 requests
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from smm_local.http_double import DoubleHandler, serve

FAULTS = ("before_503", "after_commit_502", "after_commit_hang")
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class FaultProxy:
    def __init__(self, target: str, hang_s: float) -> None:
        self.target, self.hang_s = target.rstrip("/"), hang_s
        self.lock = threading.Lock()
        self.controls: dict[str, Any] = {}
        self.injected: dict[str, int] = dict.fromkeys(FAULTS, 0)
        self.forwarded = 0

    def state(self) -> dict[str, Any]:
        return {
            "injected": dict(self.injected),
            "forwarded": self.forwarded,
            "pending": dict(self.controls),
        }

    def next_fault(self) -> str | None:
        """The fault for this request, if one is armed (each arming counts down)."""
        with self.lock:
            fault, count = self.controls.get("fault"), int(self.controls.get("count", 0))
            if fault not in FAULTS or count <= 0:
                return None
            self.controls["count"] = count - 1
            self.injected[fault] += 1
            return str(fault)


class ProxyHandler(DoubleHandler):
    double: FaultProxy

    def do_GET(self) -> None:
        self.forward()

    def do_POST(self) -> None:
        if self.route()[0] == "/_fault/control":
            with self.double.lock:
                self.double.controls = json.loads(self.body() or b"{}")
            self.send_json(200, {"ok": True})
            return
        self.forward()

    def do_PATCH(self) -> None:
        self.forward()

    def do_DELETE(self) -> None:
        self.forward()

    def forward(self) -> None:
        if self.route()[0] == "/_fault/state":
            with self.double.lock:
                self.send_json(200, self.double.state())
            return
        body = self.body()
        fault = self.double.next_fault()
        if fault == "before_503":
            self.send_json(503, {"errors": [{"message": "Service Unavailable (injected)"}]})
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        request = urllib.request.Request(
            self.double.target + self.path, data=body or None, headers=headers, method=self.command
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as resp:
                status, answer, kind = (
                    resp.status,
                    resp.read(),
                    resp.headers.get("Content-Type", "application/json"),
                )
        except urllib.error.HTTPError as err:
            status, answer, kind = (
                err.code,
                err.read(),
                err.headers.get("Content-Type", "application/json"),
            )
        with self.double.lock:
            self.double.forwarded += 1
        if fault == "after_commit_502":
            self.send_json(502, {"errors": [{"message": "Bad Gateway (injected)"}]})
            return
        if fault == "after_commit_hang":
            time.sleep(self.double.hang_s)  # the client's deadline passes first
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # it gave up
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--hang-s", type=float, default=30.0)
    args = parser.parse_args()
    serve(FaultProxy(args.target, args.hang_s), ProxyHandler, args.port)
    threading.Event().wait()


if __name__ == "__main__":
    main()
