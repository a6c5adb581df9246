"""A wait for approval of months, with reminders all along: the publish workflow continues
as new before its history grows large, and the round goes on in the next run — its
reminders, review links, Payload sequence and credit hold intact."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner

from orchestrator.publish import workflow as publish_creative
from smm_runtime.contract.publish_io import PublishStatus, ReviewAnnouncement, ReviewLinks
from tests.fakes import PublishFakes, approval, publish_input, run_with_worker
from tests.workflows.test_publish_endings import Endings

REMINDERS = 24
CONTINUE_EVERY = 200  # events, in this test
PRODUCTION = publish_creative.CONTINUE_AS_NEW_AFTER


async def run_lengths(handle: WorkflowHandle[Any, Any]) -> list[int]:
    """The number of events in each run of the execution, following continue-as-new."""
    lengths, run_id = (
        [],
        (await handle.describe()).raw_description.workflow_execution_info.first_run_id,
    )
    while run_id:
        events = [
            e
            async for e in handle._client.get_workflow_handle(
                handle.id, run_id=run_id
            ).fetch_history_events()
        ]
        lengths.append(len(events))
        last = events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
            else ""
        )
    return lengths


class PatientReviewer(Endings):
    """Approves once the review has been announced REMINDERS times (from the activity, so
    the test server skips time freely while the test waits for the result)."""

    @activity.defn(name="announce_review")
    async def announce_review(self, request: ReviewAnnouncement) -> ReviewLinks:
        links = await super().announce_review(request)
        if request.reminder == REMINDERS:
            await (
                activity.client()
                .get_workflow_handle(request.workflow_id)
                .signal("agent_approval", approval(comment="finally"))
            )
        return links


async def test_a_long_wait_continues_as_new_and_still_publishes_and_charges_once(
    dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the real dev server, in real time: reminders every second and a threshold of
    CONTINUE_EVERY events, so a few dozen reminders cross several runs. (The time-skipping
    test server stops skipping time after a continue-as-new — timers then fire in real
    time — so two thousand minute-apart reminders cannot run there; the production
    threshold is checked against the server's limits below.)"""
    monkeypatch.setattr(publish_creative, "CONTINUE_AS_NEW_AFTER", CONTINUE_EVERY)
    monkeypatch.setattr(publish_creative, "MIN_REMINDER_S", 1.0)  # a reminder a second
    fakes = PatientReviewer()
    lengths: list[int] = []

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        await handle.result()
        lengths.extend(await run_lengths(handle))

    params = publish_input(
        account="acme",
        approval={
            "reviewers": ["ana@example.com"],
            "reminder_every_s": 1,
            "expire_after_s": REMINDERS + 60,
        },
    )
    status = await run_with_worker(
        dev_env, fakes, params, script, workflow_runner=UnsandboxedWorkflowRunner()
    )
    assert status.stage == "published" and status.reminders_sent == REMINDERS
    assert len(lengths) >= 3, lengths
    # Each run ends within one reminder's events of the threshold.
    per_reminder = (sum(lengths) - lengths[0]) / REMINDERS
    assert max(lengths) < CONTINUE_EVERY + 3 * per_reminder, lengths
    # The hold reserved in the first run is captured once, in the last.
    assert [op.op for op in fakes.ledger_ops] == ["reserve", "capture"]
    assert len({op.hold_id for op in fakes.ledger_ops}) == 1
    assert status.credits_charged > 0 and status.credits_held == 0
    # Payload heard every reminder, in one unbroken sequence across the runs.
    seqs = sorted({u.seq for u in fakes.payload})
    assert seqs == list(range(1, len(seqs) + 1))
    reminders = [u.data["engineReminder"] for u in fakes.payload if "engineReminder" in u.data]
    assert sorted(set(reminders)) == list(range(1, REMINDERS + 1))
    # One review link expiry for the whole round, through every run.
    assert len({a.expires_at for a in fakes.announcements}) == 1
    assert len(fakes.posts) == 1
    # At the production threshold, 2,000 reminders take this many runs, each far under the
    # server's warning (10,240 events) and limit (51,200).
    runs = 2_000 * per_reminder / PRODUCTION
    assert PRODUCTION + 3 * per_reminder < 10_000 and runs < 20


async def test_reminders_come_no_more_often_than_the_floor(
    skipping_env: WorkflowEnvironment,
) -> None:
    """A policy may ask for a reminder every second; each one messages every reviewer and
    adds to the history, so the workflow reminds at most every MIN_REMINDER_S."""
    fakes = PublishFakes()
    floor = publish_creative.MIN_REMINDER_S
    params = publish_input(
        approval={"reviewers": ["ana@example.com"], "reminder_every_s": 1,
                  "expire_after_s": 3 * floor - 1},
    )  # fmt: skip

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        pass

    status = await run_with_worker(skipping_env, fakes, params, script)
    assert status.stage == "expired"
    assert status.reminders_sent == 2  # at the floor and twice the floor; 2,999 before
