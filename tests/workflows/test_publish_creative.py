"""PublishCreativeWorkflow on the time-skipping server: weeks of waiting take milliseconds.
The functions, Postiz and Payload are in-memory fakes at the activity boundary."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from orchestrator.publish.workflow import PublishCreativeWorkflow
from smm_runtime.contract.publish_io import PublishStatus
from tests.fakes import PublishFakes as Fakes
from tests.fakes import (
    approval,
    publish_input,
    revise_then_approve,
    run_with_worker,
    until_stage,
)


async def test_approve_publishes_once_and_reports_every_stage_in_order(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Fakes()

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        await until_stage(handle, "awaiting_approval")
        await handle.signal("agent_approval", approval(comment="lgtm"))

    status = await run_with_worker(skipping_env, fakes, publish_input(), script)
    assert status.stage == "published"
    assert status.postiz_post_ids == ["post-x-1", "post-li-2"]
    assert len(fakes.posts) == 1 and len(fakes.uploads) == 1
    assert fakes.posts[0].media[0].id == "media-1"
    stages = [u.data["engineStage"] for u in fakes.payload]
    # Waiting is reported twice: at once, then with the round's signed review links.
    assert stages == [
        "rendering",
        "awaiting_approval",
        "awaiting_approval",
        "approved",
        "publishing",
        "queued",
        "published",
    ]
    assert [u.seq for u in fakes.payload] == [1, 2, 3, 4, 5, 6, 7]
    # Payload hears who was sent a private link, never a link: every editor reads it.
    assert fakes.payload[2].data["engineReviewSentTo"] == ["ana@example.com"]
    assert not any("engineReviewLinks" in u.data for u in fakes.payload)
    assert fakes.payload[-1].data["enginePostizPostIds"] == ["post-x-1", "post-li-2"]
    assert fakes.payload[-1].data["enginePermalinks"] == {
        "x-1": "https://x-1.example/post-x-1",
        "li-2": "https://li-2.example/post-li-2",
    }
    assert status.approvals[-1].comment == "lgtm" and status.approvals[-1].accepted
    (announced,) = fakes.announcements
    assert (announced.round, announced.reviewers, announced.reminder) == (1, ["ana@example.com"], 0)


async def test_each_round_and_each_reminder_announces_its_review_links(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Fakes()

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        await until_stage(handle, "awaiting_approval")
        await handle.signal(
            "agent_approval", approval("revise", changes={"props": {"quote": "Ship it today"}})
        )

    status = await run_with_worker(skipping_env, fakes, publish_input(), script)
    assert status.stage == "expired" and status.round == 2
    rounds = [(a.round, a.reminder) for a in fakes.announcements]
    assert rounds == [(1, 0), (2, 0), (2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (2, 6)]
    # The link of a round stays the same through its reminders: one expiry per round.
    assert len({a.expires_at for a in fakes.announcements if a.round == 2}) == 1


async def test_reject_ends_without_publishing(skipping_env: WorkflowEnvironment) -> None:
    fakes = Fakes()

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        await until_stage(handle, "awaiting_approval")
        await handle.signal("agent_approval", approval("reject", comment="off brand"))

    status = await run_with_worker(skipping_env, fakes, publish_input(), script)
    assert status.stage == "rejected"
    assert fakes.posts == [] and fakes.uploads == []


async def test_revise_rerenders_with_the_changes_then_approve_publishes(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Fakes()

    status = await run_with_worker(skipping_env, fakes, publish_input(), revise_then_approve)
    assert status.stage == "published" and status.round == 2
    assert [r.props["quote"] for r in fakes.images] == ["Ship it", "Ship it today"]
    assert fakes.images[1].props["author"] == "Ops"  # a merge patch keeps what it does not name


async def test_no_decision_expires_after_its_window_with_daily_reminders(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Fakes()

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        await until_stage(handle, "awaiting_approval")

    status = await run_with_worker(skipping_env, fakes, publish_input(), script)
    assert status.stage == "expired"
    assert status.reminders_sent == 6  # 7-day window, a reminder each day before it closes
    assert fakes.posts == []
    reminders = [u.data.get("engineReminder") for u in fakes.payload if "engineReminder" in u.data]
    assert reminders == [1, 2, 3, 4, 5, 6]


async def test_an_approved_post_sleeps_until_its_publish_date_weeks_ahead(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Fakes()
    # The test server's clock, which earlier tests in the session have already skipped ahead.
    when = (await skipping_env.get_current_time()).astimezone(UTC) + timedelta(weeks=6)

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        await until_stage(handle, "awaiting_approval")
        await handle.signal("agent_approval", approval())

    params = publish_input(
        post={
            "content": "Later on",
            "integrations": ["x-1"],
            "publish_at": when.isoformat(),
            "channel_settings": {"x-1": {"who_can_reply_post": "everyone"}},
        }
    )
    status = await run_with_worker(skipping_env, fakes, params, script)
    assert status.stage == "published"
    assert status.publish_at == when
    stages = [u.data["engineStage"] for u in fakes.payload]
    assert stages.index("scheduled") < stages.index("publishing")
    assert fakes.posts[0].post.publish_at == when


async def test_bad_signals_are_refused_visibly_and_a_repeat_approval_is_harmless(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Fakes()

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        await until_stage(handle, "awaiting_approval")
        await handle.signal("agent_approval", {"decision": "maybe", "reviewer": "ana@example.com"})
        await handle.signal("agent_approval", approval(reviewer="mallory@example.com"))
        await handle.signal("agent_approval", {"reviewer": "ana@example.com"})
        status = await handle.query(PublishCreativeWorkflow.status)
        assert status.stage == "awaiting_approval"
        assert [a.accepted for a in status.approvals] == [False, False, False]
        assert "decision: Input should be 'approve', 'reject' or 'revise'" in str(
            status.approvals[0].reason
        )
        assert "reviewer: 'mallory@example.com' may not decide" in str(status.approvals[1].reason)
        await handle.signal("agent_approval", approval())
        await handle.signal("agent_approval", approval())  # a repeat: recorded, no effect

    status = await run_with_worker(skipping_env, fakes, publish_input(), script)
    assert status.stage == "published"
    assert len(fakes.posts) == 1
    assert [a.accepted for a in status.approvals] == [False, False, False, True, False]


async def test_the_approve_update_answers_synchronously(skipping_env: WorkflowEnvironment) -> None:
    fakes = Fakes()

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        await until_stage(handle, "awaiting_approval")
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update("approve", approval(reviewer="mallory@example.com"))
        status = await handle.execute_update("approve", approval(), result_type=PublishStatus)
        assert status.approvals[-1].accepted

    status = await run_with_worker(skipping_env, fakes, publish_input(), script)
    assert status.stage == "published"
    assert len(status.approvals) == 1  # the refused update left no trace in history
