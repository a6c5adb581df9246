"""smm-engine: run the worker, bring up the local stack, render a spec, run the demo."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import boto3

from smm_runtime.contracts import ContractError
from smm_runtime.temporal_conn import TemporalConfigError, connect
from smm_runtime.workflow_io import RenderVideoOutput

ROOT = Path(__file__).resolve().parents[1]


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
                                assets_bucket=os.environ.get("SMM_ASSETS_BUCKET"))
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
        GenerateImageWorkflow.run, GenerateImageInput(spec=spec, output_bucket=bucket),
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


def cmd_worker(_: argparse.Namespace) -> int:
    from orchestrator.worker import main as worker_main

    worker_main()
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
        uris = upload_demo_assets(stack.s3(), stack.bucket)
        spec = demo_spec(uris)
        workflow_id = f"demo-{int(time.time())}"
        started = time.monotonic()
        paths, result = asyncio.run(_render(spec, ROOT / "out", workflow_id, "demo"))
        print(f"rendered {len(result.outputs)} presets in {time.monotonic() - started:.1f}s:")
        _report(paths, result)
        images = asyncio.run(_images(card_spec(uris), carousel_spec(uris), ROOT / "out"))
        for path in images:
            print(f"  wrote {path}")
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
    kit = sub.add_parser("brand-kit", help="validate and store a brand kit")
    kit_sub = kit.add_subparsers(dest="brand_kit_command", required=True)
    put = kit_sub.add_parser("put", help="store KIT.json at brand-kits/<id>.json")
    put.add_argument("file")
    put.add_argument("--bucket", help="default: SMM_ASSETS_BUCKET, else SMM_OUTPUT_BUCKET")
    demo = sub.add_parser("demo", help="the main job, end to end, on the embedded stack")
    demo.add_argument("--ui-port", type=int, default=8233)
    demo.add_argument("--keep", action="store_true", help="keep the stack up afterwards")
    args = parser.parse_args(argv)
    handlers = {"worker": cmd_worker, "dev": cmd_dev, "render": cmd_render, "demo": cmd_demo,
                "brand-kit": cmd_brand_kit}
    try:
        code = handlers[args.command](args)
    except ContractError as err:
        print(f"error: {err}", file=sys.stderr)
        code = 2
    except TemporalConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        code = 2
    sys.exit(code)


if __name__ == "__main__":
    main()
