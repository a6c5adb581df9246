"""smm-engine credits: balances, grants, history and the monthly grant schedule."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import boto3

from orchestrator.cli.settings import settings
from smm_runtime.temporal_conn import connect


def ledger() -> Any:
    from smm_runtime.ledger import Ledger

    table = settings().ledger_table
    if not table:
        raise SystemExit("error: set SMM_LEDGER_TABLE (the stack output LedgerTableName)")
    return Ledger(boto3.client("dynamodb"), table)


def cmd_credits(args: argparse.Namespace) -> int:
    if args.credits_command == "balance":
        b = ledger().balance(args.account)
        print(
            f"{b.account}: balance {b.balance}, held {b.held}, granted {b.granted}, "
            f"captured {b.captured}"
        )
    elif args.credits_command == "grant":
        entry = ledger().grant(
            args.account, args.amount, args.key or f"manual:{args.account}:{int(time.time())}"
        )
        print(f"granted {entry['amount']} to {args.account} (key {entry['key']})")
    elif args.credits_command == "history":
        for entry in ledger().history(args.account, args.limit):
            print(f"{entry['at']}  {entry['op']:<8} {entry.get('amount', 0):>8}  {entry['key']}")
    else:
        asyncio.run(schedule_grant(args.account, args.amount, args.cron))
    return 0


async def schedule_grant(account: str, amount: int, cron: str) -> None:
    """Create or update (idempotently) the monthly grant schedule of an account."""
    from temporalio.client import (
        Schedule,
        ScheduleActionStartWorkflow,
        ScheduleAlreadyRunningError,
        ScheduleSpec,
        ScheduleUpdate,
        ScheduleUpdateInput,
    )

    from orchestrator.billing.grants import GrantCreditsWorkflow, GrantInput

    client = await connect()
    schedule_id = f"credits-grant-{account}"
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            GrantCreditsWorkflow.run,
            GrantInput(account=account, amount=amount),
            id=f"credits-grant-{account}",
            task_queue=settings().task_queue,
        ),
        spec=ScheduleSpec(cron_expressions=[cron]),
    )
    try:
        await client.create_schedule(schedule_id, schedule)
        print(f"created schedule {schedule_id}: {amount} credits, cron {cron!r}")
    except ScheduleAlreadyRunningError:

        def update(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(update)
        print(f"updated schedule {schedule_id}: {amount} credits, cron {cron!r}")
