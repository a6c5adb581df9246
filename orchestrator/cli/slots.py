"""`smm-engine slots`: the cluster-wide caps as a table — per pool, permits held of the
capacity, the queue, and what each pool has granted, expired and refused; `--detail` lists
holders and the head of each queue; `--watch` redraws it live until Ctrl-C; `--json` prints
the same rows for scripts (with `--watch`, one JSON line per change)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from orchestrator.cap.models import POOLS, SemaphoreState, semaphore_id
from orchestrator.cli.settings import settings
from smm_runtime.temporal_conn import connect

BAR = 10
HEAD = 5  # waiters shown per pool with --detail


async def rows(client: Client, queue: str) -> list[dict[str, Any]]:
    """One row per pool; a pool whose semaphore never started is idle, not an error."""
    found: list[dict[str, Any]] = []
    for pool in POOLS:
        handle = client.get_workflow_handle(semaphore_id(queue, pool))
        try:
            state = await handle.query("snapshot", result_type=SemaphoreState)
        except RPCError as err:
            if err.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
                raise
            found.append({"pool": pool, "started": False})
            continue
        found.append(
            {
                "pool": pool,
                "started": True,
                "capacity": state.capacity,
                "held": len(state.holders),
                "waiting": state.waiting,
                "granted_total": state.granted_total,
                "expired_total": state.expired_total,
                "readmitted_total": state.readmitted_total,
                "refused_total": state.refused_total,
                "holders": [
                    {
                        "permit_id": p,
                        "workflow_id": h.workflow_id,
                        "lease_until": h.lease_until.isoformat(),
                    }
                    for p, h in state.holders.items()
                ],
                "queue_head": [w.permit_id for w in state.waiters[:HEAD]],
            }
        )
    return found


def usage_bar(held: int, capacity: int) -> str:
    filled = min(BAR, round(BAR * held / capacity)) if capacity else 0
    return f"[{'#' * filled}{'.' * (BAR - filled)}]"


def table(found: list[dict[str, Any]], detail: bool) -> str:
    lines = [
        f"{'pool':<16} {'held':>11} {'':<12} {'waiting':>7} {'granted':>8} "
        f"{'expired':>7} {'refused':>7}"
    ]
    for row in found:
        if not row["started"]:
            lines.append(f"{row['pool']:<16} {'idle (no semaphore started yet)':>11}")
            continue
        lines.append(
            f"{row['pool']:<16} {row['held']:>5} of {row['capacity']:<3} "
            f"{usage_bar(row['held'], row['capacity']):<12} {row['waiting']:>7} "
            f"{row['granted_total']:>8} {row['expired_total']:>7} "
            f"{row['refused_total']:>7}"
        )
        if detail:
            for holder in row["holders"]:
                until = datetime.fromisoformat(holder["lease_until"])
                lines.append(
                    f"    holds  {holder['permit_id']}  (lease until "
                    f"{until.astimezone(UTC):%H:%M:%S})"
                )
            for position, permit_id in enumerate(row["queue_head"], start=1):
                lines.append(f"    #{position:<4} {permit_id}")
            if row["waiting"] > len(row["queue_head"]):
                lines.append(f"    ... and {row['waiting'] - len(row['queue_head'])} more")
    return "\n".join(lines)


async def show(args: argparse.Namespace) -> None:
    client = await connect()
    queue = settings().task_queue
    if args.set:
        pool, capacity = args.set[0], int(args.set[1])
        if pool not in POOLS:
            raise ValueError(f"--set: pool must be one of {', '.join(POOLS)}, not {pool!r}")
        if capacity < 1:
            raise ValueError("--set: the capacity must be 1 or more")
        await client.get_workflow_handle(semaphore_id(queue, pool)).signal("configure", capacity)
    live = args.watch and not args.json and sys.stdout.isatty()
    last = None
    while True:
        found = await rows(client, queue)
        text = json.dumps(found) if args.json else table(found, args.detail)
        if live:  # redraw in place, as `top` does
            print(
                f"\x1b[H\x1b[2J{datetime.now(UTC):%H:%M:%S} UTC  (Ctrl-C to stop)\n{text}",
                flush=True,
            )
        elif text != last:
            stamp = "" if args.json or not args.watch else f"-- {time.strftime('%H:%M:%S')}\n"
            print(stamp + text, flush=True)
        last = text
        if not args.watch:
            return
        await asyncio.sleep(args.interval)


def cmd_slots(args: argparse.Namespace) -> int:
    if not 0.1 <= args.interval <= 3600:  # checked before any connection is made
        raise ValueError("--interval: seconds between reads, from 0.1 to 3600")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(show(args))
    return 0


def add_parser(sub: Any) -> None:
    slots = sub.add_parser("slots", help="the cluster-wide caps: a table of every pool")
    slots.add_argument(
        "--set",
        nargs=2,
        metavar=("POOL", "CAPACITY"),
        help="change a pool's capacity (takes effect at once)",
    )
    slots.add_argument(
        "--detail", action="store_true", help="also each pool's holders and the head of its queue"
    )
    slots.add_argument("--watch", action="store_true", help="keep the table live (Ctrl-C)")
    slots.add_argument("--interval", type=float, default=1.0, help="seconds between reads")
    slots.add_argument("--json", action="store_true", help="rows as JSON (one line each read)")
