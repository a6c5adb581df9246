"""The soak's Payload fault proxy fails the way it says: before the service sees a request,
or after the service committed it (502, or no answer before the client's deadline)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import pytest

from smm_local.fault_proxy import FaultProxy, ProxyHandler
from smm_local.http_double import serve
from smm_local.loopback import free_port

WRITES: list[bytes] = []


class Service(BaseHTTPRequestHandler):
    def log_message(self, fmt: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        WRITES.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(201)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


def post(url: str, timeout: float = 5) -> int:
    req = urllib.request.Request(
        url,
        data=json.dumps({"n": 1}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code


@pytest.fixture()
def proxy() -> str:
    service = ThreadingHTTPServer(("127.0.0.1", 0), Service)
    Thread(target=service.serve_forever, daemon=True).start()
    port = free_port()
    serve(FaultProxy(f"http://127.0.0.1:{service.server_port}", hang_s=2.0), ProxyHandler, port)
    WRITES.clear()
    return f"http://127.0.0.1:{port}"


def arm(proxy: str, fault: str, count: int = 1) -> None:
    req = urllib.request.Request(
        f"{proxy}/_fault/control",
        method="POST",
        data=json.dumps({"fault": fault, "count": count}).encode(),
    )
    urllib.request.urlopen(req, timeout=5).close()


def test_refused_before_the_service_sees_it(proxy: str) -> None:
    arm(proxy, "before_503")
    assert post(f"{proxy}/api/posts") == 503 and WRITES == []
    assert post(f"{proxy}/api/posts") == 201 and len(WRITES) == 1  # one armed, one spent


def test_failed_after_the_commit(proxy: str) -> None:
    arm(proxy, "after_commit_502")
    assert post(f"{proxy}/api/posts") == 502
    assert len(WRITES) == 1  # the service has the write all the same


def test_unanswered_after_the_commit(proxy: str) -> None:
    arm(proxy, "after_commit_hang")
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        post(f"{proxy}/api/posts", timeout=0.5)
    assert len(WRITES) == 1
