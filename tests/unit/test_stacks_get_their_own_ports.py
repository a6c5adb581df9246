"""Many local stacks, started side by side again and again, never give two processes one port:
every port a stack hands out is distinct, and each server started on one is verified to be
the process listening there (once, Temporal and the Postiz double shared port 41093 and the
soak waited forever on Temporal's gRPC port)."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from smm_local.loopback import listener_is, wait_for_port
from smm_local.stack import LocalStack

ROUNDS, SIDE_BY_SIDE = 4, 5


def servers(stack: LocalStack) -> dict[str, tuple[int, list[str]]]:
    """The stack's loopback servers that start in a second (its doubles and moto)."""
    python = sys.executable
    return {
        "moto": (stack.moto_port, [python, "-m", "smm_local.moto_faithful", "-p",
                                   str(stack.moto_port)]),
        "postiz": (stack.postiz_port, [python, "-m", "smm_local.postiz_double", "--port",
                                       str(stack.postiz_port), "--api-key", "k"]),
        "inbox": (stack.inbox_port, [python, "-m", "smm_local.inbox_double", "--port",
                                     str(stack.inbox_port)]),
    }  # fmt: skip


def start_and_verify(stack: LocalStack) -> list[int]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        for what, (port, argv) in servers(stack).items():
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            started.append(proc)
            wait_for_port(port, proc, what, timeout=60)  # raises if another process answers
            assert listener_is(port, proc) is True
        return [port for port, _ in servers(stack).values()]
    finally:
        for proc in started:
            proc.kill()
            proc.wait()


def test_stacks_started_side_by_side_again_and_again_get_ports_of_their_own(
    tmp_path: Path,
) -> None:
    handed_out: list[int] = []
    for round_ in range(ROUNDS):
        stacks = [LocalStack(state_dir=tmp_path / f"{round_}-{n}") for n in range(SIDE_BY_SIDE)]
        for stack in stacks:  # every port a stack holds, the Temporal server's included
            handed_out += [stack.temporal_port, stack.http_port, stack.moto_port,
                           stack.lambda_port, stack.postiz_port, stack.payload_port,
                           stack.inbox_port]  # fmt: skip
        with ThreadPoolExecutor(SIDE_BY_SIDE) as pool:
            listening = [port for ports in pool.map(start_and_verify, stacks) for port in ports]
        assert len(set(listening)) == len(listening)
    assert len(set(handed_out)) == len(handed_out)
