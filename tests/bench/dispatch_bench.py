"""`make bench`: what the Lambda dispatch path costs, measured side by side in one run.

(a) Median latency of a no-op activity, warm, through the Lambda path (dispatch -> emulator
    -> function -> async completion) against the same activity run inside the worker, on the
    same Temporal server in the same run; latency is ActivityTaskScheduled -> Completed in
    the workflow history, so both sides pay the same workflow overhead.
(b) The worker's resident memory with 1,000 dispatched activities in flight at once
    (`make bench-inflight`: 10,000), its CPU while they wait, how long a dispatch waited
    for the worker (schedule to start, sampled), and what an evicted workflow costs: a query
    to the oldest (evicted from the cache, replayed from history) against the newest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from orchestrator.dispatch.noop import NoopInput, NoopWorkflow
from smm_local.stack import LocalStack
from smm_runtime.contract import TASK_QUEUE
from smm_runtime.contract.kinds import NoopRequest
from smm_runtime.contract.workflow_io import DispatchPolicy
from smm_runtime.process_exit import run_and_exit
from smm_runtime.temporal_conn import connect
from tests.bench.results import Figure, repeated_async
from tests.bench.throughput import cpu_seconds, dispatch_throughput

HOLD = DispatchPolicy(heartbeat_timeout_s=600, start_to_close_s=3600, max_attempts=1)


async def activity_latency_ms(handle: WorkflowHandle[Any, Any]) -> float:
    scheduled = completed = None
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.event_time.ToDatetime()
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            completed = event.event_time.ToDatetime()
    assert scheduled and completed, "the activity did not complete"
    return (completed - scheduled).total_seconds() * 1000


async def run_noop(client: Client, via: str) -> float:
    handle = await client.start_workflow(
        NoopWorkflow.run,
        NoopInput(via=via, request=NoopRequest(echo="bench")),
        id=f"bench-{via}-{uuid.uuid4().hex[:8]}",
        task_queue=TASK_QUEUE,
    )
    await handle.result()
    return await activity_latency_ms(handle)


async def query_ms(handle: WorkflowHandle[Any, Any]) -> float:
    started = time.monotonic()
    await handle.query("__stack_trace")  # answered by the worker: replays an evicted one
    return (time.monotonic() - started) * 1000


async def schedule_to_start_ms(handle: WorkflowHandle[Any, Any]) -> float | None:
    """How long the dispatch waited for the worker: the server writes ActivityTaskStarted
    only when an activity closes, so this reads the pending activity's own times (None when
    it already ended: an event that waited in Lambda's queue past its maximum age is dropped
    and the dispatch-failure function fails the activity, as on AWS)."""
    pending = (await handle.describe()).raw_description.pending_activities
    if not pending:
        return None
    return (
        pending[0].last_started_time.ToDatetime() - pending[0].scheduled_time.ToDatetime()
    ).total_seconds() * 1000


def p(samples: list[float], q: float) -> float:
    return sorted(samples)[min(len(samples) - 1, int(q * len(samples)))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def describe(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=10)
    return f"median {statistics.median(samples):7.1f} ms   p90 {q[-1]:7.1f} ms   n={len(samples)}"


def loopback_wake_ms(idle_s: float, rounds: int = 30) -> float:
    """This machine's cost of waking an idle process: the median round trip of an empty HTTP
    request to a trivial server in another process, sent after ``idle_s`` of silence. Every
    hop of the Lambda path (worker -> emulator -> function -> Temporal) pays it once."""
    import http.client
    import multiprocessing
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Empty(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(204)
            self.end_headers()

    server = HTTPServer(("127.0.0.1", 0), Empty)
    child = multiprocessing.get_context("fork").Process(target=server.serve_forever, daemon=True)
    child.start()
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port)
    samples = []
    try:
        for _ in range(rounds):
            time.sleep(idle_s)
            started = time.perf_counter()
            conn.request("GET", "/")
            conn.getresponse().read()
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        child.kill()
        server.server_close()
    return statistics.median(samples)


def logged_phases(log: Path, since: int) -> dict[str, list[float]]:
    """The timings the worker (invoke_ms) and the function (first_heartbeat_ms, work_ms,
    complete_ms) log with each bench activity, from the stack's log after offset ``since``."""
    phases: dict[str, list[float]] = {}
    with log.open() as lines:
        lines.seek(since)
        for line in lines:
            if not line.startswith("{") or "_ms" not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            for key, value in entry.items():
                if key.endswith("_ms") and isinstance(value, int | float):
                    phases.setdefault(key, []).append(float(value))
    return phases


async def latency(client: Client, rounds: int, log: Path) -> list[Figure]:
    since = log.stat().st_size
    lam: list[float] = []
    wrk: list[float] = []
    for _ in range(rounds):  # interleaved, so drift on the machine hits both sides alike
        lam.append(await run_noop(client, "lambda"))
        wrk.append(await run_noop(client, "worker"))
    print("(a) no-op activity latency, warm, ActivityTaskScheduled -> Completed")
    print(f"    in-worker : {describe(wrk)}")
    print(f"    lambda    : {describe(lam)}")
    print(
        f"    ratio lambda / in-worker (medians): "
        f"{statistics.median(lam) / statistics.median(wrk):.2f}x"
    )
    phases = logged_phases(log, since)
    print(
        "    where the Lambda path's time goes (medians, from the worker's and the function's "
        "logs):"
    )
    for key, label in (
        ("invoke_ms", "worker: boto3 Invoke (Event) answered 202"),
        ("first_heartbeat_ms", "function: first heartbeat (liveness, before any compute)"),
        ("work_ms", "function: the work (no-op, in its thread)"),
        ("complete_ms", "function: complete (the result to Temporal)"),
    ):
        if phases.get(key):
            print(f"      {label:<62} {statistics.median(phases[key]):6.1f} ms")
    print(
        f"    this machine's wake-up cost per hop (empty loopback HTTP round trip): "
        f"{loopback_wake_ms(0):.2f} ms back to back, {loopback_wake_ms(0.02):.2f} ms after "
        f"20 ms idle"
    )
    return [
        ("dispatch.in_worker_median", statistics.median(wrk), "ms", "lower"),
        ("dispatch.lambda_median", statistics.median(lam), "ms", "lower"),
        ("dispatch.ratio", statistics.median(lam) / statistics.median(wrk), "x", "lower"),
    ]


async def in_flight_memory(
    client: Client, stack: LocalStack, worker_pid: int, count: int
) -> list[Figure]:
    await run_noop(client, "lambda")  # the worker loaded and warm before "idle" is read
    idle = rss_mb(worker_pid)
    before = stack.lambda_stats()["NoopFunction"]["accepted_events"]
    started = time.monotonic()
    handles: list[WorkflowHandle[Any, Any]] = []
    for batch in range(0, count, 100):
        handles += await asyncio.gather(
            *[
                client.start_workflow(
                    NoopWorkflow.run,
                    NoopInput(via="lambda", request=NoopRequest(sleep_ms=600_000), dispatch=HOLD),
                    id=f"bench-hold-{uuid.uuid4().hex[:10]}",
                    task_queue=TASK_QUEUE,
                )
                for _ in range(min(100, count - batch))
            ]
        )
    while stack.lambda_stats()["NoopFunction"]["accepted_events"] - before < count:
        if time.monotonic() - started > max(300, count / 10):
            raise TimeoutError(
                f"the worker did not dispatch every activity within {max(300, count / 10):.0f} s"
            )
        await asyncio.sleep(0.5)
    dispatched_in = time.monotonic() - started
    await asyncio.sleep(2)
    samples = []
    for _ in range(5):
        samples.append(rss_mb(worker_pid))
        await asyncio.sleep(0.2)
    peak = max(samples)
    print(
        f"(b) worker RSS: idle {idle:.1f} MB; with {count} dispatched activities in flight "
        f"{peak:.1f} MB (+{peak - idle:.1f} MB, {(peak - idle) * 1024 / count:.1f} KB each); "
        f"all {count} dispatched in {dispatched_in:.1f} s"
    )
    cpu_before = cpu_seconds(worker_pid)
    await asyncio.sleep(10)
    waiting_cpu = (cpu_seconds(worker_pid) - cpu_before) / 10 * 100
    sampled = [await schedule_to_start_ms(h) for h in handles[:: max(1, count // 200)]]
    starts = [ms for ms in sampled if ms is not None] or [0.0]
    print(
        f"    of {len(sampled)} sampled, {sampled.count(None)} had already ended (dropped "
        "from Lambda's queue past its maximum event age, failed at once)"
    )
    oldest = [await query_ms(h) for h in handles[:50]]
    newest = [await query_ms(h) for h in handles[-50:]]
    print(
        f"    worker CPU while they wait: {waiting_cpu:.1f}% of one core; dispatch waited "
        f"for the worker (schedule to start, n={len(starts)}): p50 {p(starts, 0.5):.0f} ms, "
        f"p99 {p(starts, 0.99):.0f} ms"
    )
    print(
        f"    query of the 50 oldest (evicted beyond the cache, replayed): p50 "
        f"{p(oldest, 0.5):.1f} ms, p99 {p(oldest, 0.99):.1f} ms; of the 50 newest (cached): "
        f"p50 {p(newest, 0.5):.1f} ms, p99 {p(newest, 0.99):.1f} ms"
    )
    # Some ended already (events dropped past the queue's maximum age): terminate the rest.
    await asyncio.gather(*[h.terminate("bench over") for h in handles], return_exceptions=True)
    return [
        (f"worker.cpu_percent_{count}_waiting", waiting_cpu, "%", "lower"),
        (f"dispatch.schedule_to_start_p99_{count}", p(starts, 0.99), "ms", "lower"),
        (f"worker.query_evicted_p50_{count}", p(oldest, 0.5), "ms", "lower"),
        # Named by the run it is read in: `make bench` and `make bench-inflight` each own one.
        (f"worker.rss_idle_before_{count}", idle, "MB", "lower"),
        (f"worker.rss_{count}_in_flight", peak, "MB", "lower"),
        (f"worker.kb_per_activity_{count}_in_flight", (peak - idle) * 1024 / count, "KB", "lower"),
    ]


async def main_async(rounds: int, in_flight: int, activities: int) -> None:
    with LocalStack(state_dir=Path(".local/bench"), log=open(".local/bench.log", "w")) as stack:
        worker = stack.start_worker()
        client = await connect(environ=stack.env())
        if rounds:  # `make bench-inflight` skips these: their figures belong to `make bench`
            for via in ("lambda", "worker", "lambda"):  # warm both paths (and the function)
                await run_noop(client, via)
            await repeated_async(lambda: latency(client, rounds, Path(".local/bench.log")))
            await dispatch_throughput(client, worker.pid, activities)

        async def on_a_fresh_worker() -> list[Figure]:
            # Each run starts from a new worker process: the last run's workflows would
            # still be in the old one's cache, and its "idle" would not be idle.
            nonlocal worker
            worker.terminate()
            worker.wait(timeout=60)
            worker = stack.start_worker()
            return await in_flight_memory(client, stack, worker.pid, in_flight)

        await repeated_async(on_a_fresh_worker)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--in-flight", type=int, default=1000)
    parser.add_argument("--activities", type=int, default=3000, help="per throughput run")
    args = parser.parse_args()
    Path(".local").mkdir(exist_ok=True)
    asyncio.run(main_async(args.rounds, args.in_flight, args.activities))
    sys.stdout.flush()


if __name__ == "__main__":
    run_and_exit(main)  # a Temporal client can abort a finishing process (process_exit)
