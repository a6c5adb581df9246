"""smm-engine publish / approve / status: the human-in-the-loop publish flow."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from temporalio.service import RPCError, RPCStatusCode

from orchestrator.cli.settings import settings
from smm_runtime.contract.validation import describe_validation_error
from smm_runtime.temporal_conn import connect

FINAL_STAGES = {
    "published",
    "publish_failed",
    "rejected",
    "expired",
    "failed",
    "cancelled",
    "insufficient_credits",
}


async def follow_publish(workflow_id: str, until: set[str], quiet: bool = False) -> Any:
    """Print each stage change (and render progress) until one of ``until`` is reached."""
    from orchestrator.render.progress import live_progress
    from smm_runtime.contract.publish_io import PublishStatus

    client = await connect()
    handle = client.get_workflow_handle(workflow_id)
    last = None
    while True:
        status = await handle.query("status", result_type=PublishStatus)
        line = f"  stage: {status.stage} (round {status.round})"
        if status.stage == "rendering" and status.render_workflow_id:
            try:
                child = await live_progress(client.get_workflow_handle(status.render_workflow_id))
                line += (
                    f"  segments {child.get('segments_done', 0)}/"
                    f"{child.get('segments_total', 0)} "
                    f"({child.get('segments_reused', 0)} from checkpoints)"
                )
            except Exception:
                pass
        if status.error and status.stage in ("publish_failed", "postiz_not_publishing"):
            line += f"\n    {status.error}"
        if line != last and not quiet:
            print(line, flush=True)
            last = line
        if status.stage in until:
            if not quiet:
                for channel, url in sorted(status.permalinks.items()):
                    print(f"  live on {channel}: {url}", flush=True)
            return status
        await asyncio.sleep(0.5)


def cmd_publish(args: argparse.Namespace) -> int:
    from orchestrator.publish.workflow import PublishCreativeWorkflow
    from smm_runtime.contract.publish_io import PublishInput

    try:
        body = json.loads(Path(args.file).read_text())
        params = PublishInput.model_validate(
            {
                "output_bucket": settings().output_bucket,
                "assets_bucket": settings().assets_bucket,
                **body,
            }
        )
    except (OSError, json.JSONDecodeError) as err:
        print(f"error: {args.file}: {err}", file=sys.stderr)
        return 2
    except ValidationError as err:
        print(f"error: {args.file}: {describe_validation_error(err)}", file=sys.stderr)
        return 2

    async def start() -> str:
        client = await connect()
        handle = await client.start_workflow(
            PublishCreativeWorkflow.run,
            params,
            id=args.id or f"publish-{int(time.time())}",
            task_queue=settings().task_queue,
        )
        return handle.id

    workflow_id = asyncio.run(start())
    print(f"started {workflow_id}; approve with: smm-engine approve {workflow_id} --reviewer YOU")
    if link := settings().workflow_link(workflow_id):
        print(f"  watch it: {link}")
    if args.follow:
        asyncio.run(follow_publish(workflow_id, FINAL_STAGES))
    return 0


def _update(workflow_id: str, name: str, *args: Any) -> Any:
    """Send a publish Update and return its PublishStatus; None (said on stderr) when the
    workflow refused it. An Update answers yes or no at once, unlike a signal."""
    from temporalio.client import WorkflowUpdateFailedError

    from smm_runtime.contract.publish_io import PublishStatus

    async def send() -> PublishStatus:
        client = await connect()
        status: PublishStatus = await client.get_workflow_handle(workflow_id).execute_update(
            name, args=list(args), result_type=PublishStatus
        )
        return status

    try:
        return asyncio.run(send())
    except WorkflowUpdateFailedError as err:
        print(f"refused: {err.cause}", file=sys.stderr)
        return None


def cmd_approve(args: argparse.Namespace) -> int:
    decision = "reject" if args.reject else "revise" if args.revise else "approve"
    payload: dict[str, Any] = {
        "decision": decision,
        "reviewer": args.reviewer,
        "comment": args.comment or "",
    }
    if args.changes:
        payload["changes"] = json.loads(args.changes)
    status = _update(args.workflow_id, "approve", payload)
    if status is None:
        return 1
    print(f"{decision} accepted; stage: {status.stage}")
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    """Post again on the channels a publish_failed publish could not publish to."""
    status = _update(args.workflow_id, "retry_publish")
    if status is None:
        return 1
    failed = sorted(ch for ch, state in status.channels.items() if state != "PUBLISHED")
    print(f"retrying {', '.join(failed)}; the live channels are left alone")
    if args.follow:
        asyncio.run(follow_publish(args.workflow_id, FINAL_STAGES))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """The state of any of our workflows, as JSON: a publish's `status`, a render's or an
    image's `progress`, with the workflow's type and Temporal's own execution status."""
    if args.follow:
        asyncio.run(follow_publish(args.workflow_id, FINAL_STAGES | {"awaiting_approval"}))
        return 0

    async def read() -> dict[str, Any] | str:
        client = await connect()
        handle = client.get_workflow_handle(args.workflow_id)
        try:
            description = await handle.describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return f"workflow_id: {args.workflow_id!r} does not exist in this namespace"
            raise
        kind = description.workflow_type
        query = {
            "PublishCreativeWorkflow": "status",
            "RenderVideoWorkflow": "progress",
            "GenerateImageWorkflow": "progress",
        }.get(kind)
        if query is None:
            return (
                f"workflow_id: {args.workflow_id!r} is a {kind}, not a publish, render "
                "or image workflow"
            )
        state = await handle.query(query)
        return {
            "workflow_id": args.workflow_id,
            "workflow_type": kind,
            "execution": description.status.name if description.status else None,
            "web_ui": settings().workflow_link(args.workflow_id) or None,
            query: state,
        }

    answer = asyncio.run(read())
    if isinstance(answer, str):
        print(answer, file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2, default=str))
    return 0
