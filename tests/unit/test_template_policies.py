"""IAM least privilege, checked offline by walking template.yaml's execution roles."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from smm_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
OWN = (
    "CreativeBucket",
    "LedgerTable",
    "IdempotencyTable",
    "PostizApiKeySecretArn",
    "TriggerSecretArn",
    "TemporalApiKeySecretArn",
    "PayloadKeysSecretArn",
    "ReviewLinkSecretArn",
    "DispatchFailureFunction",
)
WRITES = ("Put", "Delete", "Update", "Write", "Create", "Abort")
ALWAYS_MANAGED = {"service-role/AWSLambdaBasicExecutionRole", "AWSXRayDaemonWriteAccess"}
VPC_MANAGED = "service-role/AWSLambdaVPCAccessExecutionRole"


def resources() -> dict[str, dict[str, Any]]:
    return dict(load_template(ROOT / "template.yaml")["Resources"])


def functions() -> dict[str, dict[str, Any]]:
    return {name: r for name, r in resources().items() if r["Type"] == "AWS::Serverless::Function"}


def role_of(function: dict[str, Any]) -> dict[str, Any]:
    role_ref = function["Properties"]["Role"]["Fn::GetAtt"]
    assert role_ref[1] == "Arn"
    role = resources()[role_ref[0]]
    assert role["Type"] == "AWS::IAM::Role"
    return role


def policies(role: dict[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
    """Each inline policy with the condition it hangs on (None: always)."""
    found = []
    for policy in role["Properties"].get("Policies", []):
        if "Fn::If" in policy:
            condition, policy, otherwise = policy["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"}
            found.append((policy, condition))
        else:
            found.append((policy, None))
    return found


def statements() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, function in functions().items():
        for policy, _ in policies(role_of(function)):
            for statement in policy["PolicyDocument"]["Statement"]:
                found.append((name, statement))
    return found


def test_every_function_runs_as_its_own_explicit_role() -> None:
    roles = [function["Properties"]["Role"]["Fn::GetAtt"][0] for function in functions().values()]
    assert len(roles) == len(set(roles)) == 8
    assert "Policies" not in load_template(ROOT / "template.yaml")["Globals"]["Function"]
    for name, function in functions().items():
        assert "Policies" not in function["Properties"], f"{name}: SAM ignores Policies with Role"


def test_no_wildcard_actions_and_no_resource_outside_the_project() -> None:
    for name, statement in statements():
        assert statement["Effect"] == "Allow", name
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        for action in actions:
            assert "*" not in action, f"{name}: wildcard action {action}"
        resources_ = (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        for resource in resources_:
            text = json.dumps(resource)
            assert resource != "*", f"{name}: a policy on every resource"
            assert any(own in text for own in OWN), f"{name}: {text} is not a project resource"
            if "*" in text:
                # Only object keys under our own bucket may use a wildcard, and never a prefix
                # that covers the whole bucket for writes.
                assert "${CreativeBucket}/" in text, f"{name}: wildcard in {text}"
                if any(a.split(":")[1].startswith(WRITES) for a in actions):
                    assert "${CreativeBucket}/*" not in text, f"{name}: writes the whole bucket"


def test_network_interface_rights_only_when_deployed_into_a_vpc() -> None:
    for name, function in functions().items():
        managed = role_of(function)["Properties"]["ManagedPolicyArns"]
        plain = {m["Fn::Sub"].split(":policy/")[1] for m in managed if "Fn::Sub" in m}
        assert plain == ALWAYS_MANAGED, name
        conditional = [m["Fn::If"] for m in managed if "Fn::If" in m]
        assert len(conditional) == 1, name
        condition, arn, otherwise = conditional[0]
        assert condition == "InVpc" and arn["Fn::Sub"].endswith(VPC_MANAGED), name
        assert otherwise == {"Ref": "AWS::NoValue"}, name


def test_functions_that_report_failures_may_invoke_only_the_failure_function() -> None:
    for name, function in functions().items():
        invokes = [
            s for n, s in statements() if n == name and "lambda:InvokeFunction" in s["Action"]
        ]
        destination = (
            function["Properties"]
            .get("EventInvokeConfig", {})
            .get("DestinationConfig", {})
            .get("OnFailure")
        )
        if destination:
            assert [s["Resource"] for s in invokes] == [destination["Destination"]], name
        else:
            assert invokes == [], name


@pytest.mark.parametrize(
    ("condition", "secret"),
    [
        ("HasTemporalSecret", "TemporalApiKeySecretArn"),
        ("HasPayloadKeys", "PayloadKeysSecretArn"),
    ],
)
def test_optional_secrets_are_readable_only_when_configured(condition: str, secret: str) -> None:
    for name, function in functions().items():
        conditional = [p for p, c in policies(role_of(function)) if c == condition]
        assert len(conditional) == 1, name
        (statement,) = conditional[0]["PolicyDocument"]["Statement"]
        assert statement["Action"] == ["secretsmanager:GetSecretValue"], name
        assert statement["Resource"] == {"Ref": secret}, name


def test_every_public_url_has_reserved_concurrency() -> None:
    """A function behind a Function URL answers anyone on the internet: its concurrency is
    reserved, so a flood cannot take the account's Lambda concurrency from the renders."""
    public = {name: f for name, f in functions().items() if "FunctionUrlConfig" in f["Properties"]}
    assert public, "no Function URL in the template"
    for name, function in public.items():
        assert "ReservedConcurrentExecutions" in function["Properties"], name


# What each AWS call the worker makes needs (boto3 method -> IAM actions).
WORKER_CALLS = {
    "invoke": {"lambda:InvokeFunction"},
    "get_function_concurrency": {"lambda:GetFunctionConcurrency"},
    "get_object": {"s3:GetObject", "s3:ListBucket"},  # NoSuchKey, not AccessDenied
    "put_object": {"s3:PutObject"},
    "get_item": {"dynamodb:GetItem"},
    "put_item": {"dynamodb:PutItem"},  # the hold sweeper's mark of its indexing pass
    "update_item": {"dynamodb:UpdateItem"},  # ...and the holds it indexes
    "query": {"dynamodb:Query"},
    "scan": {"dynamodb:Scan"},
    "transact_write_items": {
        "dynamodb:TransactWriteItems",
        "dynamodb:ConditionCheckItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    },
    "get_secret": {"secretsmanager:GetSecretValue"},
}
WORKER_CODE = [
    *sorted((ROOT / "orchestrator").rglob("*.py")),
    *[
        ROOT / "layers" / "runtime" / "smm_runtime" / f
        for f in ("ledger.py", "open_holds.py", "codec.py", "temporal_conn.py")
    ],
]


def worker_calls() -> set[str]:
    """The AWS client methods the worker's code calls (the operator CLI aside)."""
    pattern = re.compile(r"(?:_s3|\b_?db|_lambda|lambda_api|parameters)\.([a-z_]+)\b")
    found: set[str] = set()
    for path in WORKER_CODE:
        if "cli" not in path.relative_to(ROOT).parts:
            found |= set(pattern.findall(path.read_text()))
    return found


def test_the_worker_policy_allows_every_call_the_worker_makes_and_no_more() -> None:
    calls = worker_calls()
    assert {"invoke", "get_object", "put_object", "transact_write_items", "scan"} <= calls
    unknown = calls - set(WORKER_CALLS)
    assert not unknown, f"add the IAM actions of {unknown} to WORKER_CALLS and WorkerPolicy"
    document = resources()["WorkerPolicy"]["Properties"]["PolicyDocument"]
    allowed: set[str] = set()
    for statement in document["Statement"]:
        if "Fn::If" in statement:
            statement = statement["Fn::If"][1]
        assert statement["Effect"] == "Allow" and statement["Resource"] != "*", statement
        allowed |= set(statement["Action"])
    needed = set().union(*(WORKER_CALLS[c] for c in calls))
    assert needed <= allowed, f"missing from WorkerPolicy: {needed - allowed}"
    assert allowed <= needed, f"WorkerPolicy allows more than the worker calls: {allowed - needed}"
