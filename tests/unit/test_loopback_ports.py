"""Ports without a race: a port is handed out once per process however often the kernel
offers it again, and a port that answers from another process is never taken for the one
being started (once, the stack gave Temporal and the Postiz double one port)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from smm_local.loopback import free_port, listener_is, wait_for_port

LISTEN = (
    "import socket,time;s=socket.socket();s.bind(('127.0.0.1',{port}));s.listen();time.sleep(60)"
)
SLEEP = "import time;time.sleep(60)"


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        proc.kill()
        proc.wait()


def test_a_port_is_handed_out_once_per_process() -> None:
    ports = [free_port() for _ in range(2000)]
    assert len(set(ports)) == len(ports)
    for port in ports[:50]:  # and each was free when handed out
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_the_started_process_is_known_to_be_the_listener(
    processes: list[subprocess.Popen[bytes]],
) -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", LISTEN.format(port=port)])
    processes.append(server)
    wait_for_port(port, server, "the listener", timeout=20)
    assert listener_is(port, server) is True


def test_a_port_held_by_another_process_is_not_taken_for_the_one_started(
    processes: list[subprocess.Popen[bytes]],
) -> None:
    port = free_port()
    squatter = subprocess.Popen([sys.executable, "-c", LISTEN.format(port=port)])
    processes.append(squatter)
    wait_for_port(port, squatter, "the squatter", timeout=20)
    starting = subprocess.Popen([sys.executable, "-c", SLEEP])  # never listens on it
    processes.append(starting)
    assert listener_is(port, starting) is False
    with pytest.raises(RuntimeError, match=f"port {port} answers, but not from the double"):
        wait_for_port(port, starting, "the double", timeout=1.5)
