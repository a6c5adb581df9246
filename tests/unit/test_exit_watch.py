"""A job that needs a process (the demo and its worker) stops, saying so, when the process
dies, instead of waiting on its workflows forever."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from smm_local.exit_watch import ExitWatch


def test_a_process_that_dies_interrupts_the_wait_and_its_status_is_kept() -> None:
    # Python's own SIGINT handler, as a script has it: an asyncio Runner left by another
    # test in this process swallows the first SIGINT to cancel its own main task.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _dies_and_interrupts()
    finally:
        signal.signal(signal.SIGINT, previous)


def _dies_and_interrupts() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time, sys; time.sleep(0.3); sys.exit(3)"]
    )
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), ExitWatch(proc, every_s=0.05) as watch:
        time.sleep(30)  # a wait that would otherwise never end
    assert watch.died == 3
    assert time.monotonic() - started < 10


def test_a_process_that_outlives_the_job_interrupts_nothing() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with ExitWatch(proc, every_s=0.05) as watch:
            time.sleep(0.3)
        time.sleep(0.2)  # after the job: the watch has stopped looking
        assert watch.died is None
    finally:
        proc.kill()
        proc.wait()
