"""smm-engine render / brand-kit: start a render, follow its progress, download the MP4s."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import boto3

from orchestrator.cli.settings import settings
from smm_runtime.contract.workflow_io import RenderVideoOutput
from smm_runtime.temporal_conn import connect


def _print_progress(progress: dict[str, Any]) -> None:
    running = progress.get("running", [])
    pcts = [r["percent"] for r in running if isinstance(r.get("percent"), int | float)]
    line = (
        f"  {progress.get('stage', '?'):<18} segments {progress.get('segments_done', 0)}"
        f"/{progress.get('segments_total', 0)}"
    )
    if progress.get("segments_reused"):
        line += f" ({progress['segments_reused']} from checkpoints)"
    if pcts:
        line += f"  running {len(running)} at {sum(pcts) / len(pcts):5.1f}% avg"
    retries = [r for r in running if r.get("attempt", 1) > 1]
    if retries:
        line += f"  retrying {len(retries)}"
    end = "\r" if sys.stdout.isatty() else "\n"
    print(f"{line:<90}", end=end, flush=True)


async def render_spec(
    spec: dict[str, Any], out_dir: Path, workflow_id: str | None, stem: str
) -> tuple[list[Path], RenderVideoOutput]:
    from orchestrator.render.client import download, follow, start_render

    client = await connect()
    bucket = settings().output_bucket
    handle = await start_render(
        client,
        spec,
        output_bucket=bucket,
        workflow_id=workflow_id,
        assets_bucket=settings().assets_bucket,
        account=settings().account,
    )
    print(f"started workflow {handle.id} in namespace {client.namespace}")
    if link := settings().workflow_link(handle.id):
        print(f"  watch it: {link}")
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


def report(paths: list[Path], result: RenderVideoOutput) -> None:
    for output in result.outputs:
        media = output.media
        print(
            f"  {output.preset:>5}: {media.width}x{media.height} {media.video_codec}/"
            f"{media.audio_codec} {media.duration_s:.2f}s {media.frames} frames "
            f"{media.size_bytes} bytes"
        )
    print(
        f"  segments: {result.segments_total} ({result.segments_rendered} rendered, "
        f"{result.segments_reused} from checkpoints); compute "
        f"{result.usage.gb_seconds:.1f} GB-s"
    )
    for path in paths:
        print(f"  wrote {path}")


def cmd_render(args: argparse.Namespace) -> int:
    try:
        spec = json.loads(Path(args.spec).read_text())
    except (OSError, json.JSONDecodeError) as err:
        print(f"error: {args.spec}: {err}", file=sys.stderr)
        return 2
    paths, result = asyncio.run(render_spec(spec, Path(args.out), args.id, args.id or "render"))
    report(paths, result)
    return 0


def cmd_brand_kit(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from smm_runtime.contract.ownership import SHARED_PREFIX, first_violation
    from smm_runtime.contract.validation import describe_validation_error
    from smm_runtime.contract.video_spec import BrandKit
    from smm_runtime.contract.workflow_io import BrandKitRef

    try:
        kit = BrandKit.model_validate_json(Path(args.file).read_text())
    except OSError as err:
        print(f"error: {args.file}: {err}", file=sys.stderr)
        return 2
    except ValidationError as err:
        print(
            f"error: {args.file}: {describe_validation_error(err, prefix='brand_kit.')}",
            file=sys.stderr,
        )
        return 2
    bucket = args.bucket or settings().kit_bucket
    if args.account is not None:
        found = first_violation(args.account, kit.model_dump(mode="json"), "brand_kit")
        if found is not None:  # the workflow would refuse every render with it
            print(f"error: {args.file}: {found[1]}", file=sys.stderr)
            return 2
        key = BrandKitRef(bucket=bucket, id=kit.id, account=args.account).key
    else:
        key = f"{SHARED_PREFIX if args.shared else ''}brand-kits/{kit.id}.json"
    boto3.client("s3").put_object(
        Bucket=bucket, Key=key, Body=kit.model_dump_json().encode(), ContentType="application/json"
    )
    print(f"stored brand kit {kit.id!r} at s3://{bucket}/{key}")
    return 0
