"""The demo (``make demo``, ``smm-local demo``): the main job, end to end, on the local stack.

A branded video in two presets, a card and a carousel, then the publish flow (render,
approval, Postiz) billed to a demo account; it prints each stage and the outputs. It drives
the product only through its public CLI helpers and Temporal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import boto3

from orchestrator.cli.channels import store as channel_store
from orchestrator.cli.credits import ledger as cli_ledger
from orchestrator.cli.publish import FINAL_STAGES, follow_publish
from orchestrator.cli.render import render_spec, report
from orchestrator.cli.settings import settings
from smm_local.deadline import Deadline, DeadlineExceeded
from smm_local.demo_assets import card_spec, carousel_spec, demo_spec, upload_demo_assets
from smm_local.exit_watch import ExitWatch
from smm_local.loopback import free_port
from smm_local.postiz_double import CHANNEL_SETTINGS
from smm_local.stack import ROOT, LocalStack
from smm_local.temporal_dev import ensure_search_attributes
from smm_runtime.contract import TASK_QUEUE
from smm_runtime.temporal_conn import connect

DEMO_ACCOUNT = "demo-agency"
# The whole demo, set-up to report (it takes about 1 to 2 minutes here): past this it stops
# everything and names the stage it was waiting in.
DEADLINE_S = 15 * 60


async def _images(card: dict[str, Any], carousel: dict[str, Any], out_dir: Path) -> list[Path]:
    """A branded card and a carousel, rendered by the Node.js function, downloaded."""
    from orchestrator.render.image import GenerateImageWorkflow
    from smm_runtime.contract.workflow_io import GenerateImageInput

    client = await connect()
    bucket = settings().output_bucket
    handles = [
        await client.start_workflow(
            GenerateImageWorkflow.run,
            GenerateImageInput(spec=spec, output_bucket=bucket, account=settings().account),
            id=f"demo-{name}-{int(time.time())}",
            task_queue=TASK_QUEUE,
        )
        for name, spec in (("card", card), ("carousel", carousel))
    ]
    card_result, carousel_result = await asyncio.gather(*[h.result() for h in handles])
    s3 = boto3.client("s3")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    named = [("demo-card.png", card_result.images[0])] + [
        (f"demo-carousel-{image.index}.png", image) for image in carousel_result.images
    ]
    for name, image in named:
        path = out_dir / name
        s3.download_file(image.output.bucket, image.output.key, str(path))
        paths.append(path)
    print(f"rendered a card and a {len(carousel_result.images)}-slide carousel:")
    return paths


def cmd_demo(args: argparse.Namespace) -> int:
    log_path = ROOT / ".local" / "demo.log"
    log_path.parent.mkdir(exist_ok=True)
    ui_port = args.ui_port if _port_free(args.ui_port) else free_port()
    try:
        with Deadline("make demo", DEADLINE_S) as deadline:
            return _run(args, log_path, ui_port, deadline)
    except DeadlineExceeded as err:
        print(f"error: {err}; see {log_path}; nothing was left running", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, log_path: Path, ui_port: int, deadline: Deadline) -> int:
    deadline.stage("starting the local stack")
    with log_path.open("w") as log, LocalStack(ui_port=ui_port, persistent=True, log=log) as stack:
        print(
            f"local stack up: Temporal {stack.temporal_address} (namespace smm-hub-core), "
            f"S3 {stack.moto_url}, Lambda {stack.lambda_url}"
        )
        ensure_search_attributes(stack.temporal_address)
        with ExitWatch(stack.start_worker()) as watch:
            try:
                _demo(stack, args, ui_port, deadline)
            except KeyboardInterrupt:
                if watch.died is None:
                    raise
                print(
                    f"the worker exited (status {watch.died}) before the demo finished: see "
                    f"{log_path} for why; nothing else was left running"
                )
                return 1
    print("stopped everything the demo started")
    return 0


def _report_iam(seen: dict[str, Any]) -> None:
    """Every AWS call ran as template.yaml grants its principal; a denial fails the demo."""
    calls = ", ".join(f"{p} {n}" for p, n in sorted(seen["calls"].items()))
    print(f"IAM (template.yaml, enforced): calls by principal: {calls}")
    if seen["denials"]:
        denied = "; ".join(
            f"{d['principal']} {d['action']} {d['resource']}" for d in seen["denials"]
        )
        raise RuntimeError(f"the template's IAM denied {len(seen['denials'])} call(s): {denied}")


def _demo(stack: Any, args: argparse.Namespace, ui_port: int, deadline: Deadline) -> None:
    os.environ.update(stack.env())
    os.environ["SMM_ACCOUNT"] = DEMO_ACCOUNT
    uris = upload_demo_assets(stack.s3(), stack.bucket)
    spec = demo_spec(uris)
    ledger = cli_ledger()
    ledger.grant(DEMO_ACCOUNT, 500, f"demo:{DEMO_ACCOUNT}:welcome")
    # What `smm-engine channels allow` does: the account posts only where it is allowed.
    channel_store().allow(DEMO_ACCOUNT, ["instagram-demo", "tiktok-demo"])
    before = ledger.balance(DEMO_ACCOUNT)
    print(f"credits of {DEMO_ACCOUNT!r} before: {before.balance}")
    workflow_id = f"demo-{int(time.time())}"
    deadline.stage(f"rendering the video ({workflow_id})")
    started = time.monotonic()
    paths, result = asyncio.run(render_spec(spec, ROOT / "out", workflow_id, "demo"))
    print(f"rendered {len(result.outputs)} presets in {time.monotonic() - started:.1f}s:")
    report(paths, result)
    deadline.stage("rendering the card and the carousel")
    images = asyncio.run(_images(card_spec(uris), carousel_spec(uris), ROOT / "out"))
    for path in images:
        print(f"  wrote {path}")
    deadline.stage("the publish flow (render, approval, Postiz, Payload)")
    _demo_publish(stack, spec, args.auto_approve)
    after = ledger.balance(DEMO_ACCOUNT)
    print(
        f"credits of {DEMO_ACCOUNT!r} after: {after.balance} "
        f"(charged {before.balance - after.balance}; held {after.held})"
    )
    for entry in ledger.history(DEMO_ACCOUNT, 10):
        print(f"  {entry['op']:<8} {entry.get('amount', 0):>5}  {entry['key']}")
    _report_iam(stack.iam_seen())
    print(f"Temporal Web UI: http://127.0.0.1:{ui_port}/namespaces/smm-hub-core/workflows")
    if args.keep:
        deadline.cancel()  # kept up by request: no deadline
        print("--keep: the stack stays up until Ctrl-C")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


def _demo_publish(stack: Any, spec: dict[str, Any], auto_approve: bool) -> None:
    """The flow the product exists for: render, wait for approval, publish to Postiz."""
    from orchestrator.publish.workflow import PublishCreativeWorkflow
    from smm_runtime.contract.publish_io import PublishInput

    doc = f"demo-post-{int(time.time())}"
    stack.payload.create_doc("posts", doc, "Spring launch")  # what an editor's save does
    params = PublishInput.model_validate(
        {
            "creative": {"kind": "video", "spec": spec},
            "post": {
                "content": "Spring launch: fresh looks for every feed",
                "integrations": ["instagram-demo", "tiktok-demo"],
                "channel_settings": CHANNEL_SETTINGS,
                "type": "now",
                "tags": [{"value": "spring", "label": "Spring"}],
            },
            "distribution": {"follow_every_s": 2},
            "approval": {"reviewers": ["editor@example.com"]},
            "payload": {"collection": "posts", "id": doc},
            "account": DEMO_ACCOUNT,
            "output_bucket": stack.bucket,
        }
    )
    workflow_id = f"demo-publish-{int(time.time())}"

    async def run() -> Any:
        client = await connect()
        await client.start_workflow(
            PublishCreativeWorkflow.run, params, id=workflow_id, task_queue=TASK_QUEUE
        )
        print(f"publish flow {workflow_id}:")
        await follow_publish(workflow_id, {"awaiting_approval"})
        await _show_waiting(client, workflow_id)
        link = await _review_link(stack, "editor@example.com")
        if link:
            print(f"  the reviewer's link (open it in a browser):\n    {link}")
        print(
            f"  the Payload document: {stack.payload.url}/api/posts/{doc} (in a Payload "
            f"app with its admin panel: /admin/collections/posts/{doc})"
        )
        if auto_approve:
            print("  --auto-approve: approving as editor@example.com")
            await client.get_workflow_handle(workflow_id).execute_update(
                "approve", {"decision": "approve", "reviewer": "editor@example.com"}
            )
        else:
            print(
                f"  or, in another shell (with the env of `smm-local dev`):"
                f"\n    smm-engine approve {workflow_id} --reviewer editor@example.com"
            )
        return await follow_publish(workflow_id, FINAL_STAGES)

    status = asyncio.run(run())
    posts = stack.double_state("postiz")["posts"]
    print(
        f"  Postiz (local double) post ids: {', '.join(status.postiz_post_ids)} "
        f"({len(posts)} posts, media uploaded once per output)"
    )
    if status.stage != "published":
        raise SystemExit(f"demo: the publish ended {status.stage}: {status.error}")
    _print_payload_document(stack, doc)


async def _show_waiting(client: Any, workflow_id: str) -> None:
    """What `smm-engine list` answers while the creative waits (visibility lags a moment)."""
    from orchestrator.cli.listing import list_engine_workflows, table, visibility_query

    query = visibility_query("awaiting_approval", DEMO_ACCOUNT, "publish")
    for _ in range(50):
        rows = [
            r
            for r in await list_engine_workflows(client, query, 20)
            if r["workflow_id"] == workflow_id
        ]
        if rows:
            print(
                f"  found while it waits: smm-engine list --stage awaiting_approval "
                f"--account {DEMO_ACCOUNT}"
            )
            print("\n".join(f"    {line}" for line in table(rows).splitlines()))
            return
        await asyncio.sleep(0.2)
    print("  (not yet in Temporal's visibility store after 10 s)")


def _print_payload_document(stack: Any, doc: str) -> None:
    """The document as Payload now holds it, read back through its REST API."""
    for _ in range(50):  # the write-back runs beside the flow: let it catch up
        found = stack.payload.doc("posts", doc)
        if found and found.get("engineStage") in FINAL_STAGES:
            break
        time.sleep(0.2)
    stages = stack.payload.stages("posts", doc)
    print(f"  Payload document posts/{doc} (GET {stack.payload.url}/api/posts/{doc}):")
    for key in (
        "engineStage",
        "engineRound",
        "engineWorkflowId",
        "enginePostizPostIds",
        "enginePermalinks",
        "engineReviewSentTo",
        "engineOutputs",
    ):
        print(f"    {key}: {json.dumps((found or {}).get(key))}")
    print(f"    stages, from its versions: {' > '.join(stages)}")


async def _review_link(stack: Any, reviewer: str) -> str | None:
    """The private review link the reviewer's own inbox (the local chat double) received."""
    for _ in range(100):
        for message in reversed(stack.double_state("inbox")["messages"]):
            found = re.search(r"<(http[^|>]+)\|", message["body"]["text"])
            if message["inbox"] == reviewer and found:
                return found.group(1)
        await asyncio.sleep(0.2)
    return None


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0
