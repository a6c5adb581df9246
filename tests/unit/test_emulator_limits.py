"""The emulator holds a function to Lambda's limits, as template.yaml sets them: past its
MemorySize the environment is killed and the invocation fails as Lambda reports it; its /tmp
is its EphemeralStorage (a write past it fails with ENOSPC); an event older than
MaximumEventAgeInSeconds reaches the on-failure destination as EventAgeExceeded, with the
function's qualified ARN; and the destination's own retries apply to the record."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from functions.dispatch_failure.app import function_name
from smm_local.lambda_emulator.emulator import Emulator
from smm_local.lambda_emulator.limits import tmp_can_be_limited
from smm_local.template import Resolver, functions, load_template

PROBE = Path(__file__).parent / "lambda_probe"


def template(records: Path) -> dict[str, Any]:
    probe = {"CodeUri": str(PROBE), "Handler": "app.handler", "Runtime": "python3.12"}
    return {
        "Resources": {
            "Probe": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    **probe,
                    "MemorySize": 128,
                    "Timeout": 60,
                    "EventInvokeConfig": {
                        "MaximumRetryAttempts": 0,
                        "MaximumEventAgeInSeconds": 60,
                        "DestinationConfig": {
                            "OnFailure": {
                                "Type": "Lambda",
                                "Destination": {"Fn::GetAtt": ["Sink", "Arn"]},
                            }
                        },
                    },
                },
            },
            "Sink": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    **probe,
                    "MemorySize": 256,
                    "Timeout": 30,
                    "Environment": {"Variables": {"PROBE_RECORDS": str(records)}},
                    "EventInvokeConfig": {"MaximumRetryAttempts": 2},
                },
            },
        }
    }


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[tuple[Emulator, Path]]:
    records = tmp_path / "records"
    records.mkdir()
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(template(records)))
    specs = functions(load_template(path), tmp_path, Resolver({}, {}))
    running = Emulator(specs, {})
    running.start()
    yield running, records
    running.shutdown()


def wait_for_records(records: Path, count: int, timeout_s: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [json.loads(p.read_text()) for p in sorted(records.iterdir())]
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"waited {timeout_s}s for {count} destination record(s) in {records}")


def test_past_its_memory_size_an_environment_is_killed_as_lambda_reports_it(
    emulator: tuple[Emulator, Path],
) -> None:
    running, _ = emulator
    pool = running.pools["Probe"]
    fits = pool.try_invoke({"hog_mb": 40})
    assert fits is not None and fits.ok, fits
    over = pool.try_invoke({"hog_mb": 300})
    assert over is not None and not over.ok
    assert over.error_type == "Runtime.ExitError"
    assert over.error_message is not None
    assert over.error_message.endswith("Error: Runtime exited with error: signal: killed")
    assert pool.snapshot()["out_of_memory"] == 1


def test_tmp_is_the_ephemeral_storage_and_a_write_past_it_fails_with_enospc(
    emulator: tuple[Emulator, Path],
) -> None:
    assert tmp_can_be_limited(), "this machine must allow the emulator a sized /tmp"
    running, _ = emulator
    answer = running.pools["Sink"].try_invoke({"fill_tmp": True})
    assert answer is not None and answer.ok, answer
    assert answer.payload["enospc"] is True
    assert 500 <= answer.payload["written_mb"] <= 512  # the template's default: 512 MB


def test_an_expired_event_reaches_the_destination_as_event_age_exceeded(
    emulator: tuple[Emulator, Path],
) -> None:
    running, records = emulator
    pool = running.pools["Probe"]
    pool.events.put(({"task_token": "dG9rZW4=", "n": 1}, time.monotonic() - 61, 0))
    (record,) = wait_for_records(records, 1)
    context = record["requestContext"]
    assert context["condition"] == "EventAgeExceeded"
    assert context["approximateInvokeCount"] == 0
    assert context["functionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:Probe:$LATEST"
    assert function_name(context["functionArn"]) == "Probe"
    assert record["requestPayload"] == {"task_token": "dG9rZW4=", "n": 1}
    assert "responsePayload" not in record
    assert pool.snapshot()["expired_events"] == 1


def test_a_failed_event_reaches_the_destination_whose_own_retries_apply(
    emulator: tuple[Emulator, Path],
) -> None:
    running, records = emulator
    sink = running.pools["Sink"]
    # The record itself asks the sink to fail: Lambda retries an async invocation of the
    # destination as its EventInvokeConfig says (2 retries: 3 deliveries of the record).
    running.pools["Probe"].events.put(({"fail": True}, time.monotonic(), 0))
    found = wait_for_records(records, 3, timeout_s=90)
    assert [r["requestContext"]["condition"] for r in found] == ["RetriesExhausted"] * 3
    assert found[0]["responsePayload"]["errorType"] == "RuntimeError"
    assert sink.snapshot()["invocations"] == 3


def test_recycled_idle_environments_make_the_next_invocation_a_cold_start(
    emulator: tuple[Emulator, Path],
) -> None:
    """As Lambda recycles idle execution environments (the images bench starts each run from
    cold functions this way, POST /_emulator/recycle)."""
    running, _ = emulator
    pool = running.pools["Probe"]
    for _ in range(2):
        answer = pool.try_invoke({"hog_mb": 1})
        assert answer is not None and answer.ok, answer
    assert (pool.snapshot()["cold_starts"], pool.snapshot()["warm_starts"]) == (1, 1)
    assert pool.recycle_idle() == 1
    answer = pool.try_invoke({"hog_mb": 1})
    assert answer is not None and answer.ok, answer
    assert (pool.snapshot()["cold_starts"], pool.snapshot()["warm_starts"]) == (2, 1)
