"""Start a render, follow its progress, fetch the result: shared by the CLI and the demo."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from orchestrator.render.progress import live_progress
from orchestrator.render.video import RenderVideoWorkflow
from smm_runtime.contract import TASK_QUEUE
from smm_runtime.contract.validation import parse_spec
from smm_runtime.contract.workflow_io import RenderVideoInput, RenderVideoOutput


async def start_render(
    client: Client,
    spec: dict[str, Any],
    *,
    output_bucket: str,
    workflow_id: str | None = None,
    task_queue: str = TASK_QUEUE,
    assets_bucket: str | None = None,
    account: str | None = None,
) -> WorkflowHandle[RenderVideoWorkflow, RenderVideoOutput]:
    parse_spec(spec)  # refuse a bad spec here, with the field named, before starting anything
    return await client.start_workflow(
        RenderVideoWorkflow.run,
        RenderVideoInput(
            spec=spec, output_bucket=output_bucket, assets_bucket=assets_bucket, account=account
        ),
        id=workflow_id or f"render-{uuid.uuid4().hex[:12]}",
        task_queue=task_queue,
        # The Web UI's line for it: what, in which formats, for whom.
        static_summary=f"video render · {', '.join(spec.get('presets') or ['9:16'])}"
        + (f" · {account}" if account else ""),
    )


async def follow(
    handle: WorkflowHandle[Any, RenderVideoOutput],
    on_progress: Callable[[dict[str, Any]], None],
    interval_s: float = 1.0,
) -> RenderVideoOutput:
    result_task = asyncio.ensure_future(handle.result())
    while not result_task.done():
        with contextlib.suppress(Exception):
            on_progress(await live_progress(handle))
        await asyncio.wait({result_task}, timeout=interval_s)
    return await result_task


def download(s3: Any, result: RenderVideoOutput, out_dir: Path, stem: str) -> list[Path]:
    """Every preset's MP4 and poster, as out_dir/<stem>-<preset slug>.mp4/.jpg."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for output in result.outputs:
        slug = Path(output.output.key).stem
        for obj, ext in ((output.output, "mp4"), (output.poster, "jpg")):
            path = out_dir / f"{stem}-{slug}.{ext}"
            s3.download_file(obj.bucket, obj.key, str(path))
            paths.append(path)
    return paths
