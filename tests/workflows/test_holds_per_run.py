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

import pytest
from moto import mock_aws
from temporalio import workflow
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from orchestrator.billing.hold_sweeper import HoldSweeper
from orchestrator.billing.holds import CreditHold
from orchestrator.billing.ledger_activities import BillingActivities
from orchestrator.billing.pricing import PriceModel
from smm_runtime.contract.basetypes import ComputeUsage
from smm_runtime.ledger import Ledger
from tests.ledger_table import ledger_table

USAGE = ComputeUsage(duration_ms=1000, memory_mb=1024, gb_seconds=1.0)


@workflow.defn(sandboxed=False)
class Charge:
    """Holds 5 credits, then captures (``settle``, or ``go`` once signalled) or waits forever
    (``hang``), optionally after continuing as new once."""

    def __init__(self) -> None:
        self._go = False

    @workflow.signal
    def go(self) -> None:
        self._go = True

    @workflow.run
    async def run(self, account: str, mode: str, carried: str | None = None) -> int:
        billing = CreditHold(account, f"{workflow.info().workflow_id}/render-1")
        if carried is None:
            await billing.reserve(lambda _: 5)
            if mode == "continue":
                workflow.continue_as_new(args=[account, "hang", billing.hold_id])
        if mode == "go":  # waits for a signal, then settles
            await workflow.wait_condition(lambda: self._go)
        if mode in ("settle", "go"):
            return (await billing.capture(USAGE)).credits
        await workflow.wait_condition(lambda: False)
        return 0


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    table = f"ledger-{uuid.uuid4().hex[:8]}"  # an enclosing mock may outlive this one
    with mock_aws():
        db = ledger_table(table)
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


async def reset_after(client: Client, handle: Any, activities_done: int) -> str:
    """Reset the execution to the workflow task that followed its first
    ``activities_done`` completed activities (0: its first task), as `temporal workflow
    reset --event-id` does; returns the new run's id."""
    event_id = 0
    for _ in range(100):  # the task after the activity may still be on its way
        done = 0
        async for e in handle.fetch_history_events():
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                done += 1
            completed = e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
            if completed and done >= activities_done:
                event_id = e.event_id
                break
        if event_id:
            break
        await asyncio.sleep(0.1)
    reset = await client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=handle.id),
            reason="operator reset (test)",
            workflow_task_finish_event_id=event_id,
            request_id=str(uuid.uuid4()),
        )
    )
    return str(reset.run_id)


async def until_held(ledger: Ledger, count: int) -> None:
    for _ in range(600):
        if len(ledger.open_holds()) == count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never {count} open holds: {ledger.open_holds()}")


async def test_a_reset_past_the_reserve_keeps_the_hold_and_charges_once(
    dev_env: WorkflowEnvironment, ledger: Ledger
) -> None:
    """The reset run carries the reserve in its copied history and captures that hold.
    The sweeper used to release it (its run was terminated by the reset), and the capture
    then failed with LedgerConflict after all the work."""
    queue, wf_id = f"q-{uuid.uuid4().hex[:6]}", f"reset-{uuid.uuid4().hex[:6]}"
    account = funded(ledger, 50)
    sweeper = HoldSweeper(ledger, dev_env.client, min_age=timedelta(0))
    async with worker(dev_env.client, queue, ledger):
        handle = await start(dev_env.client, queue, wf_id, account, "go")
        await until_held(ledger, 1)
        new_run = await reset_after(dev_env.client, handle, activities_done=2)
        assert await sweeper.sweep_once() == []  # the hold belongs to the chain
        reset_run = dev_env.client.get_workflow_handle(wf_id, run_id=new_run)
        await reset_run.signal("go")
        charged = await reset_run.result()
        assert await sweeper.sweep_once() == []
    b = ledger.balance(account)
    assert charged > 0 and (b.captured, b.held) == (charged, 0)
    assert b.granted == b.balance + b.captured


async def test_a_reset_before_the_reserve_holds_anew_and_the_old_hold_is_released(
    dev_env: WorkflowEnvironment, ledger: Ledger
) -> None:
    """Reset to the first workflow task: the new run reserves its own hold; the old one is
    kept while the chain runs (it might still be the chain's) and released once it ends."""
    queue, wf_id = f"q-{uuid.uuid4().hex[:6]}", f"reset-{uuid.uuid4().hex[:6]}"
    account = funded(ledger, 50)
    sweeper = HoldSweeper(ledger, dev_env.client, min_age=timedelta(0))
    async with worker(dev_env.client, queue, ledger):
        handle = await start(dev_env.client, queue, wf_id, account, "go")
        await until_held(ledger, 1)
        new_run = await reset_after(dev_env.client, handle, activities_done=0)
        await until_held(ledger, 2)
        assert await sweeper.sweep_once() == []
        reset_run = dev_env.client.get_workflow_handle(wf_id, run_id=new_run)
        await reset_run.signal("go")
        charged = await reset_run.result()
        released = await sweeper.sweep_once()
        assert [h.split("@")[0] for h in released] == [f"{wf_id}/render-1"]
    b = ledger.balance(account)
    assert (b.captured, b.held, b.balance) == (charged, 0, 50 - charged)


async def test_holds_from_before_owners_were_recorded_are_swept_by_workflow_id(
    dev_env: WorkflowEnvironment, ledger: Ledger
) -> None:
    """A hold reserved before holds named their run carries neither owner nor (older still)
    a time; the sweeper skipped them for ever, keeping the credits out of reach."""
    queue = f"q-{uuid.uuid4().hex[:6]}"
    account = funded(ledger, 50)
    sweeper = HoldSweeper(ledger, dev_env.client, min_age=timedelta(0))
    async with worker(dev_env.client, queue, ledger):
        running = await start(dev_env.client, queue, f"run-{uuid.uuid4().hex[:6]}", account, "hang")
        await until_held(ledger, 1)
        gone = f"publish-{uuid.uuid4().hex[:6]}"
        ledger.reserve(account, f"{gone}/render-1", 3, f"{gone}/render-1:reserve")
        ledger.reserve(account, f"{running.id}/render-0", 4, f"{running.id}/render-0:reserve")
        released = await sweeper.sweep_once()
        assert released == [f"{gone}/render-1"]  # its workflow is unknown; the other runs
        await running.terminate()
        assert len(await sweeper.sweep_once()) == 2
    b = ledger.balance(account)
    assert (b.held, b.balance) == (0, 50)
