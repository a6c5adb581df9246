"""tests/events holds one event per function (for `sam local invoke -e` with Docker)."""

from __future__ import annotations

import json
from pathlib import Path

from smm_local.template import load_template
from smm_runtime.contract.events import parse_event

ROOT = Path(__file__).resolve().parents[2]


def test_there_is_a_valid_event_for_every_function() -> None:
    functions = [
        name
        for name, r in load_template(ROOT / "template.yaml")["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    ]
    for name in functions:
        event = json.loads((ROOT / "tests" / "events" / f"{name}.json").read_text())
        if name == "TriggerFunction":
            assert event["version"] == "2.0" and event["requestContext"]["http"]["method"]
        elif name == "DispatchFailureFunction":  # a Lambda on-failure destination record
            assert parse_event(event["requestPayload"]).kind
            assert event["responsePayload"]["errorType"]
        else:
            assert parse_event(event).kind  # the dispatch contract accepts it
