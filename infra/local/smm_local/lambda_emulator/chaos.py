"""Fault injection for the soak and the load tests: duplicate and late event delivery."""

from __future__ import annotations

import logging
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
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, settings: dict[str, Any]) -> None:
        with self.lock:
            self.duplicate_every = int(settings.get("duplicate_every", 0))
            self.late_every = int(settings.get("late_every", 0))
            self.late_delay_s = float(settings.get("late_delay_s", 20.0))

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
