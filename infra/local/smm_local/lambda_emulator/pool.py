"""A function's pool of warm execution environments, its event queue and its stats."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from smm_local.lambda_emulator.cpus import CpuAllotter, pin
from smm_local.lambda_emulator.host import (
    DEFAULT_CONCURRENCY,
    IDLE_TTL_S,
    Host,
    Outcome,
)
from smm_local.template import FunctionSpec

log = logging.getLogger("smm.emulator")


@dataclass
class Stats:
    invocations: int = 0
    cold_starts: int = 0
    warm_starts: int = 0
    errors: int = 0
    timeouts: int = 0
    throttles: int = 0
    accepted_events: int = 0
    peak_active: int = 0
    duplicated_events: int = 0
    late_events: int = 0
    out_of_memory: int = 0  # environments killed for passing MemorySize
    expired_events: int = 0  # older than MaximumEventAgeInSeconds: to the destination


@dataclass
class FunctionPool:
    spec: FunctionSpec
    env: dict[str, str]
    # Where an event goes after its last failed attempt (the on-failure destination).
    # (spec, event, the last outcome or None when it expired unrun, attempts made)
    on_failure: Callable[[FunctionSpec, Any, Outcome | None, int], None]
    stats: Stats = field(default_factory=Stats)
    idle: list[Host] = field(default_factory=list)
    busy: set[Host] = field(default_factory=set)
    events: queue.Queue[tuple[Any, float, int]] = field(default_factory=queue.Queue)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Chaos (the emulator's): after how long to kill an async invocation, and the count.
    kill_delay: Callable[[str], float | None] | None = None
    count_kill: Callable[[], None] | None = None
    # A CPU per busy environment (smm_local.lambda_emulator.cpus), when asked for.
    cpus: CpuAllotter | None = None

    @property
    def concurrency(self) -> int:
        return self.spec.reserved_concurrency or DEFAULT_CONCURRENCY

    def start_event_workers(self) -> None:
        for index in range(self.concurrency):
            threading.Thread(
                target=self._event_loop, name=f"{self.spec.logical_id}-{index}", daemon=True
            ).start()

    def try_invoke(self, event: Any) -> Outcome | None:
        """A synchronous invocation; None when the function is at its concurrency limit."""
        with self.lock:
            if len(self.busy) >= self.concurrency:
                self.stats.throttles += 1
                return None
            host = self._take_host_locked()
        return self._run(host, event)

    def _take_host_locked(self) -> Host | None:
        while self.idle:
            host = self.idle.pop()
            if host.alive:
                self.busy.add(host)
                self.stats.peak_active = max(self.stats.peak_active, len(self.busy))
                return host
        return None  # a cold start, created outside the lock

    def _run(self, host: Host | None, event: Any, chaos: bool = False) -> Outcome:
        started = time.monotonic()
        cold = host is None
        if host is None:
            host = Host(self.spec, self.env)
            with self.lock:
                self.busy.add(host)
                self.stats.peak_active = max(self.stats.peak_active, len(self.busy))
            failed = host.start(self.spec.timeout_s)
            if failed is not None:
                with self.lock:
                    self.busy.discard(host)
                    self.stats.invocations += 1
                    self.stats.errors += 1
                return failed
        delay = self.kill_delay(self.spec.logical_id) if chaos and self.kill_delay else None
        timer = (
            threading.Timer(delay, self._kill_mid_invocation, (host,))
            if delay is not None
            else None
        )
        if timer is not None:
            timer.daemon = True
            timer.start()
        cpu = self.cpus.take() if self.cpus is not None else None
        if cpu is not None:
            pin(host.proc.pid, cpu)
        try:
            outcome = host.invoke(
                event, str(uuid.uuid4()), self.spec.timeout_s - (time.monotonic() - started)
            )
        finally:
            if cpu is not None and self.cpus is not None:
                self.cpus.give(cpu)
        if timer is not None:
            timer.cancel()
        outcome.cold = cold
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
        with self.lock:
            self.busy.discard(host)
            self.stats.invocations += 1
            self.stats.cold_starts += cold
            self.stats.warm_starts += not cold
            if not outcome.ok:
                self.stats.errors += 1
                self.stats.timeouts += outcome.error_type == "Sandbox.Timedout"
                self.stats.out_of_memory += outcome.out_of_memory
            alive = host.alive
            if alive:
                self.idle.append(host)
        if not alive:
            host.kill()  # reap the process and remove its /tmp
        return outcome

    def _kill_mid_invocation(self, host: Host) -> None:
        with self.lock:
            running = host in self.busy and host.alive
        if not running:
            return  # it finished first: not a kill (the next invocation is armed instead)
        log.warning("%s: chaos: SIGKILL pid %s mid-invocation", self.spec.logical_id, host.proc.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(host.proc.pid, signal.SIGKILL)
        if self.count_kill is not None:
            self.count_kill()

    def _event_loop(self) -> None:
        while True:
            event, accepted, attempt = self.events.get()
            if time.monotonic() - accepted > self.spec.max_event_age_s:
                with self.lock:
                    self.stats.expired_events += 1
                log.warning(
                    "%s: event older than MaximumEventAgeInSeconds: not run (EventAgeExceeded)",
                    self.spec.logical_id,
                )
                if self.spec.on_failure:
                    self.on_failure(self.spec, event, None, attempt)
                continue
            with self.lock:
                host = self._take_host_locked()
            outcome = self._run(host, event, chaos=True)
            if outcome.ok:
                continue
            log.warning(
                "%s: async invocation failed: %s: %s",
                self.spec.logical_id,
                outcome.error_type,
                outcome.error_message,
            )
            if attempt < self.spec.max_retry_attempts:
                time.sleep(1.0)  # Lambda waits about a minute; locally a second will do
                self.events.put((event, accepted, attempt + 1))
            elif self.spec.on_failure:
                self.on_failure(self.spec, event, outcome, attempt + 1)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                **self.stats.__dict__,
                "active": len(self.busy),
                "idle": len(self.idle),
                "queued": self.events.qsize(),
                "active_pids": sorted(h.proc.pid for h in self.busy),
            }

    def reap_idle(self) -> None:
        with self.lock:
            stale = [h for h in self.idle if time.monotonic() - h.last_used > IDLE_TTL_S]
            self.idle = [h for h in self.idle if h not in stale]
        for host in stale:
            host.kill()

    def recycle_idle(self) -> int:
        """Stop every idle environment (busy ones finish their work); how many stopped."""
        with self.lock:
            idle, self.idle = self.idle, []
        for host in idle:
            host.kill()
        return len(idle)

    def shutdown(self) -> None:
        with self.lock:
            hosts = [*self.idle, *self.busy]
            self.idle.clear()
        for host in hosts:
            host.kill()
