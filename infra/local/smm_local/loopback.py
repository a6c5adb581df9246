"""Reaching the local stack's processes on loopback: a free port, waiting for one to open,
and the JSON control endpoints of the emulator and the doubles."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[Any], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} while starting")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not open port {port} within {timeout:.0f}s")


def get_json(url: str) -> dict[str, Any]:
    """GET a control endpoint of a local process (the emulator, a double) on loopback."""
    with urllib.request.urlopen(url, timeout=5) as resp:
        answer: dict[str, Any] = json.load(resp)
    return answer


def post_json(url: str, body: dict[str, Any]) -> None:
    """POST settings to a control endpoint of a local process on loopback."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(req, timeout=5).close()
