"""The upgrade soak: a deploy of this code into workflows started by a released one.

`make upgrade-soak FROM=<git ref>` (the short version runs in `make test` from the last
release, `RELEASED`). The FROM release's code is taken out of git (`git archive`) and its
workers run from that tree with this project's packages (a release pins the same
dependencies; its own Python modules come first on the path). On the local stack:

1. Two workers of the FROM release serve the task queue, as production runs several.
2. Load that sits at each waiting point: publishes awaiting approval; publishes approved
   with a publish date ahead (a durable timer); videos mid-render with segments done, their
   other segments queued in the semaphore (a cap of 2).
3. The rolling deploy the README describes (docs/operations.md, "Rolling out a workflow
   change"): two workers of this code join the queue, old and new poll side by side for a
   while, then the old ones are killed (SIGKILL, as a failed health check or a spot
   reclaim would).
4. Every waiting publish is approved, and everything runs to its end.

The verdict: 0 non-determinism errors (every history is searched for a failed workflow
task), 0 stuck (every workflow ended before the deadline), 0 lost, 0 doubled (Postiz posts
from the double's store, captures in the ledger), credits settled (no open hold, the
ledger's invariant).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.service import RPCError

from orchestrator.cap.models import POOLS, semaphore_id
from orchestrator.publish.postiz import PostizPublisher
from orchestrator.publish.workflow import PublishCreativeWorkflow
from orchestrator.render.video import RenderVideoWorkflow
from smm_local.demo_assets import upload_demo_assets
from smm_local.postiz_double import CHANNEL_SETTINGS
from smm_local.stack import LocalStack
from smm_runtime.account_channels import AccountChannels
from smm_runtime.contract.publish_io import PublishInput, PublishStatus
from smm_runtime.contract.workflow_io import RenderVideoInput
from smm_runtime.ledger import Ledger
from smm_runtime.process_exit import exit_now
from smm_runtime.temporal_conn import connect
from tests.soak.chaos import config_from_argv
from tests.soak.chaos_soak import POLICY, _image, leaked_permits
from tests.soak.report import ACCOUNT, SoakReport, ledger_checks

ROOT = Path(__file__).resolve().parents[2]
# The last release (CHANGELOG.md 0.1.0): the commit operators run before this one.
RELEASED = "b642623"


@dataclass
class UpgradeConfig:
    from_ref: str = RELEASED
    videos: int = 4
    publishes: int = 6  # awaiting approval at the deploy
    # Of those, reminded every second (the release allows it), so each has continued as new
    # on the release's workers before the deploy.
    continued: int = 2
    # The server suggests continue-as-new at this many events (its default is 4,096): the
    # publishes above and the semaphores continue as new within the soak.
    suggest_continue_as_new_after: int = 60
    scheduled: int = 2  # approved before the deploy, publishing after it
    overlap_s: float = 15.0  # old and new workers side by side
    deadline_s: float = 600.0


@dataclass
class UpgradeReport:
    from_ref: str = ""
    started: int = 0
    completed: int = 0
    failed: int = 0
    lost: int = 0
    nondeterminism: int = 0
    task_failures: int = 0
    duplicate_postiz_posts: int = 0
    lost_postiz_posts: int = 0
    duplicate_charges: int = 0
    stale_holds: int = 0
    ledger_invariants_hold: bool = False
    leaked_permits: int = 0
    waiting_at_deploy: dict[str, int] = field(default_factory=dict)
    runs_after: dict[str, int] = field(default_factory=dict)  # runs per kind, at the end
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def ok(self) -> bool:
        return not (
            self.failed
            or self.lost
            or self.nondeterminism
            or self.duplicate_postiz_posts
            or self.lost_postiz_posts
            or self.duplicate_charges
            or self.stale_holds
            or self.leaked_permits
            or not self.ledger_invariants_hold
        )

    def lines(self) -> list[str]:
        return [
            f"upgrade from {self.from_ref} to this tree: workflows started {self.started}, "
            f"completed {self.completed}, failed {self.failed}, lost (stuck) {self.lost}",
            f"waiting at the deploy: {self.waiting_at_deploy}; runs at the end: {self.runs_after}",
            f"non-determinism errors {self.nondeterminism} (workflow tasks failed: "
            f"{self.task_failures})",
            f"duplicate Postiz posts {self.duplicate_postiz_posts}, lost Postiz posts "
            f"{self.lost_postiz_posts}, duplicate charges {self.duplicate_charges}, stale holds "
            f"{self.stale_holds}, ledger invariants "
            f"{'hold' if self.ledger_invariants_hold else 'BROKEN'}, leaked permits "
            f"{self.leaked_permits}",
            f"took {self.seconds:.1f}s",
        ]


def release_tree(ref: str, into: Path) -> Path:
    """The FROM release's files, as `git archive` gives them (no checkout of this tree)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref], capture_output=True
    )
    if archive.returncode != 0:
        raise SystemExit(
            f"upgrade-soak: FROM={ref!r} is not a commit of this repository "
            f"({archive.stderr.decode(errors='replace').strip()}); name a release's tag or commit"
        )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def start_release_worker(
    stack: LocalStack, tree: Path, env: dict[str, str], name: str
) -> subprocess.Popen[Any]:
    """A worker of the release in ``tree``: its modules first on the path."""
    path = os.pathsep.join(str(tree / p) for p in ("", "layers/runtime", "infra/local"))
    return stack._spawn(
        name,
        [sys.executable, "-m", "orchestrator.worker"],
        env={**os.environ, **stack.worker_env(), **env, "PYTHONPATH": path},
        cwd=tree,
    )


def _video(assets: dict[str, str], i: int) -> dict[str, Any]:
    """Six segments a video, so some are done and some queued when the deploy comes."""
    return {
        "brand_kit": assets["brand_kit"],
        "presets": ["1:1"],
        "quality": "draft",
        "segment_target_s": 0.5,
        "logo": None,
        "scenes": [
            {
                "duration_s": 3.0,
                "background": {"type": "gradient", "from_color": "primary", "to_color": "accent"},
                "texts": [{"text": f"Upgrade {i}", "animation": "slide_up"}],
            }
        ],
    }


def _publish(
    assets: dict[str, str], i: int, bucket: str, at: datetime | None, remind: bool = False
) -> PublishInput:
    approval: dict[str, Any] = {"reviewers": ["ana@example.com"], "expire_after_s": 86_400}
    if remind:
        approval["reminder_every_s"] = 1
    return PublishInput.model_validate(
        {
            "creative": {"kind": "image", "spec": _image(assets, 2000 + i)},
            "post": {
                "content": f"Upgrade post {i}",
                "integrations": ["x-1"],
                "type": "schedule" if at else "now",
                "publish_at": at.isoformat() if at else None,
                "channel_settings": CHANNEL_SETTINGS,
            },
            "approval": approval,
            "distribution": {"follow_every_s": 1, "retry_window_s": 0},
            "output_bucket": bucket,
            "account": ACCOUNT,
        }
    )


async def _stage(handle: WorkflowHandle[Any, Any]) -> str:
    try:
        status = await handle.query(PublishCreativeWorkflow.status)
        return str(status.stage)
    except RPCError:
        return "?"


async def _until(check: Any, deadline: float, what: str) -> None:
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"never reached: {what}")
        await asyncio.sleep(0.5)


async def _outcome(handle: WorkflowHandle[Any, Any], deadline: float) -> str:
    while time.monotonic() < deadline:
        try:
            result = await asyncio.wait_for(handle.result(), max(1.0, deadline - time.monotonic()))
            stage = getattr(result, "stage", None)
            return f"completed: {stage}" if stage else "completed"
        except WorkflowFailureError as err:
            return f"failed: {handle.id}: {err.cause or err}"
        except (TimeoutError, RPCError):
            await asyncio.sleep(1.0)
    return f"lost: {handle.id}"


async def runs_of(client: Client, workflow_id: str) -> list[str]:
    """Every run of a workflow id (each continue-as-new starts one), oldest first."""
    runs = [e.run_id async for e in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    return runs[::-1]


async def task_failures(client: Client, workflow_ids: list[str]) -> tuple[int, int]:
    """(non-determinism errors, workflow tasks failed) over every run of these workflows."""
    nondeterminism = failed = 0
    for workflow_id in workflow_ids:
        for run_id in await runs_of(client, workflow_id):
            handle = client.get_workflow_handle(workflow_id, run_id=run_id)
            async for event in handle.fetch_history_events():
                if event.event_type != EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                    continue
                failed += 1
                message = event.workflow_task_failed_event_attributes.failure.message
                nondeterminism += "nondetermin" in message.lower()
    return nondeterminism, failed


async def run_upgrade(config: UpgradeConfig, state_dir: Path, log_path: Path) -> UpgradeReport:
    report = UpgradeReport(from_ref=config.from_ref)
    began = time.monotonic()
    deadline = began + config.deadline_s
    (state_dir / "release").mkdir()
    tree = release_tree(config.from_ref, state_dir / "release")
    dynamic = {"limit.historyCount.suggestContinueAsNew": config.suggest_continue_as_new_after}
    with (
        log_path.open("w") as log,
        LocalStack(
            state_dir=state_dir / "stack", log=log, temporal_dynamic_config=dynamic
        ) as stack,
    ):
        assets = upload_demo_assets(stack.s3(), stack.bucket, music_seconds=4)
        Ledger(stack.dynamodb(), stack.ledger_table).grant(ACCOUNT, 1_000_000, "upgrade-grant")
        # Allowed before the deploy, as the CHANGELOG tells operators (the release ignores it).
        AccountChannels(stack.dynamodb(), stack.ledger_table).allow(ACCOUNT, ["x-1"])
        queue = f"upgrade-{uuid.uuid4().hex[:8]}"
        env = {
            "SMM_TASK_QUEUE": queue,
            "SMM_POOL_CAPS": json.dumps({"video-segments": 2, "images": 4}),
        }
        old = [start_release_worker(stack, tree, env, f"release-worker-{n}") for n in (1, 2)]
        client = await connect(environ=stack.env())
        videos = [
            await client.start_workflow(
                RenderVideoWorkflow.run,
                RenderVideoInput(
                    spec=_video(assets, i), output_bucket=stack.bucket, dispatch=POLICY,
                    account=ACCOUNT,
                ),
                id=f"upgrade-video-{i}-{uuid.uuid4().hex[:6]}",
                task_queue=queue,
            )
            for i in range(config.videos)
        ]  # fmt: skip
        later = datetime.now(UTC) + timedelta(seconds=config.overlap_s + 60)
        reminded = range(config.scheduled, config.scheduled + config.continued)
        started = [
            await client.start_workflow(
                PublishCreativeWorkflow.run,
                _publish(
                    assets, i, stack.bucket, later if i < config.scheduled else None,
                    remind=i in reminded,
                ),
                id=f"upgrade-publish-{i}-{uuid.uuid4().hex[:6]}",
                task_queue=queue,
            )
            for i in range(config.publishes + config.scheduled)
        ]  # fmt: skip
        # Handles on each chain's latest run: signals and queries follow continue-as-new.
        publishes: list[WorkflowHandle[Any, PublishStatus]] = [
            client.get_workflow_handle(h.id, result_type=PublishStatus) for h in started
        ]
        scheduled, waiting = publishes[: config.scheduled], publishes[config.scheduled :]
        report.started = len(videos) + len(publishes)

        async def all_waiting() -> bool:
            stages = [await _stage(h) for h in publishes]
            for handle in scheduled:
                if await _stage(handle) == "awaiting_approval":
                    await handle.signal(
                        "agent_approval", {"decision": "approve", "reviewer": "ana@example.com"}
                    )
            return stages[: config.scheduled] == ["scheduled"] * config.scheduled and all(
                s == "awaiting_approval" for s in stages[config.scheduled :]
            )  # fmt: skip

        await _until(all_waiting, deadline, "every publish waiting on the release's workers")

        async def all_continued() -> bool:
            for handle in publishes[config.scheduled : config.scheduled + config.continued]:
                if len(await runs_of(client, handle.id)) < 2:
                    return False
            return True

        await _until(all_continued, deadline, "reminded publishes continued as new on the release")
        running = [
            v for v in videos
            if (await v.describe()).status == WorkflowExecutionStatus.RUNNING
        ]  # fmt: skip
        semaphores = [semaphore_id(queue, pool) for pool in POOLS]
        report.waiting_at_deploy = {
            "awaiting_approval": len(waiting),
            "scheduled": len(scheduled),
            "videos_rendering": len(running),
            "publishes_continued_as_new": sum(
                [len(await runs_of(client, h.id)) > 1 for h in publishes]
            ),
            "semaphore_runs": sum([len(await runs_of(client, s)) for s in semaphores]),
        }
        # The rolling deploy: new workers join, both versions poll, then the old ones go.
        new = [stack.start_worker(env, name=f"new-worker-{n}") for n in (1, 2)]
        await asyncio.sleep(config.overlap_s)
        for proc in old:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        for handle in waiting:
            await handle.signal(
                "agent_approval", {"decision": "approve", "reviewer": "ana@example.com"}
            )
        outcomes = await asyncio.gather(*[_outcome(h, deadline) for h in videos + publishes])
        report.completed = sum(o.startswith("completed") for o in outcomes)
        report.failed = sum(o.startswith("failed") for o in outcomes)
        report.lost = sum(o.startswith("lost") for o in outcomes)
        report.failures = [o for o in outcomes if not o.startswith("completed")]
        report.failures += [  # a publish must end published (every decision approves)
            f"{h.id}: {o}"
            for h, o in zip(publishes, outcomes[len(videos) :], strict=True)
            if o.startswith("completed") and o != "completed: published"
        ]
        report.nondeterminism, report.task_failures = await task_failures(
            client, [h.id for h in videos + publishes] + semaphores
        )
        report.runs_after = {
            "publishes": sum([len(await runs_of(client, h.id)) for h in publishes]),
            "semaphores": sum([len(await runs_of(client, s)) for s in semaphores]),
        }
        postiz = stack.double_state("postiz")
        stored = [p for p in postiz["posts"] if p["state"] != "DRAFT"]
        per_post = Counter((PostizPublisher.key_of(p), p["integration"]["id"]) for p in stored)
        report.duplicate_postiz_posts = sum(n - 1 for n in per_post.values() if n > 1)
        live = {PostizPublisher.key_of(p) for p in stored if p["state"] == "PUBLISHED"}
        report.lost_postiz_posts = max(0, len(publishes) - len(live))
        ledger = SoakReport()
        ledger_checks(stack, ledger)
        report.duplicate_charges = ledger.duplicate_charges
        report.stale_holds = ledger.stale_holds
        report.ledger_invariants_hold = ledger.ledger_invariants_hold
        report.leaked_permits = await leaked_permits(client, queue)
        for proc in new:
            proc.terminate()
    report.seconds = time.monotonic() - began
    return report


def main(argv: list[str] | None = None) -> None:
    config = config_from_argv(UpgradeConfig(), "deploy this code into a release's workflows", argv)
    out = ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as state:
        report = asyncio.run(run_upgrade(config, Path(state), out / "upgrade-stack.log"))
    print("\n".join(report.lines()))
    (out / "upgrade-report.json").write_text(json.dumps(asdict(report), indent=1))
    exit_now(0 if report.ok() else 1)


if __name__ == "__main__":
    main()
