"""Holds belong to the run that reserved them: a re-run under the same workflow id holds
and charges anew (before, its reserve was a no-op and its capture failed after all the
work); a hold whose run was terminated is released by the sweeper, while a running one —
also one carried across continue-as-new — is kept. Real ledger code on moto's DynamoDB, a
real Temporal dev server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from temporalio import workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from orchestrator.billing.hold_sweeper import HoldSweeper
from orchestrator.billing.holds import CreditHold
from orchestrator.billing.ledger_activities import BillingActivities
from orchestrator.billing.pricing import PriceModel
from smm_runtime.contract.basetypes import ComputeUsage
from smm_runtime.ledger import Ledger

USAGE = ComputeUsage(duration_ms=1000, memory_mb=1024, gb_seconds=1.0)


@workflow.defn(sandboxed=False)
class Charge:
    """Holds 5 credits, then captures (``settle``) or waits forever (``hang``), optionally
    after continuing as new once."""

    @workflow.run
    async def run(self, account: str, mode: str, carried: str | None = None) -> int:
        billing = CreditHold(account, f"{workflow.info().workflow_id}/render-1")
        if carried is None:
            await billing.reserve(lambda _: 5)
            if mode == "continue":
                workflow.continue_as_new(args=[account, "hang", billing.hold_id])
        if mode == "settle":
            return (await billing.capture(USAGE)).credits
        await workflow.wait_condition(lambda: False)
        return 0


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    table = f"ledger-{uuid.uuid4().hex[:8]}"  # an enclosing mock may outlive this one
    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        db.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
        )
        yield Ledger(db, table)


def worker(client: Client, queue: str, ledger: Ledger) -> Worker:
    billing = BillingActivities(ledger, PriceModel())
    return Worker(
        client,
        task_queue=queue,
        workflows=[Charge],
        activities=[billing.price_model, billing.ledger],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )


def funded(ledger: Ledger, credits: int) -> str:
    account = f"acct-{uuid.uuid4().hex[:6]}"
    ledger.grant(account, credits, f"grant:{account}")
    return account


async def start(client: Client, queue: str, wf_id: str, *args: Any) -> Any:
    return await client.start_workflow("Charge", args=list(args), id=wf_id, task_queue=queue)


async def test_a_rerun_under_the_same_id_holds_and_charges_anew(
    dev_env: WorkflowEnvironment, ledger: Ledger
) -> None:
    queue, wf_id = f"q-{uuid.uuid4().hex[:6]}", f"charge-{uuid.uuid4().hex[:6]}"
    account = funded(ledger, 50)
    async with worker(dev_env.client, queue, ledger):
        first = await (await start(dev_env.client, queue, wf_id, account, "settle")).result()
        again = await (await start(dev_env.client, queue, wf_id, account, "settle")).result()
    balance = ledger.balance(account)
    assert first > 0 and again > 0
    assert (balance.captured, balance.held) == (first + again, 0)
    assert balance.granted == balance.balance + balance.captured + balance.held


async def test_the_sweeper_releases_holds_of_closed_runs_only(
    dev_env: WorkflowEnvironment, ledger: Ledger
) -> None:
    queue = f"q-{uuid.uuid4().hex[:6]}"
    account = funded(ledger, 50)
    sweeper = HoldSweeper(ledger, dev_env.client, min_age=timedelta(0))
    async with worker(dev_env.client, queue, ledger):
        running = await start(dev_env.client, queue, f"run-{uuid.uuid4().hex[:6]}", account, "hang")
        continued = await start(
            dev_env.client, queue, f"can-{uuid.uuid4().hex[:6]}", account, "continue"
        )
        terminated = await start(
            dev_env.client, queue, f"term-{uuid.uuid4().hex[:6]}", account, "hang"
        )

        async def ready() -> bool:
            latest = await dev_env.client.get_workflow_handle(continued.id).describe()
            return len(ledger.open_holds()) == 3 and latest.run_id != continued.result_run_id

        for _ in range(600):  # all three held (the continued one in its second run)
            if await ready():
                break
            await asyncio.sleep(0.1)
        assert await ready(), "the three workflows never all held"
        await terminated.terminate()
        released = await sweeper.sweep_once()
        assert [h.split("@")[0] for h in released] == [f"{terminated.id}/render-1"]
        assert ledger.balance(account).held == 10  # the running and the continued holds
        assert await sweeper.sweep_once() == []  # a second sweep finds nothing to do
        for handle in (running, continued):
            await dev_env.client.get_workflow_handle(handle.id).terminate()
        assert len(await sweeper.sweep_once()) == 2
    b = ledger.balance(account)
    assert (b.held, b.balance) == (0, 50)
