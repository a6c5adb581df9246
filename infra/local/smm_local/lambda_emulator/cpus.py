"""A CPU of its own for each busy execution environment (opt-in, for the benches).

On Lambda, execution environments do not share CPUs: each gets the vCPUs its memory size
buys. Processes on one machine do share them, and FFmpeg 7's command line runs its demuxers,
decoders, filter graph, encoder and muxer in threads of their own, so a thread count alone
(SMM_FFMPEG_THREADS) does not keep a render to one core. With this on, each invocation runs
pinned to the CPU the fewest busy environments hold (every thread of the environment's
process, and so every FFmpeg it starts): two renders on a two-core machine run side by side
as two one-vCPU environments would, not interleaved. Off by default; the functions never see
it (``SMM_EMULATOR_CPU_PER_ENVIRONMENT=1`` among the emulator's --env settings)."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

SETTING = "SMM_EMULATOR_CPU_PER_ENVIRONMENT"


class CpuAllotter:
    def __init__(self) -> None:
        self._load = {cpu: 0 for cpu in sorted(os.sched_getaffinity(0))}
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            cpu = min(self._load, key=lambda c: (self._load[c], c))
            self._load[cpu] += 1
            return cpu

    def give(self, cpu: int) -> None:
        with self._lock:
            self._load[cpu] -= 1


def pin(pid: int, cpu: int) -> None:
    """Every thread of ``pid`` to ``cpu``; threads and children it starts later inherit it."""
    for tid in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError):  # a thread that just ended
            os.sched_setaffinity(int(tid.name), {cpu})
