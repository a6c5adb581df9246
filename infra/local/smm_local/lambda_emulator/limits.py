"""Lambda's limits on an execution environment, enforced on the local process that plays it.

- ``MemorySize``: the environment's memory (every process it started, counted by PSS, so
  shared pages are not counted twice) is sampled every ``SAMPLE_S``; past the size the whole
  environment is killed, and the invocation fails as Lambda reports it: ``Runtime.OutOfMemory``
  ("Runtime exited with error: signal: killed").
- ``EphemeralStorage``: the environment's ``/tmp`` (its TMPDIR) is a tmpfs of exactly that
  size, mounted in a mount namespace of its own (``unshare``), so a write past it fails with
  ENOSPC as it does on Lambda. Where this machine does not allow the namespace, the emulator
  says so at start and runs without the limit (``tmp_limited`` in its stats is false).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

log = logging.getLogger("smm.emulator")

SAMPLE_S = 0.2
# sh: mount the sized tmpfs over $TMPDIR inside the new namespace, then become the runtime.
_MOUNT_THEN_EXEC = (
    'mount -t tmpfs -o "size=$1m,mode=1777" lambda-tmp "$TMPDIR" && shift && exec "$@"'
)


def _unshare() -> list[str]:
    found = shutil.which("unshare")
    return [found, "--user", "--map-root-user", "--mount", "--"] if found else []


@functools.cache
def tmp_can_be_limited() -> bool:
    """Whether this machine lets the emulator give an environment a sized /tmp."""
    prefix = _unshare()
    if not prefix:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        probe = subprocess.run(
            [*prefix, "sh", "-c", _MOUNT_THEN_EXEC, "sh", "1", "true"],
            env={**os.environ, "TMPDIR": tmp},
            capture_output=True,
            timeout=10,
        )
    if probe.returncode != 0:
        log.warning(
            "emulator: cannot give execution environments a sized /tmp (%s); /tmp is unlimited",
            probe.stderr.decode(errors="replace").strip(),
        )
    return probe.returncode == 0


def with_sized_tmp(argv: list[str], size_mb: int) -> list[str]:
    """``argv`` run with its TMPDIR a tmpfs of ``size_mb`` MB (when the machine allows)."""
    if not tmp_can_be_limited():
        return argv
    return [*_unshare(), "sh", "-c", _MOUNT_THEN_EXEC, "sh", str(size_mb), *argv]


def _sessions(leaders: set[int]) -> dict[int, list[int]]:
    """The processes of each of these sessions (one pass over /proc for all of them)."""
    found: dict[int, list[int]] = {leader: [] for leader in leaders}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            session = int(stat[stat.rindex(")") + 2 :].split()[3])  # field 6 of stat
            if session in found:
                found[session].append(int(entry))
    return found


def _pss_kb(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


class Watched:
    """One environment under watch: its limit, its peak, whether it was killed."""

    def __init__(self, leader: int, limit_mb: int) -> None:
        self.leader = leader
        self.limit_mb = limit_mb
        self.peak_mb = 0
        self.exceeded = False


class MemoryWatch:
    """One sampler for every environment: each ``SAMPLE_S``, the memory of every watched
    session by PSS; a session past its limit is killed whole (SIGKILL to its group)."""

    def __init__(self) -> None:
        self._watched: dict[int, Watched] = {}
        self._lock = threading.Lock()
        threading.Thread(target=self._run, daemon=True, name="memory-watch").start()

    def watch(self, leader: int, limit_mb: int) -> Watched:
        watched = Watched(leader, limit_mb)
        with self._lock:
            self._watched[leader] = watched
        return watched

    def unwatch(self, watched: Watched) -> None:
        with self._lock:
            self._watched.pop(watched.leader, None)

    def _run(self) -> None:
        while True:
            time.sleep(SAMPLE_S)
            with self._lock:
                watched = dict(self._watched)
            if not watched:
                continue
            for leader, pids in _sessions(set(watched)).items():
                each = watched[leader]
                used = sum(_pss_kb(pid) for pid in pids) // 1024
                each.peak_mb = max(each.peak_mb, used)
                if used > each.limit_mb and not each.exceeded:
                    each.exceeded = True
                    log.warning(
                        "environment %s used %d MB of its %d MB: killed (Runtime.OutOfMemory)",
                        leader,
                        used,
                        each.limit_mb,
                    )
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(leader, signal.SIGKILL)


@functools.cache
def memory_watch() -> MemoryWatch:
    return MemoryWatch()
