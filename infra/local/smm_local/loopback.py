"""Reaching the local stack's processes on loopback: a free port, waiting for one to open,
and the JSON control endpoints of the emulator and the doubles."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

# Every port this process handed out. Binding port 0 and letting it go is how a free port is
# found, but the kernel may give the same port to the next bind: once, the stack gave the
# Temporal server and the Postiz double one port, the double died "Address already in use",
# and the wait took Temporal for the double. A port is handed out once per process.
_handed_out: set[int] = set()
_handing = threading.Lock()


def free_port() -> int:
    """A loopback port nothing listens on now and that this process never handed out."""
    with _handing:
        for _ in range(1000):
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = int(sock.getsockname()[1])
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise RuntimeError("no free loopback port left that this process has not handed out")


def _listening_inodes(port: int) -> set[str]:
    """The socket inodes listening on ``port`` (Linux's /proc/net/tcp{,6}; state 0A)."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(fields[9])
    return found


def _family(root: int) -> set[int]:
    """``root`` and every process descended from it."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            after_name = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(after_name[1])
    family, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    return family


def listener_is(port: int, proc: subprocess.Popen[Any]) -> bool | None:
    """Whether ``proc`` (or a process it started) is what listens on ``port``; None where
    the system cannot tell (no /proc)."""
    if not Path("/proc/net/tcp").exists():
        return None
    inodes = _listening_inodes(port)
    for pid in _family(proc.pid):
        try:
            links = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            return True
    return False


def wait_for_port(port: int, proc: subprocess.Popen[Any], what: str, timeout: float = 60) -> None:
    """Wait until ``proc`` itself listens on ``port``: a port that answers from some other
    process is never taken for ``what`` (past the timeout, the error says so)."""
    deadline = time.monotonic() + timeout
    foreign = False
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} while starting")
        with socket.socket() as sock:
            answers = sock.connect_ex(("127.0.0.1", port)) == 0
        if answers:
            foreign = listener_is(port, proc) is False
            if not foreign:
                return
        time.sleep(0.1)
    if foreign:
        raise RuntimeError(
            f"port {port} answers, but not from {what} (pid {proc.pid}): another process holds it"
        )
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
