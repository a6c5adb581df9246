"""smm-engine: run the worker, bring up the local stack, render a spec, run the demo."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from pydantic import ValidationError

from smm_runtime.codec import PayloadKeyError
from smm_runtime.contracts import ContractError, describe_validation_error
from smm_runtime.temporal_conn import TemporalConfigError, connect
from smm_runtime.workflow_io import RenderVideoOutput

ROOT = Path(__file__).resolve().parents[1]
DEMO_ACCOUNT = "demo-agency"


def _print_progress(progress: dict[str, Any]) -> None:
    running = progress.get("running", [])
    pcts = [r["percent"] for r in running if isinstance(r.get("percent"), int | float)]
    line = (f"  {progress.get('stage', '?'):<18} segments {progress.get('segments_done', 0)}"
            f"/{progress.get('segments_total', 0)}")
    if progress.get("segments_reused"):
        line += f" ({progress['segments_reused']} from checkpoints)"
    if pcts:
        line += f"  running {len(running)} at {sum(pcts) / len(pcts):5.1f}% avg"
    retries = [r for r in running if r.get("attempt", 1) > 1]
    if retries:
        line += f"  retrying {len(retries)}"
    end = "\r" if sys.stdout.isatty() else "\n"
    print(f"{line:<90}", end=end, flush=True)


async def _render(spec: dict[str, Any], out_dir: Path, workflow_id: str | None,
                  stem: str) -> tuple[list[Path], RenderVideoOutput]:
    from orchestrator.render_client import download, follow, start_render

    client = await connect()
    bucket = os.environ.get("SMM_OUTPUT_BUCKET", "smm-creative-output")
    handle = await start_render(client, spec, output_bucket=bucket, workflow_id=workflow_id,
                                assets_bucket=os.environ.get("SMM_ASSETS_BUCKET"),
                                account=os.environ.get("SMM_ACCOUNT"))
    print(f"started workflow {handle.id} in namespace {client.namespace}")
    last: dict[str, Any] = {}

    def show(progress: dict[str, Any]) -> None:
        # Print on change only, so a log stays readable when stdout is not a terminal.
        key = {k: progress.get(k) for k in ("stage", "segments_done", "segments_reused")}
        if key != last or sys.stdout.isatty():
            last.clear()
            last.update(key)
            _print_progress(progress)

    result = await follow(handle, show)
    if sys.stdout.isatty():
        print()
    return download(boto3.client("s3"), result, out_dir, stem), result


async def _images(card: dict[str, Any], carousel: dict[str, Any], out_dir: Path) -> list[Path]:
    """A branded card and a carousel, rendered by the Node.js function, downloaded."""
    from orchestrator.workflows.generate_image import GenerateImageWorkflow
    from smm_runtime import TASK_QUEUE
    from smm_runtime.workflow_io import GenerateImageInput

    client = await connect()
    bucket = os.environ.get("SMM_OUTPUT_BUCKET", "smm-creative-output")
    handles = [await client.start_workflow(
        GenerateImageWorkflow.run, GenerateImageInput(spec=spec, output_bucket=bucket,
                                                      account=os.environ.get("SMM_ACCOUNT")),
        id=f"demo-{name}-{int(time.time())}", task_queue=TASK_QUEUE)
        for name, spec in (("card", card), ("carousel", carousel))]
    card_result, carousel_result = await asyncio.gather(*[h.result() for h in handles])
    s3 = boto3.client("s3")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    named = [("demo-card.png", card_result.images[0])] + [
        (f"demo-carousel-{image.index}.png", image) for image in carousel_result.images]
    for name, image in named:
        path = out_dir / name
        s3.download_file(image.output.bucket, image.output.key, str(path))
        paths.append(path)
    print(f"rendered a card and a {len(carousel_result.images)}-slide carousel:")
    return paths


def _report(paths: list[Path], result: RenderVideoOutput) -> None:
    for output in result.outputs:
        media = output.media
        print(f"  {output.preset:>5}: {media.width}x{media.height} {media.video_codec}/"
              f"{media.audio_codec} {media.duration_s:.2f}s {media.frames} frames "
              f"{media.size_bytes} bytes")
    print(f"  segments: {result.segments_total} ({result.segments_rendered} rendered, "
          f"{result.segments_reused} from checkpoints); compute "
          f"{result.usage.gb_seconds:.1f} GB-s")
    for path in paths:
        print(f"  wrote {path}")


def cmd_render(args: argparse.Namespace) -> int:
    try:
        spec = json.loads(Path(args.spec).read_text())
    except (OSError, json.JSONDecodeError) as err:
        print(f"error: {args.spec}: {err}", file=sys.stderr)
        return 2
    paths, result = asyncio.run(_render(spec, Path(args.out), args.id, args.id or "render"))
    _report(paths, result)
    return 0


def cmd_brand_kit(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from smm_runtime.contracts import describe_validation_error
    from smm_runtime.video_spec import BrandKit

    try:
        kit = BrandKit.model_validate_json(Path(args.file).read_text())
    except OSError as err:
        print(f"error: {args.file}: {err}", file=sys.stderr)
        return 2
    except ValidationError as err:
        print(f"error: {args.file}: {describe_validation_error(err, prefix='brand_kit.')}",
              file=sys.stderr)
        return 2
    bucket = args.bucket or os.environ.get("SMM_ASSETS_BUCKET") or os.environ.get(
        "SMM_OUTPUT_BUCKET", "smm-creative-output")
    boto3.client("s3").put_object(Bucket=bucket, Key=f"brand-kits/{kit.id}.json",
                                  Body=kit.model_dump_json().encode(),
                                  ContentType="application/json")
    print(f"stored brand kit {kit.id!r} at s3://{bucket}/brand-kits/{kit.id}.json")
    return 0


async def _follow_publish(workflow_id: str, until: set[str], quiet: bool = False) -> Any:
    """Print each stage change (and render progress) until one of ``until`` is reached."""
    from orchestrator.progress import live_progress
    from smm_runtime.publish_io import PublishStatus

    client = await connect()
    handle = client.get_workflow_handle(workflow_id)
    last = None
    while True:
        status = await handle.query("status", result_type=PublishStatus)
        line = f"  stage: {status.stage} (round {status.round})"
        if status.stage == "rendering" and status.render_workflow_id:
            try:
                child = await live_progress(
                    client.get_workflow_handle(status.render_workflow_id))
                line += (f"  segments {child.get('segments_done', 0)}/"
                         f"{child.get('segments_total', 0)} "
                         f"({child.get('segments_reused', 0)} from checkpoints)")
            except Exception:
                pass
        if line != last and not quiet:
            print(line, flush=True)
            last = line
        if status.stage in until:
            return status
        await asyncio.sleep(0.5)


def cmd_publish(args: argparse.Namespace) -> int:
    from orchestrator.workflows.publish_creative import PublishCreativeWorkflow
    from smm_runtime.publish_io import PublishInput

    try:
        body = json.loads(Path(args.file).read_text())
        params = PublishInput.model_validate(
            {"output_bucket": os.environ.get("SMM_OUTPUT_BUCKET", "smm-creative-output"),
             "assets_bucket": os.environ.get("SMM_ASSETS_BUCKET"), **body})
    except (OSError, json.JSONDecodeError) as err:
        print(f"error: {args.file}: {err}", file=sys.stderr)
        return 2
    except ValidationError as err:
        print(f"error: {args.file}: {describe_validation_error(err)}", file=sys.stderr)
        return 2

    async def start() -> str:
        client = await connect()
        handle = await client.start_workflow(
            PublishCreativeWorkflow.run, params, id=args.id or f"publish-{int(time.time())}",
            task_queue=os.environ.get("SMM_TASK_QUEUE", "creative-engine"))
        return handle.id

    workflow_id = asyncio.run(start())
    print(f"started {workflow_id}; approve with: smm-engine approve {workflow_id} "
          "--reviewer YOU")
    if args.follow:
        asyncio.run(_follow_publish(workflow_id, FINAL_STAGES))
    return 0


FINAL_STAGES = {"published", "rejected", "expired", "failed"}


def cmd_approve(args: argparse.Namespace) -> int:
    from temporalio.client import WorkflowUpdateFailedError

    from smm_runtime.publish_io import PublishStatus

    decision = "reject" if args.reject else "revise" if args.revise else "approve"
    payload: dict[str, Any] = {"decision": decision, "reviewer": args.reviewer,
                               "comment": args.comment or ""}
    if args.changes:
        payload["changes"] = json.loads(args.changes)

    async def send() -> PublishStatus:
        client = await connect()
        # The update answers yes or no at once (the signal agent_approval is fire-and-forget).
        status: PublishStatus = await client.get_workflow_handle(
            args.workflow_id).execute_update("approve", payload, result_type=PublishStatus)
        return status

    try:
        status = asyncio.run(send())
    except WorkflowUpdateFailedError as err:
        print(f"refused: {err.cause}", file=sys.stderr)
        return 1
    print(f"{decision} accepted; stage: {status.stage}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from smm_runtime.publish_io import PublishStatus

    if args.follow:
        asyncio.run(_follow_publish(args.workflow_id, FINAL_STAGES | {"awaiting_approval"}))
        return 0

    async def read() -> PublishStatus:
        client = await connect()
        status: PublishStatus = await client.get_workflow_handle(args.workflow_id).query(
            "status", result_type=PublishStatus)
        return status

    print(asyncio.run(read()).model_dump_json(indent=2))
    return 0


def _ledger() -> Any:
    from smm_runtime.ledger import Ledger

    table = os.environ.get("SMM_LEDGER_TABLE")
    if not table:
        raise SystemExit("error: set SMM_LEDGER_TABLE (the stack output LedgerTableName)")
    return Ledger(boto3.client("dynamodb"), table)


def cmd_credits(args: argparse.Namespace) -> int:
    if args.credits_command == "balance":
        b = _ledger().balance(args.account)
        print(f"{b.account}: balance {b.balance}, held {b.held}, granted {b.granted}, "
              f"captured {b.captured}")
    elif args.credits_command == "grant":
        entry = _ledger().grant(args.account, args.amount, args.key or
                                f"manual:{args.account}:{int(time.time())}")
        print(f"granted {entry['amount']} to {args.account} (key {entry['key']})")
    elif args.credits_command == "history":
        for entry in _ledger().history(args.account, args.limit):
            print(f"{entry['at']}  {entry['op']:<8} {entry.get('amount', 0):>8}  {entry['key']}")
    else:
        asyncio.run(_schedule_grant(args.account, args.amount, args.cron))
    return 0


async def _schedule_grant(account: str, amount: int, cron: str) -> None:
    """Create or update (idempotently) the monthly grant schedule of an account."""
    from temporalio.client import (
        Schedule,
        ScheduleActionStartWorkflow,
        ScheduleAlreadyRunningError,
        ScheduleSpec,
        ScheduleUpdate,
        ScheduleUpdateInput,
    )

    from orchestrator.workflows.grant_credits import GrantCreditsWorkflow, GrantInput

    client = await connect()
    schedule_id = f"credits-grant-{account}"
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            GrantCreditsWorkflow.run, GrantInput(account=account, amount=amount),
            id=f"credits-grant-{account}", task_queue=os.environ.get("SMM_TASK_QUEUE",
                                                                     "creative-engine")),
        spec=ScheduleSpec(cron_expressions=[cron]))
    try:
        await client.create_schedule(schedule_id, schedule)
        print(f"created schedule {schedule_id}: {amount} credits, cron {cron!r}")
    except ScheduleAlreadyRunningError:
        def update(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(update)
        print(f"updated schedule {schedule_id}: {amount} credits, cron {cron!r}")


def cmd_slots(args: argparse.Namespace) -> int:
    """Each pool's holders and waiters (and, with --set, a new capacity)."""
    from orchestrator.workflows.permits import semaphore_id
    from smm_runtime.permits_io import POOLS, SemaphoreState

    async def show() -> None:
        client = await connect()
        queue = os.environ.get("SMM_TASK_QUEUE", "creative-engine")
        for pool in POOLS:
            handle = client.get_workflow_handle(semaphore_id(queue, pool))
            if args.set and args.set[0] == pool:
                await handle.signal("configure", int(args.set[1]))
            try:
                state = await handle.query("snapshot", result_type=SemaphoreState)
            except Exception:
                print(f"{pool}: idle (no semaphore started yet)")
                continue
            print(f"{pool}: {len(state.holders)}/{state.capacity} held, "
                  f"{len(state.waiters)} waiting; granted {state.granted_total}, "
                  f"leases expired {state.expired_total}")
            for permit_id, holder in state.holders.items():
                print(f"  holds  {permit_id}  (lease until {holder.lease_until:%H:%M:%S})")
            for position, waiter in enumerate(state.waiters, start=1):
                print(f"  #{position:<4} {waiter.permit_id}")

    asyncio.run(show())
    return 0


def cmd_worker(_: argparse.Namespace) -> int:
    from orchestrator.worker import main as worker_main

    worker_main()
    return 0


def cmd_codec_server(args: argparse.Namespace) -> int:
    from orchestrator.codec_server import CodecServer, CodecServerConfig
    from smm_runtime import NAMESPACE_DEFAULT
    from smm_runtime.codec import AesGcmCodec, load_keys

    keys = load_keys()
    if keys is None:
        raise TemporalConfigError("SMM_PAYLOAD_KEYS or SMM_PAYLOAD_KEYS_SECRET_ARN: the codec "
                                  "server needs the payload keys the worker uses")
    tokens = [t.strip() for t in os.environ.get("SMM_CODEC_TOKENS", "").split(",") if t.strip()]
    if not tokens or any(len(t) < 24 for t in tokens):
        raise TemporalConfigError("SMM_CODEC_TOKENS: set one or more comma-separated bearer "
                                  "tokens of 24+ characters (e.g. `openssl rand -hex 24`)")
    origins = [o.strip() for o in os.environ.get(
        "SMM_CODEC_CORS_ORIGINS", "http://localhost:8233").split(",") if o.strip()]
    config = CodecServerConfig(codec=AesGcmCodec(keys), tokens=tokens, cors_origins=origins,
                               namespace=os.environ.get("TEMPORAL_NAMESPACE", NAMESPACE_DEFAULT))
    server = CodecServer(args.host, args.port, config)
    print(f"codec server on http://{args.host}:{server.port} for {config.namespace} "
          f"(CORS: {', '.join(origins)})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    from smm_local.stack import LocalStack

    stack = LocalStack(ui_port=args.ui_port, persistent=True, log=sys.stderr)
    with stack:
        stack.start_worker()
        print("local stack is up; in another shell:")
        for key, value in stack.env().items():
            print(f"  export {key}={value}")
        print(f"Temporal Web UI: {stack.ui_url}\nCtrl-C stops everything.")
        try:
            while all(p.poll() is None for p in stack.procs.values()):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from smm_local.demo_assets import card_spec, carousel_spec, demo_spec, upload_demo_assets
    from smm_local.stack import LocalStack, free_port

    log_path = ROOT / ".local" / "demo.log"
    log_path.parent.mkdir(exist_ok=True)
    ui_port = args.ui_port if _port_free(args.ui_port) else free_port()
    with log_path.open("w") as log, LocalStack(ui_port=ui_port, persistent=True, log=log) as stack:
        print(f"local stack up: Temporal {stack.temporal_address} (namespace smm-hub-core), "
              f"S3 {stack.moto_url}, Lambda {stack.lambda_url}")
        stack.start_worker()
        os.environ.update(stack.env())
        os.environ["SMM_ACCOUNT"] = DEMO_ACCOUNT
        uris = upload_demo_assets(stack.s3(), stack.bucket)
        spec = demo_spec(uris)
        ledger = _ledger()
        ledger.grant(DEMO_ACCOUNT, 500, f"demo:{DEMO_ACCOUNT}:welcome")
        before = ledger.balance(DEMO_ACCOUNT)
        print(f"credits of {DEMO_ACCOUNT!r} before: {before.balance}")
        workflow_id = f"demo-{int(time.time())}"
        started = time.monotonic()
        paths, result = asyncio.run(_render(spec, ROOT / "out", workflow_id, "demo"))
        print(f"rendered {len(result.outputs)} presets in {time.monotonic() - started:.1f}s:")
        _report(paths, result)
        images = asyncio.run(_images(card_spec(uris), carousel_spec(uris), ROOT / "out"))
        for path in images:
            print(f"  wrote {path}")
        _demo_publish(stack, spec, args.auto_approve)
        after = ledger.balance(DEMO_ACCOUNT)
        print(f"credits of {DEMO_ACCOUNT!r} after: {after.balance} "
              f"(charged {before.balance - after.balance}; held {after.held})")
        for entry in ledger.history(DEMO_ACCOUNT, 10):
            print(f"  {entry['op']:<8} {entry.get('amount', 0):>5}  {entry['key']}")
        print(f"Temporal Web UI: http://127.0.0.1:{ui_port}/namespaces/smm-hub-core/workflows")
        if args.keep:
            print("--keep: the stack stays up until Ctrl-C")
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
    print("stopped everything the demo started")
    return 0


def _demo_publish(stack: Any, spec: dict[str, Any], auto_approve: bool) -> None:
    """The flow the product exists for: render, wait for approval, publish to Postiz."""
    from orchestrator.workflows.publish_creative import PublishCreativeWorkflow
    from smm_runtime.publish_io import PublishInput

    params = PublishInput.model_validate({
        "creative": {"kind": "video", "spec": spec},
        "post": {"content": "Spring launch: fresh looks for every feed",
                 "integrations": ["instagram-demo", "tiktok-demo"], "type": "now",
                 "tags": [{"value": "spring", "label": "Spring"}]},
        "approval": {"reviewers": ["editor@example.com"]},
        "payload": {"collection": "posts", "id": "demo-post"},
        "account": DEMO_ACCOUNT, "output_bucket": stack.bucket})
    workflow_id = f"demo-publish-{int(time.time())}"

    async def run() -> Any:
        client = await connect()
        await client.start_workflow(PublishCreativeWorkflow.run, params, id=workflow_id,
                                    task_queue="creative-engine")
        print(f"publish flow {workflow_id}:")
        await _follow_publish(workflow_id, {"awaiting_approval"})
        if auto_approve:
            print("  --auto-approve: approving as editor@example.com")
            await client.get_workflow_handle(workflow_id).execute_update(
                "approve", {"decision": "approve", "reviewer": "editor@example.com"})
        else:
            link = await _review_link(stack, "posts/demo-post")
            if link:
                print(f"  waiting for approval: open the review link in a browser\n    {link}")
            print(f"  or, in another shell (with the env of `smm-engine dev`):"
                  f"\n    smm-engine approve {workflow_id} --reviewer editor@example.com")
        return await _follow_publish(workflow_id, FINAL_STAGES)

    status = asyncio.run(run())
    posts = stack.double_state("postiz")["posts"]
    print(f"  Postiz (local double) post ids: {', '.join(status.postiz_post_ids)} "
          f"({len(posts)} posts, media uploaded once per output)")


async def _review_link(stack: Any, doc: str) -> str | None:
    """The review link the workflow announced to (the local double of) Payload."""
    for _ in range(100):
        for update in reversed(stack.double_state("payload")["updates"]):
            links = update["data"].get("engineReviewLinks")
            if update["doc"] == doc and links:
                return str(next(iter(links.values())))
        await asyncio.sleep(0.2)
    return None


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="smm-engine", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("worker", help="run the Temporal worker (env: TEMPORAL_*, SMM_*)")
    dev = sub.add_parser("dev", help="bring up the local stack and a worker, and keep them")
    dev.add_argument("--ui-port", type=int, default=8233)
    render = sub.add_parser("render", help="render SPEC.json and download the MP4")
    render.add_argument("spec")
    render.add_argument("--id", help="workflow id (default: a new one)")
    render.add_argument("--out", default="out")
    publish = sub.add_parser("publish", help="start PublishCreativeWorkflow from a JSON file")
    publish.add_argument("file", help="{creative, post, approval?, payload?}")
    publish.add_argument("--id", help="workflow id (default: a new one)")
    publish.add_argument("--follow", action="store_true", help="print each stage until done")
    approve = sub.add_parser("approve", help="approve (or reject/revise) a waiting creative")
    approve.add_argument("workflow_id")
    approve.add_argument("--reviewer", required=True)
    approve.add_argument("--comment")
    verdict = approve.add_mutually_exclusive_group()
    verdict.add_argument("--reject", action="store_true")
    verdict.add_argument("--revise", action="store_true")
    approve.add_argument("--changes", help="with --revise: a JSON merge patch for the spec")
    status = sub.add_parser("status", help="a publish workflow's status")
    status.add_argument("workflow_id")
    status.add_argument("--follow", action="store_true", help="print stage changes")
    credits = sub.add_parser("credits", help="the credit ledger (env: SMM_LEDGER_TABLE)")
    credit_sub = credits.add_subparsers(dest="credits_command", required=True)
    balance = credit_sub.add_parser("balance")
    balance.add_argument("account")
    grant = credit_sub.add_parser("grant")
    grant.add_argument("account")
    grant.add_argument("amount", type=int)
    grant.add_argument("--key", help="idempotency key: the same key grants once")
    history = credit_sub.add_parser("history")
    history.add_argument("account")
    history.add_argument("--limit", type=int, default=50)
    schedule = credit_sub.add_parser("schedule", help="create/update the monthly grant")
    schedule.add_argument("account")
    schedule.add_argument("amount", type=int)
    schedule.add_argument("--cron", default="0 0 1 * *", help="default: the 1st, 00:00 UTC")
    slots = sub.add_parser("slots", help="the cluster-wide caps: holders and waiters per pool")
    slots.add_argument("--set", nargs=2, metavar=("POOL", "CAPACITY"),
                       help="change a pool's capacity (takes effect at once)")
    codec = sub.add_parser("codec-server", help="decode payloads for the Web UI (authenticated)")
    codec.add_argument("--host", default="127.0.0.1")
    codec.add_argument("--port", type=int, default=8081)
    kit = sub.add_parser("brand-kit", help="validate and store a brand kit")
    kit_sub = kit.add_subparsers(dest="brand_kit_command", required=True)
    put = kit_sub.add_parser("put", help="store KIT.json at brand-kits/<id>.json")
    put.add_argument("file")
    put.add_argument("--bucket", help="default: SMM_ASSETS_BUCKET, else SMM_OUTPUT_BUCKET")
    demo = sub.add_parser("demo", help="the main job, end to end, on the embedded stack")
    demo.add_argument("--ui-port", type=int, default=8233)
    demo.add_argument("--keep", action="store_true", help="keep the stack up afterwards")
    demo.add_argument("--auto-approve", action="store_true",
                      help="approve the publish step automatically (else approve from the CLI)")
    args = parser.parse_args(argv)
    handlers = {"worker": cmd_worker, "dev": cmd_dev, "render": cmd_render, "demo": cmd_demo,
                "brand-kit": cmd_brand_kit, "publish": cmd_publish, "approve": cmd_approve,
                "status": cmd_status, "credits": cmd_credits, "slots": cmd_slots,
                "codec-server": cmd_codec_server}
    try:
        code = handlers[args.command](args)
    except ContractError as err:
        print(f"error: {err}", file=sys.stderr)
        code = 2
    except (TemporalConfigError, PayloadKeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        code = 2
    except json.JSONDecodeError as err:  # e.g. approve --changes that is not JSON
        print(f"error: --changes: not valid JSON ({err.msg})", file=sys.stderr)
        code = 2
    except ValueError as err:  # the ledger's own checks name the field ("amount: ...")
        print(f"error: {err}", file=sys.stderr)
        code = 2
    sys.exit(code)


if __name__ == "__main__":
    main()
