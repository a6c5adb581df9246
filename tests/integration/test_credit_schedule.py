"""Monthly grants: a Temporal Schedule, created and updated idempotently from the CLI."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from temporalio.client import Client, ScheduleActionStartWorkflow

from orchestrator.billing.grants import GrantInput
from orchestrator.cli.credits import schedule_grant
from smm_local.stack import LocalStack
from smm_runtime.ledger import Ledger

pytestmark = pytest.mark.integration


async def test_the_grant_schedule_is_idempotent_and_grants_once_a_month(
    client: Client, stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = f"tq-{uuid.uuid4()}"
    account = f"acct-{uuid.uuid4().hex[:8]}"
    for key, value in {**stack.env(), "SMM_TASK_QUEUE": queue}.items():
        if not key.startswith("AWS_"):  # the in-process workers' keys stay the worker's
            monkeypatch.setenv(key, value)
    worker = stack.start_worker({"SMM_TASK_QUEUE": queue}, name="worker-schedule")
    try:
        await schedule_grant(account, 300, "0 0 1 * *")
        await schedule_grant(account, 400, "0 0 1 * *")  # updated, not duplicated
        handle = client.get_schedule_handle(f"credits-grant-{account}")
        described = await handle.describe()
        # The server stores the cron expression as a calendar: the 1st of every month.
        (calendar,) = described.schedule.spec.calendars
        assert [r.start for r in calendar.day_of_month] == [1]
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        # The schedule's arguments are sealed like every payload; the keyed client opens them.
        (grant_input,) = await client.data_converter.decode(action.args, [GrantInput])
        assert grant_input.amount == 400  # the update took effect
        ledger = Ledger(stack.dynamodb(), stack.ledger_table)
        await handle.trigger()
        for _ in range(200):
            if ledger.balance(account).granted:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)
        await handle.trigger()  # fired again in the same month: still one grant
        await asyncio.sleep(3)
        grants = [e for e in ledger.history(account) if e["op"] == "grant"]
        assert len(grants) == 1 and grants[0]["amount"] == 400
        assert ledger.balance(account).balance == 400
        await handle.delete()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert os.environ["SMM_TASK_QUEUE"] == queue
