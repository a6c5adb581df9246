"""`smm-engine watch ID`: follow any engine workflow until it ends — a publish's stages (and
its render underneath), a render's segments, an image's slides — as a progress bar with what
is running, retries and an ETA, or (`--json`) one JSON object per change for scripts."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from orchestrator.cli.settings import settings
from orchestrator.render.progress import live_progress
from smm_runtime.temporal_conn import connect

WIDTH = 24


def bar(done: int, total: int) -> str:
    filled = round(WIDTH * done / total) if total else 0
    return f"[{'#' * filled}{'-' * (WIDTH - filled)}] {done}/{total}"


async def _render_state(handle: WorkflowHandle[Any, Any], kind: str) -> dict[str, Any]:
    if kind == "GenerateImageWorkflow":
        raw = await handle.query("progress", result_type=dict[str, Any])
        return {
            "stage": "rendering",
            "done": raw.get("images_done", 0),
            "total": raw.get("images_total", 0),
            "unit": "images",
            "queued": raw.get("images_queued", 0),
            "running": [],
        }
    raw = await live_progress(handle)
    return {
        "stage": raw["stage"],
        "done": raw["segments_done"],
        "total": raw["segments_total"],
        "unit": "segments",
        "queued": raw.get("segments_queued", 0),
        "presets": {p: list(v) for p, v in (raw.get("presets") or {}).items()},
        "running": [
            {"activity": r["activity"], "attempt": r["attempt"], "percent": r.get("percent")}
            for r in raw["running"]
        ],
    }


async def state_of(client: Client, workflow_id: str) -> dict[str, Any]:
    handle = client.get_workflow_handle(workflow_id)
    description = await handle.describe()
    kind = description.workflow_type
    state: dict[str, Any] = {
        "workflow_id": workflow_id,
        "workflow_type": kind,
        "execution": description.status.name if description.status else None,
    }
    if description.status != WorkflowExecutionStatus.RUNNING:
        return state
    if kind == "PublishCreativeWorkflow":
        status = await handle.query("status", result_type=dict[str, Any])
        state.update(stage=status["stage"], round=status.get("round", 1))
        render = status.get("render_workflow_id")
        if status["stage"] == "rendering" and render:
            try:
                child = await client.get_workflow_handle(render).describe()
                state["render"] = await _render_state(
                    client.get_workflow_handle(render), child.workflow_type
                )
            except Exception:  # the child finished between the two reads: next time
                pass
    elif kind in ("RenderVideoWorkflow", "GenerateImageWorkflow"):
        state["render"] = await _render_state(handle, kind)
    return state


def line(state: dict[str, Any], eta_s: float | None) -> str:
    parts = [state.get("stage") or state.get("execution") or "?"]
    if state.get("round", 1) > 1:
        parts.append(f"round {state['round']}")
    render = state.get("render")
    if render:
        presets = render.get("presets") or {}
        if len(presets) > 1:  # a bar per format: which one is behind shows
            parts += [f"{preset} {bar(done, total)}" for preset, (done, total) in presets.items()]
        else:
            parts.append(f"{bar(render['done'], render['total'])} {render['unit']}")
        running = render["running"]
        if running:
            parts.append(
                f"{len(running)} running ("
                + ", ".join(
                    f"{r['percent']:.0f}%" if isinstance(r.get("percent"), int | float) else "…"
                    for r in running
                )
                + ")"
            )
        retries = sum(max(0, r["attempt"] - 1) for r in running)
        if retries:
            parts.append(f"{retries} retries")
        if render["queued"]:
            parts.append(f"{render['queued']} waiting for a permit")
        if eta_s is not None:
            parts.append(f"ETA {eta_s:.0f} s")
    return " · ".join(parts)


async def watch(workflow_id: str, as_json: bool, interval_s: float = 0.5) -> str:
    """Print each change until the workflow ends; returns its final execution status."""
    client = await connect()
    last, started, first_done = None, time.monotonic(), None
    while True:
        state = await state_of(client, workflow_id)
        render = state.get("render")
        eta = None
        if render and render["total"]:
            if first_done is None:
                first_done = (render["done"], time.monotonic())
            done0, t0 = first_done
            rate = (render["done"] - done0) / max(time.monotonic() - t0, 1e-6)
            eta = (render["total"] - render["done"]) / rate if rate > 0 else None
        text = json.dumps(state) if as_json else line(state, eta)
        if text != last:
            print(text if as_json else f"  {time.monotonic() - started:6.1f}s  {text}", flush=True)
            last = text
        if state["execution"] != "RUNNING":
            return str(state["execution"])
        await asyncio.sleep(interval_s)


def cmd_watch(args: argparse.Namespace) -> int:
    if not args.json and (link := settings().workflow_link(args.workflow_id)):
        print(f"watching {args.workflow_id}: {link}")
    try:
        final = asyncio.run(watch(args.workflow_id, args.json))
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        print(
            f"workflow_id: {args.workflow_id!r} does not exist in this namespace", file=sys.stderr
        )
        return 1
    return 0 if final == "COMPLETED" else 1
