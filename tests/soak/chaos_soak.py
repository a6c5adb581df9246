"""The chaos soak: a mixed load of video, image and publish workflows on the local stack while
a driver SIGKILLs the worker again and again, restarts the Temporal server (the second time
with SIGKILL), kills functions mid-render, makes Postiz fail (429s, a 500 after the post was
committed, a slow create), and has the Lambda emulator deliver some events twice (at the
same moment) and some again late (with stale task tokens). Publishes are approved, revised,
rejected or left to expire. It ends by printing what was lost or doubled.

    make soak                       # the full run (python -m tests.soak.chaos_soak)
    python -m tests.soak.chaos_soak --videos 2 --images 2 --publishes 1 --worker-kills 2

A short version runs in `make test` (tests/soak/test_chaos_soak.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.service import RPCError

from orchestrator.permits_io import POOLS, POSTIZ_POSTS, SemaphoreState, semaphore_id
from orchestrator.workflows.generate_image import GenerateImageWorkflow
from orchestrator.workflows.publish_creative import PublishCreativeWorkflow
from orchestrator.workflows.render_video import RenderVideoWorkflow
from smm_local.demo_assets import upload_demo_assets
from smm_local.stack import LocalStack
from smm_runtime.contract.publish_io import PublishInput
from smm_runtime.contract.workflow_io import DispatchPolicy, GenerateImageInput, RenderVideoInput
from smm_runtime.ledger import Ledger
from smm_runtime.temporal_conn import connect
from tests.soak.report import ACCOUNT, SoakReport, ledger_checks, segment_duplicates

GRANT = 1_000_000
# Short heartbeats so a killed function is noticed in seconds; enough attempts to outlast
# every kill the driver makes.
POLICY = DispatchPolicy(heartbeat_timeout_s=5, initial_interval_s=1, max_interval_s=5,
                        max_attempts=30)


@dataclass
class SoakConfig:
    videos: int = 100
    images: int = 100
    publishes: int = 100
    worker_kills: int = 15
    server_restarts: int = 2  # the last one by SIGKILL
    function_kills: int = 30
    kill_every_s: float = 15.0
    duplicate_every: int = 10  # with late_every: 20 % of events delivered twice
    late_every: int = 10
    late_delay_s: float = 12.0
    postiz_faults: bool = True
    deadline_s: float = 1800.0


def _video(assets: dict[str, str], i: int) -> dict[str, Any]:
    # Each video differs (its text), so segments are real renders, not checkpoint hits.
    return {"brand_kit": assets["brand_kit"], "presets": ["1:1"], "quality": "draft",
            "segment_target_s": 0.5, "logo": None, "scenes": [
                {"duration_s": 1.6, "background": {"type": "gradient", "from_color": "primary",
                                                   "to_color": "accent"},
                 "texts": [{"text": f"Soak {i}", "animation": "slide_up"}]}]}


def _image(assets: dict[str, str], i: int) -> dict[str, Any]:
    return {"brand_kit": assets["brand_kit"], "template": "quote_card",
            "props": {"quote": f"Chaos is a ladder #{i}", "author": "Soak"}}


def _fate(i: int) -> str:
    """What the reviewer does with publish i: mostly approve; some revise first, some
    reject, some never answer (the approval window ends)."""
    return {0: "reject", 1: "revise", 2: "expire"}.get(i % 10, "approve")


def _publish(assets: dict[str, str], i: int, bucket: str) -> PublishInput:
    return PublishInput.model_validate({
        "creative": {"kind": "image", "spec": _image(assets, 1000 + i)},
        "post": {"content": f"Soak post {i}", "integrations": ["x-1"], "type": "now"},
        "approval": {"reviewers": ["ana@example.com"], "reminder_every_s": 3600,
                     "expire_after_s": 120 if _fate(i) == "expire" else 86_400},
        "distribution": {"create_timeout_s": 10, "retry_initial_s": 1, "retry_max_s": 5,
                         "create_settle_s": 15, "rate_limited_wait_s": 5},
        "output_bucket": bucket, "account": ACCOUNT})


class Chaos:
    def __init__(self, stack: LocalStack, env: dict[str, str], config: SoakConfig,
                 report: SoakReport) -> None:
        self.stack, self.env, self.config, self.report = stack, env, config, report
        self.worker = stack.start_worker(env, name="soak-worker")
        self.done = asyncio.Event()
        # The reviewer approves once every worker kill has happened, so the load cannot end
        # before the chaos does (kills while a post is created: tests/integration/test_publish).
        self.kills_done = asyncio.Event()
        self.killed: set[int] = set()  # function pids already killed (stats may lag)

    def note(self, what: str) -> None:
        """Each act of chaos, in the stack log beside what it caused."""
        if self.stack.log is not None:
            self.stack.log.write(f"{datetime.now().isoformat()} soak-chaos {what}\n")
            self.stack.log.flush()

    def kill_worker(self) -> None:
        self.note(f"SIGKILL worker {self.worker.pid}")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=30)
        self.worker = self.stack.start_worker(self.env, name="soak-worker")
        self.note(f"started worker {self.worker.pid}")
        self.report.worker_kills += 1

    def supervise(self) -> None:
        """What a container runtime does: a worker that exited is started again."""
        if self.worker.poll() is not None:
            self.note(f"worker {self.worker.pid} exited with {self.worker.returncode}; "
                      "starting another")
            self.worker = self.stack.start_worker(self.env, name="soak-worker")

    def kill_a_function(self) -> bool:
        stats = self.stack.lambda_stats()
        pids = [pid for name in ("RenderSegmentFunction", "RenderImageFunction",
                                 "FinalizeVideoFunction")
                for pid in stats.get(name, {}).get("active_pids", [])
                if pid not in self.killed]
        if not pids:
            return False
        self.killed.add(pids[0])
        self.note(f"SIGKILL function {pids[0]}")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pids[0], signal.SIGKILL)
        self.report.function_kills += 1
        return True

    def postiz_fault(self, round_: int) -> None:
        """One fault at a time, in turn: refused (429), committed then answered 500, slow."""
        faults: list[dict[str, Any]] = [{"force_429": 2}, {"fail_after_commit": True},
                                        {"create_delay_s": 3}, {"create_delay_s": 0}]
        fault = faults[round_ % 4]
        self.note(f"Postiz fault {fault}")
        self.stack.double_control("postiz", **fault)
        self.report.postiz_faults += 1

    async def run(self) -> None:
        kills = self.config.worker_kills
        restarts = self.config.server_restarts
        restart_at = {max(1, kills * (n + 1) // (restarts + 1)): n for n in range(restarts)}
        per_round = max(1, -(-self.config.function_kills // max(1, kills)))
        round_ = 0
        while not self.done.is_set() and (round_ < kills or
                                          self.report.function_kills <
                                          self.config.function_kills):
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.done.wait(), self.config.kill_every_s)
            if self.done.is_set():
                break
            await asyncio.to_thread(self.supervise)
            round_ += 1
            for _ in range(per_round):
                if self.report.function_kills < self.config.function_kills:
                    await asyncio.to_thread(self.kill_a_function)
            if self.config.postiz_faults:
                await asyncio.to_thread(self.postiz_fault, round_)
            if round_ <= kills:
                await asyncio.to_thread(self.kill_worker)
            if round_ >= kills:
                self.kills_done.set()
            if round_ in restart_at and self.report.server_restarts == restart_at[round_]:
                crash = self.report.server_restarts == restarts - 1 and restarts > 1
                self.note(f"restarting the Temporal server ({'SIGKILL' if crash else 'SIGTERM'})")
                await asyncio.to_thread(self.stack.restart_temporal, 1.0, crash)
                self.note("Temporal server back")
                self.report.server_restarts += 1
        self.kills_done.set()
        self.note("chaos over")
        # Keep supervising until the load is done: a worker must stay up to finish it.
        while not self.done.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.done.wait(), 2.0)
            await asyncio.to_thread(self.supervise)

    def stop(self) -> None:
        self.done.set()
        self.worker.send_signal(signal.SIGTERM)
        try:
            self.worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.worker.kill()


async def _approve_when_waiting(handles: list[WorkflowHandle[Any, Any]],
                                after: asyncio.Event) -> None:
    """The reviewer: decides each publish once it waits (retrying through the chaos): most
    are approved, some revised then approved, some rejected, some left to expire."""
    await after.wait()
    pending = {h.id: (h, _fate(i)) for i, h in enumerate(handles) if _fate(i) != "expire"}
    while pending:
        for workflow_id, (handle, fate) in list(pending.items()):
            try:
                status = await handle.query(PublishCreativeWorkflow.status)
                if status.stage == "awaiting_approval":
                    decision: dict[str, Any] = {"decision": fate, "reviewer": "ana@example.com"}
                    if fate == "revise" and status.round == 1:
                        decision["changes"] = {"props": {"author": "Soak, revised"}}
                    else:
                        decision["decision"] = "reject" if fate == "reject" else "approve"
                    await handle.signal("agent_approval", decision)
                    if decision["decision"] != "revise":
                        del pending[workflow_id]
                elif status.stage in ("published", "failed", "rejected", "expired"):
                    del pending[workflow_id]
            except RPCError:
                pass  # the worker or the server is down right now; try again
        await asyncio.sleep(0.5)


async def _outcome(handle: WorkflowHandle[Any, Any], deadline: float) -> str:
    while time.monotonic() < deadline:
        try:
            await asyncio.wait_for(handle.result(), max(1.0, deadline - time.monotonic()))
            return "completed"
        except WorkflowFailureError as err:
            return f"failed: {handle.id}: {err.cause or err}"
        except (TimeoutError, RPCError):
            await asyncio.sleep(1.0)  # server restarting; the result is still there
    return "lost"


async def run_soak(config: SoakConfig, state_dir: Path, log_path: Path) -> SoakReport:
    report = SoakReport()
    began = time.monotonic()
    # A hundred publishes post within the run: Postiz's hourly limit and the deployment's
    # budget for it are raised together (the budget's waiting is tested in test_publish).
    posts = config.publishes + 20
    with log_path.open("w") as log, LocalStack(state_dir=state_dir, log=log,
                                               postiz_rate_limit=posts * 3) as stack:
        assets = upload_demo_assets(stack.s3(), stack.bucket, music_seconds=4)
        Ledger(stack.dynamodb(), stack.ledger_table).grant(ACCOUNT, GRANT, "soak-grant")
        queue = f"soak-{uuid.uuid4().hex[:8]}"
        env = {"SMM_TASK_QUEUE": queue, "SMM_POOL_CAPS": json.dumps(
            {"video-segments": 16, "video-finalize": 8, "images": 16, "postiz-posts": posts})}
        client: Client = await connect(environ=stack.env())
        chaos = Chaos(stack, env, config, report)
        stack.chaos(duplicate_every=config.duplicate_every, late_every=config.late_every,
                    late_delay_s=config.late_delay_s)
        handles: list[WorkflowHandle[Any, Any]] = []
        for i in range(config.videos):
            handles.append(await client.start_workflow(
                RenderVideoWorkflow.run, RenderVideoInput(
                    spec=_video(assets, i), output_bucket=stack.bucket, dispatch=POLICY,
                    account=ACCOUNT), id=f"soak-video-{i}-{uuid.uuid4().hex[:6]}",
                task_queue=queue))
        for i in range(config.images):
            handles.append(await client.start_workflow(
                GenerateImageWorkflow.run, GenerateImageInput(
                    spec=_image(assets, i), output_bucket=stack.bucket, account=ACCOUNT,
                    dispatch=POLICY), id=f"soak-image-{i}-{uuid.uuid4().hex[:6]}",
                task_queue=queue))
        publishes = [await client.start_workflow(
            PublishCreativeWorkflow.run, _publish(assets, i, stack.bucket),
            id=f"soak-publish-{i}-{uuid.uuid4().hex[:6]}", task_queue=queue)
            for i in range(config.publishes)]
        handles += publishes
        report.started = len(handles)
        driver = asyncio.ensure_future(chaos.run())
        reviewer = asyncio.ensure_future(_approve_when_waiting(publishes, chaos.kills_done))
        deadline = time.monotonic() + config.deadline_s
        outcomes = await asyncio.gather(*[_outcome(h, deadline) for h in handles])
        chaos.done.set()
        await driver
        reviewer.cancel()
        chaos.stop()
        report.completed = outcomes.count("completed")
        report.lost = sum(o.startswith("lost") for o in outcomes)
        report.failures = [o for o in outcomes if o != "completed"]
        report.failed = sum(o.startswith("failed") for o in outcomes)
        posts = stack.double_state("postiz")["posts"]
        # Postiz keeps no group of ours; each soak publish has text of its own.
        per_post = Counter((p["content"], p["integration"]["id"]) for p in posts)
        report.duplicate_postiz_posts = sum(n - 1 for n in per_post.values() if n > 1)
        ledger_checks(stack, report)
        report.leaked_permits = await leaked_permits(client, queue)
        stats = stack.lambda_stats()
        report.duplicated_events = sum(s["duplicated_events"] for s in stats.values())
        report.late_events = sum(s["late_events"] for s in stats.values())
    report.duplicate_segment_renders, report.segment_renders = segment_duplicates(
        log_path.read_text(errors="replace"))
    report.seconds = time.monotonic() - began
    return report


async def leaked_permits(client: Client, queue: str) -> int:
    """Permits still held once every workflow has ended (a Postiz budget take is held for
    its window by design and is not counted)."""
    leaked = 0
    for pool in POOLS:
        if pool == POSTIZ_POSTS:
            continue
        with contextlib.suppress(RPCError):
            state = await client.get_workflow_handle(semaphore_id(queue, pool)).query(
                "snapshot", result_type=SemaphoreState)
            leaked += len(state.holders) + state.waiting
    return leaked


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="chaos soak on the local stack")
    defaults = SoakConfig()
    for name, value in asdict(defaults).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    args = parser.parse_args(argv)
    config = SoakConfig(**{k: getattr(args, k) for k in asdict(defaults)})
    out = Path("test-artifacts")
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as state:
        report = asyncio.run(run_soak(config, Path(state), out / "soak-stack.log"))
    print("\n".join(report.lines()))
    (out / "soak-report.json").write_text(json.dumps(asdict(report), indent=1))
    bad = report.lost or report.failed or report.duplicate_segment_renders or \
        report.duplicate_charges or report.duplicate_postiz_posts or \
        not report.ledger_invariants_hold or report.stale_holds or report.leaked_permits
    sys.stdout.flush()
    os._exit(1 if bad else 0)  # temporalio may abort the interpreter at exit (sdk issue 300)


if __name__ == "__main__":
    main()
