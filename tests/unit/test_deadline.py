"""A long local run past its overall deadline fails naming what it was waiting for, and
stops what it started; one that ignores the verdict is ended with status 124."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from smm_local import deadline as deadline_module
from smm_local.deadline import Deadline, DeadlineExceeded


def test_past_its_deadline_a_run_is_told_what_it_was_waiting_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(deadline_module, "GRACE_S", 0.5)
    cleaned = []
    with pytest.raises(DeadlineExceeded) as late, Deadline("make soak", 0.3) as deadline:
        try:
            deadline.stage("the outcomes of 300 workflows")
            time.sleep(5)
        finally:
            cleaned.append(True)  # the run's own with-blocks still stop what they started
    assert str(late.value) == (
        "make soak: past its 0.3 s deadline while the outcomes of 300 workflows"
    )
    assert cleaned == [True]
    time.sleep(1.0)  # past the grace: a run that left its block is not ended (we are alive)


def test_a_run_within_its_deadline_is_untouched() -> None:
    with Deadline("make demo", 5) as deadline:
        deadline.stage("rendering")
        time.sleep(0.1)
    time.sleep(0.1)  # the alarm is off once the run is done


def test_a_run_that_ignores_the_verdict_exits_with_124() -> None:
    script = (
        "import time, smm_local.deadline as d\n"
        "d.GRACE_S = 0.5\n"
        "with d.Deadline('stuck run', 0.2) as x:\n"
        "    x.stage('a call that swallows everything')\n"
        "    while True:\n"
        "        try:\n"
        "            time.sleep(10)\n"
        "        except BaseException:\n"
        "            pass\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 124
    assert "stuck run: past its 0.2 s deadline while a call that swallows everything" in done.stderr
