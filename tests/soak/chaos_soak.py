"""The chaos soak: a mixed load of video, image and publish workflows on the local stack,
served by two workers, while a driver SIGKILLs them in turn, restarts the Temporal server
(the second time with SIGKILL), kills functions mid-render, makes Postiz fail (429s, a 500
after the post was committed, a slow create), and has the Lambda emulator deliver some
events twice (at the same moment) and some again late (with stale task tokens). Publishes
are approved, revised, rejected or left to expire. It ends by printing what was lost or doubled.

    make soak                       # the full run (python -m tests.soak.chaos_soak)
    python -m tests.soak.chaos_soak --videos 2 --images 2 --publishes 1 --worker-kills 2

A short version runs in `make test` (tests/soak/test_chaos_soak.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.service import RPCError

from orchestrator.cap.models import POOLS, POSTIZ_POSTS, SemaphoreState, semaphore_id
from orchestrator.publish.postiz import PostizPublisher
from orchestrator.publish.workflow import PublishCreativeWorkflow
from orchestrator.render.image import GenerateImageWorkflow
from orchestrator.render.video import RenderVideoWorkflow
from smm_local.deadline import Deadline, DeadlineExceeded
from smm_local.demo_assets import upload_demo_assets
from smm_local.loopback import get_json
from smm_local.postiz_double import CHANNEL_SETTINGS
from smm_local.stack import LocalStack
from smm_runtime.account_channels import AccountChannels
from smm_runtime.contract.publish_io import PublishInput
from smm_runtime.contract.workflow_io import DispatchPolicy, GenerateImageInput, RenderVideoInput
from smm_runtime.ledger import Ledger
from smm_runtime.process_exit import exit_now
from smm_runtime.temporal_conn import connect
from tests.soak.chaos import Chaos, SoakConfig, config_from_argv
from tests.soak.report import ACCOUNT, SoakReport, ledger_checks, segment_duplicates

GRANT = 1_000_000
# Short heartbeats so a killed function is noticed in seconds; enough attempts to outlast
# every kill the driver makes.
POLICY = DispatchPolicy(
    heartbeat_timeout_s=5, initial_interval_s=1, max_interval_s=5, max_attempts=30
)


def _video(assets: dict[str, str], i: int) -> dict[str, Any]:
    # Each video differs (its text), so segments are real renders, not checkpoint hits; in
    # turn one square, one vertical, or square and landscape from the same spec.
    presets = [["1:1"], ["9:16"], ["1:1", "16:9"]][i % 3]
    return {
        "brand_kit": assets["brand_kit"],
        "presets": presets,
        "quality": "draft",
        "segment_target_s": 0.5,
        "logo": None,
        "scenes": [
            {
                "duration_s": 1.6,
                "background": {"type": "gradient", "from_color": "primary", "to_color": "accent"},
                "texts": [{"text": f"Soak {i}", "animation": "slide_up"}],
            }
        ],
    }


def _image(assets: dict[str, str], i: int) -> dict[str, Any]:
    if i % 5 == 4:  # every fifth a three-slide carousel
        return {
            "brand_kit": assets["brand_kit"],
            "carousel": [
                {"title": f"Slide {n} of soak {i}", "body": "Chaos, three ways."} for n in (1, 2, 3)
            ],
        }
    return {
        "brand_kit": assets["brand_kit"],
        "template": "quote_card",
        "props": {"quote": f"Chaos is a ladder #{i}", "author": "Soak"},
    }


def _doc(i: int) -> str:
    return f"soak-doc-{i}"


def _fate(i: int) -> str:
    """What the reviewer does with publish i: mostly approve; some revise first, some
    reject, some never answer (the approval window ends)."""
    return {0: "reject", 1: "revise", 2: "expire"}.get(i % 10, "approve")


ENDINGS = {"approve": "published", "revise": "published", "reject": "rejected", "expire": "expired"}


def _publish(assets: dict[str, str], i: int, bucket: str) -> PublishInput:
    return PublishInput.model_validate(
        {
            "creative": {"kind": "image", "spec": _image(assets, 1000 + i)},
            "payload": {"collection": "posts", "id": _doc(i)},
            "post": {
                "content": f"Soak post {i}",
                "integrations": ["x-1"],
                "type": "now",
                "channel_settings": CHANNEL_SETTINGS,
            },
            "approval": {
                "reviewers": ["ana@example.com"],
                "reminder_every_s": 3600,
                "expire_after_s": 120 if _fate(i) == "expire" else 86_400,
            },
            "distribution": {
                "create_timeout_s": 10,
                "retry_initial_s": 1,
                "retry_max_s": 5,
                "create_settle_s": 15,
                "rate_limited_wait_s": 5,
                "follow_every_s": 1,
                "queued_alarm_s": 10,
                "retry_window_s": 0,
            },
            "output_bucket": bucket,
            "account": ACCOUNT,
        }
    )


async def _approve_when_waiting(
    handles: list[WorkflowHandle[Any, Any]], after: asyncio.Event
) -> None:
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
                elif status.stage in (
                    "published",
                    "publish_failed",
                    "failed",
                    "rejected",
                    "expired",
                ):
                    del pending[workflow_id]
            except RPCError:
                pass  # the worker or the server is down right now; try again
        await asyncio.sleep(0.5)


async def _outcome(handle: WorkflowHandle[Any, Any], deadline: float) -> str:
    while time.monotonic() < deadline:
        try:
            result = await asyncio.wait_for(handle.result(), max(1.0, deadline - time.monotonic()))
            if getattr(result, "stage", None) == "publish_failed":
                return f"publish_failed: {handle.id}: {result.error}"
            if getattr(result, "stage", None) == "published":
                return "completed: published"
            return "completed"
        except WorkflowFailureError as err:
            return f"failed: {handle.id}: {err.cause or err}"
        except (TimeoutError, RPCError):
            await asyncio.sleep(1.0)  # server restarting; the result is still there
    return "lost"


async def run_soak(
    config: SoakConfig, state_dir: Path, log_path: Path, overall: Deadline | None = None
) -> SoakReport:
    stage = overall.stage if overall is not None else (lambda _doing: None)
    stage("starting the local stack")
    report = SoakReport()
    began = time.monotonic()
    # A hundred publishes post within the run: Postiz's hourly limit and the deployment's
    # budget for it are raised together (the budget's waiting is tested in test_publish).
    posts = config.publishes + 20
    with (
        log_path.open("w") as log,
        LocalStack(state_dir=state_dir, log=log, postiz_rate_limit=posts * 3) as stack,
    ):
        stage("uploading assets and starting the workflows")
        assets = upload_demo_assets(stack.s3(), stack.bucket, music_seconds=4)
        Ledger(stack.dynamodb(), stack.ledger_table).grant(ACCOUNT, GRANT, "soak-grant")
        AccountChannels(stack.dynamodb(), stack.ledger_table).allow(ACCOUNT, ["x-1"])
        queue = f"soak-{uuid.uuid4().hex[:8]}"
        env = {
            "SMM_TASK_QUEUE": queue,
            "SMM_POOL_CAPS": json.dumps(
                {"video-segments": 16, "video-finalize": 8, "images": 16, "postiz-posts": posts}
            ),
        }
        # The worker reaches the real Payload through a proxy that fails on cue.
        assert stack.payload is not None
        proxy = stack.start_fault_proxy(stack.payload_url, hang_s=20.0)
        env["SMM_PAYLOAD_URL"] = proxy
        for i in range(config.publishes):
            stack.payload.create_doc("posts", _doc(i))
        client: Client = await connect(environ=stack.env())
        chaos = Chaos(stack, env, config, report, proxy)
        stack.chaos(
            duplicate_every=config.duplicate_every,
            late_every=config.late_every,
            late_delay_s=config.late_delay_s,
            kill_fraction=config.function_kill_fraction,
            kill_functions=[
                "RenderSegmentFunction",
                "AudioMixFunction",
                "FinalizeVideoFunction",
                "RenderImageFunction",
            ],
        )
        handles: list[WorkflowHandle[Any, Any]] = []
        for i in range(config.videos):
            handles.append(
                await client.start_workflow(
                    RenderVideoWorkflow.run,
                    RenderVideoInput(
                        spec=_video(assets, i),
                        output_bucket=stack.bucket,
                        dispatch=POLICY,
                        account=ACCOUNT,
                    ),
                    id=f"soak-video-{i}-{uuid.uuid4().hex[:6]}",
                    task_queue=queue,
                )
            )
        for i in range(config.images):
            handles.append(
                await client.start_workflow(
                    GenerateImageWorkflow.run,
                    GenerateImageInput(
                        spec=_image(assets, i),
                        output_bucket=stack.bucket,
                        account=ACCOUNT,
                        dispatch=POLICY,
                    ),
                    id=f"soak-image-{i}-{uuid.uuid4().hex[:6]}",
                    task_queue=queue,
                )
            )
        publishes = [
            await client.start_workflow(
                PublishCreativeWorkflow.run,
                _publish(assets, i, stack.bucket),
                id=f"soak-publish-{i}-{uuid.uuid4().hex[:6]}",
                task_queue=queue,
            )
            for i in range(config.publishes)
        ]
        handles += publishes
        report.started = len(handles)
        driver = asyncio.ensure_future(chaos.run())
        reviewer = asyncio.ensure_future(_approve_when_waiting(publishes, chaos.kills_done))
        deadline = time.monotonic() + config.deadline_s
        stage(f"the outcomes of {len(handles)} workflows")
        outcomes = await asyncio.gather(*[_outcome(h, deadline) for h in handles])
        chaos.done.set()
        stage("the chaos driver to stop")
        await driver
        stage("the checks (Postiz, ledger, permits, Payload)")
        reviewer.cancel()
        chaos.stop()
        report.completed = sum(o.startswith("completed") for o in outcomes)
        report.lost = sum(o.startswith("lost") for o in outcomes)
        refused = [o for o in outcomes if o.startswith("publish_failed")]
        report.failures = [
            o for o in outcomes if not o.startswith("completed") and o not in refused
        ]
        report.failed = sum(o.startswith("failed") for o in outcomes)
        # Counted from Postiz's side: every post that is or will be published (drafts are
        # never published), by the publish key it carries and its channel.
        postiz = stack.double_state("postiz")
        stored = [p for p in postiz["posts"] if p["state"] != "DRAFT"]
        per_post = Counter((PostizPublisher.key_of(p), p["integration"]["id"]) for p in stored)
        report.duplicate_postiz_posts = sum(n - 1 for n in per_post.values() if n > 1)
        live = {PostizPublisher.key_of(p) for p in stored if p["state"] == "PUBLISHED"}
        published = [o for o in outcomes if o == "completed: published"]
        report.lost_postiz_posts = max(0, len(published) - len(live))
        # A post Postiz failed to publish (the soak's ERROR fault) ends its publish
        # publish_failed, naming the channel: exactly those, no more.
        report.postiz_refused = len(refused)
        report.postiz_errored = int(postiz["faults_hit"].get("errored", 0))
        report.postiz_stuck = int(postiz["faults_hit"].get("stuck", 0))
        report.postiz_faults_hit = dict(postiz["faults_hit"])
        ledger_checks(stack, report)
        report.conflicts = stack.contention()
        report.iam_denials = [
            f"{d['principal']} {d['action']} {d['resource']}" for d in stack.iam_seen()["denials"]
        ]
        report.leaked_permits = await leaked_permits(client, queue)
        stats = stack.lambda_stats()
        report.duplicated_events = sum(s["duplicated_events"] for s in stats.values())
        report.late_events = sum(s["late_events"] for s in stats.values())
        killed = stack.chaos_stats()
        report.function_kills = killed["killed_mid_invocation"]
        report.kill_candidates = killed["kill_candidates"]
        # A publish whose post Postiz failed (the ERROR fault) ends publish_failed, in
        # Payload too: its document's expected ending.
        refused_ids = {o.split(": ")[1] for o in refused}
        refused_docs = {
            int(wid.split("-")[2]) for wid in refused_ids if wid.startswith("soak-publish-")
        }
        report.payload_wrong = payload_endings(stack, config.publishes, refused_docs)
        # Faults that hit a request (an armed fault no request reached is not counted).
        report.payload_faults = sum(get_json(f"{proxy}/_fault/state")["injected"].values())
    report.duplicate_segment_renders, report.segment_renders = segment_duplicates(
        log_path.read_text(errors="replace")
    )
    report.seconds = time.monotonic() - began
    return report


def payload_endings(
    stack: LocalStack, publishes: int, refused: set[int] | frozenset[int] = frozenset()
) -> list[str]:
    """Publishes whose Payload document does not end in the stage its fate leads to (a
    lost or out-of-order report), each as "doc: expected, found"."""
    assert stack.payload is not None
    wrong = []
    for i in range(publishes):
        found = (stack.payload.doc("posts", _doc(i)) or {}).get("engineStage")
        expected = "publish_failed" if i in refused else ENDINGS[_fate(i)]
        if found != expected:
            wrong.append(f"{_doc(i)}: expected {expected}, found {found}")
    return wrong


async def leaked_permits(client: Client, queue: str) -> int:
    """Permits still held once every workflow has ended (a Postiz budget take is held for
    its window by design and is not counted)."""
    leaked = 0
    for pool in POOLS:
        if pool == POSTIZ_POSTS:
            continue
        with contextlib.suppress(RPCError):
            state = await client.get_workflow_handle(semaphore_id(queue, pool)).query(
                "snapshot", result_type=SemaphoreState
            )
            leaked += len(state.holders) + state.waiting
    return leaked


def main(argv: list[str] | None = None) -> None:
    config = config_from_argv(SoakConfig(), "chaos soak on the local stack", argv)
    out = Path("test-artifacts")
    out.mkdir(exist_ok=True)
    # Past every workflow's deadline plus set-up and the checks, the soak gives a verdict
    # naming what it waited for instead of waiting on (smm_local.deadline).
    overall = Deadline("make soak", config.deadline_s + 900)
    try:
        with tempfile.TemporaryDirectory() as state, overall:
            report = asyncio.run(run_soak(config, Path(state), out / "soak-stack.log", overall))
    except DeadlineExceeded as err:
        print(f"soak: no verdict on the workflows: {err}", file=sys.stderr)
        exit_now(1)
    print("\n".join(report.lines()))
    (out / "soak-report.json").write_text(json.dumps(asdict(report), indent=1))
    bad = (
        report.lost
        or report.failed
        or report.duplicate_segment_renders
        or report.duplicate_charges
        or report.duplicate_postiz_posts
        or report.lost_postiz_posts
        or report.postiz_refused != report.postiz_errored
        or report.payload_wrong
        or not report.ledger_invariants_hold
        or report.stale_holds
        or report.leaked_permits
        or report.iam_denials
        or not sum(report.conflicts.values())  # the soak must exercise the retries
    )
    exit_now(1 if bad else 0)  # temporalio may abort the interpreter at exit (process_exit)


if __name__ == "__main__":
    main()
