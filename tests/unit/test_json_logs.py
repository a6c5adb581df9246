"""The worker's log lines are JSON with the workflow and activity a record is about."""

from __future__ import annotations

import json
import logging
import sys

from orchestrator.json_logs import JsonFormatter


def record(message: str, **extra: object) -> logging.LogRecord:
    entry = logging.LogRecord(
        "temporalio.workflow", logging.WARNING, __file__, 1, message, None, None
    )
    for key, value in extra.items():
        setattr(entry, key, value)
    return entry


def test_a_workflow_record_carries_its_ids_as_fields() -> None:
    line = JsonFormatter().format(
        record(
            "review links not announced (round 2)",
            temporal_workflow={
                "workflow_id": "payload-posts-7",
                "run_id": "r1",
                "workflow_type": "PublishCreativeWorkflow",
                "namespace": "smm-hub-core",
                "attempt": 1,
            },
        )
    )
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["message"].endswith("(round 2)")
    assert (entry["workflow_id"], entry["run_id"], entry["workflow_type"]) == (
        "payload-posts-7",
        "r1",
        "PublishCreativeWorkflow",
    )
    assert "namespace" not in entry and entry["time"].endswith("+00:00")


def test_an_activity_record_and_an_exception_stay_one_json_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        entry_record = record(
            "dispatch failed",
            temporal_activity={
                "workflow_id": "render-1",
                "activity_id": "3",
                "activity_type": "dispatch_segment",
                "attempt": 2,
            },
        )
        entry_record.exc_info = sys.exc_info()
    line = JsonFormatter().format(entry_record)
    assert "\n" not in line
    entry = json.loads(line)
    assert (entry["activity_id"], entry["activity_type"], entry["attempt"]) == (
        "3",
        "dispatch_segment",
        2,
    )
    assert "ValueError: boom" in entry["exception"]


def test_timings_a_record_carries_become_fields() -> None:
    """The dispatch logs how long Lambda took to accept the event (`make bench` reads it)."""
    entry = json.loads(
        JsonFormatter().format(
            record("dispatched noop to NoopFunction", invoke_ms=5.46, secret_token="x")
        )
    )
    assert entry["invoke_ms"] == 5.46
    assert "secret_token" not in entry  # only timings: other extras stay out of the line
