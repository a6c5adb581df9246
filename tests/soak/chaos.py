"""The chaos driver of the soak: kills the workers (two of them, in turn), restarts the
Temporal server, kills functions mid-render and makes Postiz fail, on a schedule, while the
load runs."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, TypeVar

from smm_local.fault_proxy import FAULTS
from smm_local.loopback import post_json
from smm_local.stack import LocalStack
from tests.soak.report import SoakReport

WORKERS = 2
C = TypeVar("C")


def config_from_argv(defaults: C, description: str, argv: list[str] | None) -> C:
    """A soak's dataclass config with each field a `--flag` (defaults from ``defaults``)."""
    parser = argparse.ArgumentParser(description=description)
    fields = asdict(defaults)  # type: ignore[call-overload]
    for name, value in fields.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    args = parser.parse_args(argv)
    return type(defaults)(**{k: getattr(args, k) for k in fields})


@dataclass
class SoakConfig:
    videos: int = 100
    images: int = 100
    publishes: int = 100
    worker_kills: int = 15
    server_restarts: int = 2  # the last one by SIGKILL
    # Of the render functions' async invocations, the share the emulator kills mid-work.
    function_kill_fraction: float = 0.10
    kill_every_s: float = 15.0
    duplicate_every: int = 10  # with late_every: 20 % of events delivered twice
    late_every: int = 10
    late_delay_s: float = 12.0
    postiz_faults: bool = True
    payload_faults: bool = True
    deadline_s: float = 1800.0


class Chaos:
    def __init__(
        self,
        stack: LocalStack,
        env: dict[str, str],
        config: SoakConfig,
        report: SoakReport,
        payload_proxy: str,
    ) -> None:
        self.stack, self.env, self.config, self.report = stack, env, config, report
        self.payload_proxy = payload_proxy
        # Two workers on the queue, as production runs several: the hold sweeper, the
        # semaphores' configuration and the claims must hold with more than one.
        self.workers = [stack.start_worker(env, name=f"soak-worker-{n}") for n in range(WORKERS)]
        self.done = asyncio.Event()
        # The reviewer approves once every worker kill has happened, so the load cannot end
        # before the chaos does (kills while a post is created: tests/integration/test_publish).
        self.kills_done = asyncio.Event()

    def note(self, what: str) -> None:
        """Each act of chaos, in the stack log beside what it caused."""
        if self.stack.log is not None:
            self.stack.log.write(f"{datetime.now().isoformat()} soak-chaos {what}\n")
            self.stack.log.flush()

    def kill_worker(self, round_: int = 0) -> None:
        """SIGKILL one of the workers, in turn, and start another in its place."""
        n = round_ % len(self.workers)
        worker = self.workers[n]
        self.note(f"SIGKILL worker {worker.pid}")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        self.workers[n] = self.stack.start_worker(self.env, name=f"soak-worker-{n}")
        self.note(f"started worker {self.workers[n].pid}")
        self.report.worker_kills += 1

    def supervise(self) -> None:
        """What a container runtime does: a worker that exited is started again."""
        for n, worker in enumerate(self.workers):
            if worker.poll() is not None:
                self.note(f"worker {worker.pid} exited with {worker.returncode}; starting another")
                self.workers[n] = self.stack.start_worker(self.env, name=f"soak-worker-{n}")

    def postiz_fault(self, round_: int) -> None:
        """One fault at a time, in turn: refused (429), committed then answered 500,
        committed then no answer at all, slow (past the create's HTTP timeout), a post
        Postiz sits on in QUEUE for 20 s (its workers down, then back), and a post Postiz
        fails to publish (ERROR)."""
        faults: list[dict[str, Any]] = [
            {"force_429": 2},
            {"fail_after_commit": True},
            {"drop_answer": True},
            {"stick_next": 1, "stuck_for_s": 20},
            {"create_delay_s": 3},
            {"create_delay_s": 0},
            {"fail_next": ["soak: the platform refused the post"]},
        ]
        fault = faults[round_ % len(faults)]
        self.note(f"Postiz fault {fault}")
        self.stack.double_control("postiz", **fault)
        self.report.postiz_faults += 1

    def payload_fault(self, round_: int) -> None:
        """In turn: the next two Payload requests refused before Payload sees them (503),
        answered 502 after Payload committed them, or left unanswered past the worker's
        deadline after the commit."""
        fault = FAULTS[round_ % len(FAULTS)]
        self.note(f"Payload fault {fault} x2")
        post_json(f"{self.payload_proxy}/_fault/control", {"fault": fault, "count": 2})

    async def run(self) -> None:
        kills = self.config.worker_kills
        restarts = self.config.server_restarts
        restart_at = {max(1, kills * (n + 1) // (restarts + 1)): n for n in range(restarts)}
        round_ = 0
        while not self.done.is_set() and round_ < kills:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.done.wait(), self.config.kill_every_s)
            if self.done.is_set():
                break
            await asyncio.to_thread(self.supervise)
            round_ += 1
            if self.config.payload_faults:
                await asyncio.to_thread(self.payload_fault, round_)
            if self.config.postiz_faults:
                await asyncio.to_thread(self.postiz_fault, round_)
            if round_ <= kills:
                await asyncio.to_thread(self.kill_worker, round_)
            if round_ >= kills:
                self.kills_done.set()
            if round_ in restart_at and self.report.server_restarts == restart_at[round_]:
                crash = self.report.server_restarts == restarts - 1 and restarts > 1
                self.note(f"restarting the Temporal server ({'SIGKILL' if crash else 'SIGTERM'})")
                await asyncio.to_thread(self.stack.restart_temporal, 1.0, crash)
                self.note("Temporal server back")
                self.report.server_restarts += 1
        self.kills_done.set()
        self.note("chaos over")
        # Keep supervising until the load is done: a worker must stay up to finish it.
        while not self.done.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.done.wait(), 2.0)
            await asyncio.to_thread(self.supervise)

    def stop(self) -> None:
        self.done.set()
        for worker in self.workers:
            worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
