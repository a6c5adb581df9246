"""Recorded histories of every workflow path replay against today's workflow code.

A change that would break running executions (a reordered activity, a new timer, a removed
signal handler) fails here with a non-determinism error instead of in production. When such
a change is intentional, guard it with workflow.patched() so both histories replay; re-record
(`make record-histories`) only when no execution of the old code can still be running.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from orchestrator.worker import WORKFLOWS
from tests.replay.altered import ReorderedPublish
from tests.replay.long_lived import RECORDED_WITH

HISTORIES = Path(__file__).parent / "histories"
REQUIRED = {
    "render_success",
    "render_failure",
    "render_cancel",
    "render_checkpoint_resume",
    "render_billed_with_cap",
    "semaphore_video_segments",
    "image_carousel",
    "grant_credits",
    "publish_approve",
    "publish_approve_by_update",
    "publish_reject",
    "publish_revise",
    "publish_expiry",
    "publish_approve_with_review_links",
    "publish_follow_until_live",
    "publish_follow_failed",
    "publish_follow_retry",
    "publish_continue_as_new",
    "publish_continued_run",
    "publish_signal_in_first_activation",
    "semaphore_continue_as_new",
    "semaphore_continued_run",
    "semaphore_signal_in_first_activation",
    "publish_billed_020",
    "publish_revision_failed",
    "semaphore_renewal_after_release",
    # A long soundtrack mixed once, recorded with the code before the soundtrack-pieces patch
    # (bf1f225; no scenario records it any more), and the same render mixed in pieces.
    "render_soundtrack_whole",
    "render_soundtrack_pieces",
}


def load(name: str) -> WorkflowHistory:
    saved = json.loads((HISTORIES / f"{name}.json").read_text())
    return WorkflowHistory.from_json(saved["workflow_id"], saved["history"])


def recorded() -> list[str]:
    return sorted(path.stem for path in HISTORIES.glob("*.json"))


def test_histories_from_before_and_after_the_review_links_patch_are_both_kept() -> None:
    def marked(name: str) -> bool:
        return any(
            e.marker_recorded_event_attributes.marker_name == "core_patch"
            for e in load(name).events
        )

    assert not marked("publish_approve") and marked("publish_approve_with_review_links")


def test_histories_from_before_the_follow_patch_are_kept_beside_ones_after_it() -> None:
    def patches(name: str) -> set[str]:
        found = set()
        for e in load(name).events:
            if e.marker_recorded_event_attributes.marker_name == "core_patch":
                details = e.marker_recorded_event_attributes.details.get("patch-data")
                found.add(details.payloads[0].data.decode() if details else "")
        return found

    assert not any("follow-until-live" in p for p in patches("publish_approve"))
    assert any("follow-until-live" in p for p in patches("publish_follow_until_live"))
    assert any("channel-preflight" in p for p in patches("publish_follow_until_live"))
    assert not any("channel-preflight" in p for p in patches("publish_approve"))


def test_every_patch_of_release_020_is_in_a_recorded_history() -> None:
    """Each new branch replays too, not only the old one (CHANGELOG.md 0.2.0)."""
    marked: set[str] = set()
    for name in recorded():
        for e in load(name).events:
            details = e.marker_recorded_event_attributes.details.get("patch-data")
            if details:
                marked.add(json.loads(details.payloads[0].data)["id"])
    assert {
        "account-channels",
        "price-at-spec-fps",
        "reminder-floor",
        "revision-failure-back-to-review",
        "semaphore-no-phantom-renewal",
    } <= marked


def test_a_render_from_before_the_soundtrack_pieces_keeps_its_one_mix() -> None:
    def audio_dispatches(name: str) -> int:
        return sum(
            e.activity_task_scheduled_event_attributes.activity_type.name == "dispatch_audio"
            for e in load(name).events
        )

    def marked(name: str) -> bool:
        return any(
            b"soundtrack-pieces" in p.data
            for e in load(name).events
            for p in e.marker_recorded_event_attributes.details["patch-data"].payloads
            if e.marker_recorded_event_attributes.marker_name == "core_patch"
        )

    # Both replay against today's code (below): the old one without asking for pieces.
    assert (audio_dispatches("render_soundtrack_whole"), marked("render_soundtrack_whole")) == (
        1,
        False,
    )
    assert (audio_dispatches("render_soundtrack_pieces"), marked("render_soundtrack_pieces")) == (
        2,
        True,
    )


def test_every_workflow_path_has_a_recorded_history() -> None:
    assert set(recorded()) >= REQUIRED, f"missing: {REQUIRED - set(recorded())}"
    types = {
        load(n).events[0].workflow_execution_started_event_attributes.workflow_type.name
        for n in recorded()
    }
    # The bench and probe workflows start no business and keep nothing: no history needed.
    assert types == {w.__name__ for w in WORKFLOWS} - {"NoopWorkflow", "NoopFanOutWorkflow"}


@pytest.mark.parametrize("name", recorded())
async def test_recorded_history_replays_against_todays_workflows(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    options: dict[str, Any] = {}
    if name in RECORDED_WITH:  # a continue-as-new recorded at a lowered threshold
        module, constant, value = RECORDED_WITH[name]
        monkeypatch.setattr(importlib.import_module(module), constant, value)
        options["workflow_runner"] = UnsandboxedWorkflowRunner()  # so the sandbox sees it
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter, **options)
    result = await replayer.replay_workflow(load(name), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{name}: {result.replay_failure}"


async def test_an_altered_workflow_is_caught_as_non_deterministic() -> None:
    others = [w for w in WORKFLOWS if w.__name__ != "PublishCreativeWorkflow"]
    replayer = Replayer(
        workflows=[*others, ReorderedPublish], data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(load("publish_approve"), raise_on_replay_failure=False)
    assert isinstance(result.replay_failure, workflow.NondeterminismError), result.replay_failure
