"""Operable in AWS: every function's log group expires, every function is behind the error and
throttle alarms and on the dashboard, and the dashboard's body is valid JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from smm_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = sorted(
    name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"
)


def test_every_function_logs_json_to_a_group_that_expires() -> None:
    assert TEMPLATE["Globals"]["Function"]["LoggingConfig"] == {"LogFormat": "JSON"}
    groups = {
        r["Properties"]["LogGroupName"]["Fn::Sub"]: r["Properties"]["RetentionInDays"]
        for r in RESOURCES.values()
        if r["Type"] == "AWS::Logs::LogGroup"
    }
    assert groups == {f"/aws/lambda/${{{name}}}": {"Ref": "LogRetentionDays"} for name in FUNCTIONS}


def watched(alarm: str) -> set[str]:
    metrics = RESOURCES[alarm]["Properties"]["Metrics"]
    return {
        m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
        for m in metrics
        if "MetricStat" in m
    }


def test_every_function_is_behind_the_error_and_throttle_alarms() -> None:
    assert watched("FunctionErrorsAlarm") == set(FUNCTIONS)
    assert watched("FunctionThrottlesAlarm") == set(FUNCTIONS)
    assert watched("FunctionDiedAlarm") == {"DispatchFailureFunction"}
    assert watched("DynamoDbThrottlesAlarm") == {"LedgerTable", "IdempotencyTable"}
    for name in (
        "FunctionErrorsAlarm",
        "FunctionThrottlesAlarm",
        "FunctionDiedAlarm",
        "DynamoDbThrottlesAlarm",
    ):
        actions = RESOURCES[name]["Properties"]["AlarmActions"]["Fn::If"]
        assert actions[0] == "HasAlarmTopic"


def test_the_dashboard_is_json_and_shows_every_function_and_the_engines_metrics() -> None:
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    referenced = set(re.findall(r"\$\{([A-Za-z]+)(?:\.Arn)?\}", body)) - {"AWS"}
    assert set(FUNCTIONS) <= referenced
    dashboard = json.loads(re.sub(r"\$\{[A-Za-z:.]+\}", "x", body))
    titles = [w["properties"]["title"] for w in dashboard["widgets"]]
    assert any("EMF" in t for t in titles) and "Alarms" in titles
    assert all(m in body for m in ("ActivitySeconds", "GbSeconds", "OutputBytes"))
