"""Fault injection for the soak and the load tests: duplicate and late event delivery, and
function processes killed mid-invocation."""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from smm_local.lambda_emulator.pool import FunctionPool

log = logging.getLogger("smm.emulator")


@dataclass
class Chaos:
    """Lambda's async delivery is at least once: on request the emulator delivers some
    events twice, at once, and some again late (when their task token has gone stale), so
    tests can prove every function is idempotent. Off unless `POST /_emulator/chaos` sets it.
    """

    duplicate_every: int = 0
    late_every: int = 0
    late_delay_s: float = 20.0
    accepted: int = 0
    # Kill this fraction of the named functions' async invocations mid-work (SIGKILL of the
    # process, as an out-of-memory kill or a crashed runtime ends one).
    kill_fraction: float = 0.0
    kill_functions: frozenset[str] = frozenset()
    kill_within_s: float = 1.0
    started: int = 0
    killed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, settings: dict[str, Any]) -> None:
        with self.lock:
            self.duplicate_every = int(settings.get("duplicate_every", 0))
            self.late_every = int(settings.get("late_every", 0))
            self.late_delay_s = float(settings.get("late_delay_s", 20.0))
            self.kill_fraction = float(settings.get("kill_fraction", 0.0))
            self.kill_functions = frozenset(settings.get("kill_functions", ()))
            self.kill_within_s = float(settings.get("kill_within_s", 1.0))

    def kill_delay(self, function: str) -> float | None:
        """For an invocation of ``function`` about to start: after how long to kill it, or
        None. An armed kill that finds the invocation already over does not count, so the
        next one is armed instead: the fraction is of invocations actually killed."""
        with self.lock:
            if function not in self.kill_functions or self.kill_fraction <= 0:
                return None
            self.started += 1
            if self.killed >= self.kill_fraction * self.started:
                return None
        return random.uniform(0.05, self.kill_within_s)

    def count_kill(self) -> None:
        with self.lock:
            self.killed += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"kill_candidates": self.started, "killed_mid_invocation": self.killed}

    def after_accept(self, pool: FunctionPool, event: Any) -> None:
        with self.lock:
            self.accepted += 1
            duplicate = self.duplicate_every and self.accepted % self.duplicate_every == 0
            late = self.late_every and self.accepted % self.late_every == 0
            delay = self.late_delay_s
        if duplicate:
            with pool.lock:
                pool.stats.duplicated_events += 1
            pool.events.put((event, time.monotonic(), 0))
        if late:

            def redeliver() -> None:
                with pool.lock:
                    pool.stats.late_events += 1
                pool.events.put((event, time.monotonic(), 0))

            timer = threading.Timer(delay, redeliver)
            timer.daemon = True
            timer.start()
