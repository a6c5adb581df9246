"""The emulator's CPU per environment (opt-in for the benches): every thread of a pinned
process, and what it starts afterwards, runs on the one CPU it was given; busy environments
spread over the CPUs; the setting never reaches a function."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from smm_local.lambda_emulator.cpus import SETTING, CpuAllotter, pin
from smm_local.lambda_emulator.emulator import Emulator
from smm_local.template import Resolver, functions, load_template, parameter_defaults

ROOT = Path(__file__).resolve().parents[2]

# A process with a second thread that, once pinned, starts a child and reports its CPUs.
PROGRAM = """
import os, subprocess, sys, threading, time
threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
print("up", flush=True)
sys.stdin.readline()
code = "import os; print(sorted(os.sched_getaffinity(0)))"
child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
print(child.strip(), flush=True)
"""


def allowed(pid: int) -> list[set[int]]:
    return [os.sched_getaffinity(int(t.name)) for t in Path(f"/proc/{pid}/task").iterdir()]


def test_a_pinned_environment_and_what_it_starts_run_on_its_one_cpu() -> None:
    cpu = max(os.sched_getaffinity(0))
    proc = subprocess.Popen(
        [sys.executable, "-c", PROGRAM], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == "up"
        time.sleep(0.1)
        assert len(allowed(proc.pid)) >= 2  # the main thread and the sleeper
        pin(proc.pid, cpu)
        assert allowed(proc.pid) == [{cpu}] * len(allowed(proc.pid))
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == f"[{cpu}]"  # the child inherited it
    finally:
        proc.kill()
        proc.wait()


def test_busy_environments_spread_over_the_cpus() -> None:
    cpus = CpuAllotter()
    count = len(os.sched_getaffinity(0))
    taken = [cpus.take() for _ in range(2 * count)]
    assert sorted(taken) == sorted(sorted(os.sched_getaffinity(0)) * 2)
    cpus.give(taken[0])
    assert cpus.take() == taken[0]  # the least loaded again


def test_the_setting_is_the_emulators_and_never_reaches_a_function() -> None:
    data = load_template(ROOT / "template.yaml")
    specs = functions(data, ROOT, Resolver(parameter_defaults(data), {}, region="us-east-1"))
    pinned = Emulator(specs, {SETTING: "1", "SMM_X": "y"})
    plain = Emulator(specs, {"SMM_X": "y"})
    for pool in pinned.pools.values():
        assert pool.cpus is not None and SETTING not in pool.env and pool.env["SMM_X"] == "y"
    assert all(pool.cpus is None for pool in plain.pools.values())
