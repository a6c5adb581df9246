"""`make bench` (dispatch throughput): what one worker costs per dispatched activity and how
many it pushes, through the Lambda path against in-worker activities on the same server in
the same run.

Each side runs ``activities`` no-op activities as workflows that fan out 50 at once (as a
render fans out its segments), 8 workflows in flight: the rate is activities completed per
second of wall time, and the cost is the worker process's own CPU (user + system, from
/proc) over the run divided by the activities — everything the worker did for them: the
workflows' tasks, the dispatch (boto3's Invoke) or the in-worker activity, the completions.
Then one more Lambda-path run under py-spy (not counted: sampling slows it) says where the
worker's Python time goes.
"""

from __future__ import annotations

import asyncio
import collections
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from temporalio.client import Client

from orchestrator.dispatch.noop import NoopFanOutInput, NoopFanOutWorkflow
from smm_runtime.contract import TASK_QUEUE
from tests.bench.results import RUNS, Figure, report

FAN_OUT = 50
IN_FLIGHT = 8  # workflows at once: 400 activities in flight


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def one_side(
    client: Client, worker_pid: int, via: str, activities: int
) -> tuple[float, float]:
    """(activities per second, worker CPU ms per activity) for ``activities`` through ``via``."""
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def workflow() -> int:
        async with gate:
            return await client.execute_workflow(
                NoopFanOutWorkflow.run,
                NoopFanOutInput(count=FAN_OUT, via=via),
                id=f"bench-fan-{via}-{uuid.uuid4().hex[:8]}",
                task_queue=TASK_QUEUE,
            )

    cpu_before, started = cpu_seconds(worker_pid), time.monotonic()
    done = sum(await asyncio.gather(*[workflow() for _ in range(activities // FAN_OUT)]))
    elapsed, cpu = time.monotonic() - started, cpu_seconds(worker_pid) - cpu_before
    return done / elapsed, 1000 * cpu / done


async def dispatch_throughput(client: Client, worker_pid: int, activities: int) -> None:
    await one_side(client, worker_pid, "lambda", 500)  # warm: functions, caches, the pool
    await one_side(client, worker_pid, "worker", 500)
    runs: list[list[Figure]] = []
    for run in range(RUNS):
        sides = {}
        # Alternate which side goes first, so drift on the machine hits both alike.
        for via in ("lambda", "worker") if run % 2 == 0 else ("worker", "lambda"):
            sides[via] = await one_side(client, worker_pid, via, activities)
        (lam_rate, lam_cpu), (wrk_rate, wrk_cpu) = sides["lambda"], sides["worker"]
        print(
            f"(throughput) run {run + 1}: {activities} no-op activities, {FAN_OUT} per "
            f"workflow, {IN_FLIGHT * FAN_OUT} in flight: Lambda path {lam_rate:.0f}/s at "
            f"{lam_cpu:.2f} ms of worker CPU each; in-worker {wrk_rate:.0f}/s at "
            f"{wrk_cpu:.2f} ms; ratio {lam_rate / wrk_rate:.2f}"
        )
        runs.append(
            [
                ("dispatch.worker_cpu_ms_per_activity", lam_cpu, "ms", "lower"),
                ("dispatch.in_worker_cpu_ms_per_activity", wrk_cpu, "ms", "lower"),
                ("dispatch.throughput_per_s", lam_rate, "activities/s", "higher"),
                ("dispatch.in_worker_throughput_per_s", wrk_rate, "activities/s", "higher"),
                ("dispatch.throughput_ratio", lam_rate / wrk_rate, "x", "higher"),
            ]
        )
    report(runs)
    print("    targets: <= 1 ms of worker CPU per dispatch; throughput ratio >= 0.8")
    await profile(client, worker_pid, activities)


async def profile(client: Client, worker_pid: int, activities: int) -> None:
    """One more Lambda-path run with py-spy sampling the worker: its Python time by package
    and the hottest functions (the SDK's Rust core is not Python and is not sampled)."""
    spy = Path(sys.executable).with_name("py-spy")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "worker.txt"
        sampler = subprocess.Popen(
            [
                *(str(spy), "record", "--pid", str(worker_pid), "--rate", "250"),
                *("--nonblocking", "--format", "raw", "--output", str(out)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await asyncio.sleep(1)  # attached
        await one_side(client, worker_pid, "lambda", activities)
        sampler.send_signal(signal.SIGINT)  # py-spy writes its samples as it stops
        sampler.wait(timeout=60)
        lines = out.read_text().splitlines() if out.exists() else []
    if not lines:
        print("    profile: py-spy recorded nothing (it needs ptrace rights on the worker)")
        return
    by_package: collections.Counter[str] = collections.Counter()
    by_function: collections.Counter[str] = collections.Counter()
    for line in lines:
        stack, _, samples = line.rpartition(" ")
        leaf = stack.split(";")[-1]
        by_package[package(stack)] += int(samples)
        by_function[re.sub(r":\d+\)$", ")", leaf) or "(native code)"] += int(samples)
    total = sum(by_package.values())
    print(f"    profile of the worker's Python threads (py-spy, {total} samples at 250 Hz):")
    for name, share in by_package.most_common(8):
        print(f"      {100 * share / total:5.1f} %  {name}")
    print("    hottest functions (own time):")
    for name, share in by_function.most_common(8):
        print(f"      {100 * share / total:5.1f} %  {name}")


PACKAGES = (
    ("botocore", "boto3 Invoke (botocore, urllib3, boto3)"),
    ("urllib3", "boto3 Invoke (botocore, urllib3, boto3)"),
    ("boto3", "boto3 Invoke (botocore, urllib3, boto3)"),
    ("temporalio/worker/workflow_sandbox", "Temporal SDK: the workflow sandbox"),
    ("temporalio", "Temporal SDK (Python side)"),
    ("pydantic", "pydantic (payloads)"),
    ("orchestrator/", "ours: orchestrator"),
    ("smm_runtime/", "ours: smm_runtime"),
    ("concurrent/futures", "threads (to_thread hand-off)"),
    ("asyncio", "asyncio event loop"),
)


def package(stack: str) -> str:
    """Whose time a sample is: the innermost frame from a package we name (a library's
    frames under our call count as the library's)."""
    for frame in reversed(stack.split(";")):
        for needle, name in PACKAGES:
            if needle in frame:
                return name
    return "other (standard library, interpreter)"
