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

ROOT = Path(__file__).resolve().parents[1]


def _print_progress(progress: dict[str, Any]) -> None:
    beat = progress.get("heartbeat") or {}
    pct = beat.get("percent")
    line = f"  {progress.get('stage', '?'):<10} {beat.get('stage', ''):<10}"
    if pct is not None:
        filled = int(pct / 5)
        line += f" [{'#' * filled}{'.' * (20 - filled)}] {pct:5.1f}%"
    if progress.get("attempt", 1) > 1:
        line += f"  attempt {progress['attempt']}"
    print(f"\r{line:<72}", end="", flush=True)


async def _render(spec: dict[str, Any], out_dir: Path, workflow_id: str | None,
                  name: str) -> tuple[Path, Any]:
    from orchestrator.render_client import download, follow, start_render

    client = await connect()
    bucket = os.environ.get("SMM_OUTPUT_BUCKET", "smm-creative-output")
    handle = await start_render(client, spec, output_bucket=bucket, workflow_id=workflow_id)
    print(f"started workflow {handle.id} in namespace {client.namespace}")
    result = await follow(handle, _print_progress)
    print()
    path = download(boto3.client("s3"), result, out_dir, name)
    return path, result


def cmd_render(args: argparse.Namespace) -> int:
    try:
        spec = json.loads(Path(args.spec).read_text())
    except (OSError, json.JSONDecodeError) as err:
        print(f"error: {args.spec}: {err}", file=sys.stderr)
        return 2
    path, result = asyncio.run(_render(spec, Path(args.out), args.id, f"{args.id or 'render'}.mp4"))
    print(f"wrote {path} ({result.media.width}x{result.media.height}, "
          f"{result.media.duration_s:.2f}s, {result.media.video_codec}/{result.media.audio_codec})")
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
    from smm_local.demo_assets import demo_spec, upload_demo_assets
    from smm_local.stack import LocalStack, free_port

    log_path = ROOT / ".local" / "demo.log"
    log_path.parent.mkdir(exist_ok=True)
    ui_port = args.ui_port if _port_free(args.ui_port) else free_port()
    with log_path.open("w") as log, LocalStack(ui_port=ui_port, persistent=True, log=log) as stack:
        print(f"local stack up: Temporal {stack.temporal_address} (namespace smm-hub-core), "
              f"S3 {stack.moto_url}, Lambda {stack.lambda_url}")
        stack.start_worker()
        os.environ.update(stack.env())
        spec = demo_spec(upload_demo_assets(stack.s3(), stack.bucket), args.duration)
        workflow_id = f"demo-{int(time.time())}"
        path, result = asyncio.run(_render(spec, ROOT / "out", workflow_id, "demo.mp4"))
        media = result.media
        print(f"Temporal Web UI: http://127.0.0.1:{ui_port}/namespaces/smm-hub-core/workflows/"
              f"{workflow_id}")
        print(f"MP4: {path}")
        print(f"     {media.width}x{media.height} {media.video_codec}/{media.audio_codec} "
              f"{media.duration_s:.2f}s {media.size_bytes} bytes; rendered in "
              f"{result.usage.duration_ms / 1000:.1f}s ({result.usage.gb_seconds:.1f} GB-s)")
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
    demo = sub.add_parser("demo", help="the main job, end to end, on the embedded stack")
    demo.add_argument("--duration", type=float, default=8.0)
    demo.add_argument("--ui-port", type=int, default=8233)
    demo.add_argument("--keep", action="store_true", help="keep the stack up afterwards")
    args = parser.parse_args(argv)
    handlers = {"worker": cmd_worker, "dev": cmd_dev, "render": cmd_render, "demo": cmd_demo}
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
