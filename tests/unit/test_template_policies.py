"""IAM least privilege, checked offline by walking template.yaml's policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from smm_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
OWN = ("CreativeBucket", "LedgerTable", "IdempotencyTable", "PostizApiKeySecretArn",
       "TriggerSecretArn", "TemporalApiKeySecretArn")
WRITES = ("Put", "Delete", "Update", "Write", "Create", "Abort")


def statements() -> list[tuple[str, dict[str, Any]]]:
    template = load_template(ROOT / "template.yaml")
    found = []
    for name, resource in template["Resources"].items():
        for policy in resource.get("Properties", {}).get("Policies", []) or []:
            if isinstance(policy, dict) and "Fn::If" in policy:
                policy = policy["Fn::If"][1]  # the statement the condition switches on
            if isinstance(policy, dict):
                for statement in policy.get("Statement", []):
                    found.append((name, statement))
    return found


def test_every_function_has_its_own_explicit_statements() -> None:
    names = {name for name, _ in statements()}
    assert {"RenderSegmentFunction", "AudioMixFunction", "FinalizeVideoFunction",
            "RenderImageFunction", "TransferFunction", "TriggerFunction"} <= names


def test_no_wildcard_actions_and_no_resource_outside_the_project() -> None:
    for name, statement in statements():
        assert statement["Effect"] == "Allow", name
        actions = statement["Action"] if isinstance(statement["Action"], list) else \
            [statement["Action"]]
        for action in actions:
            assert "*" not in action, f"{name}: wildcard action {action}"
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else \
            [statement["Resource"]]
        for resource in resources:
            text = json.dumps(resource)
            assert resource != "*", f"{name}: a policy on every resource"
            assert any(own in text for own in OWN), f"{name}: {text} is not a project resource"
            if "*" in text:
                # Only object keys under our own bucket may use a wildcard, and never a prefix
                # that covers the whole bucket for writes.
                assert "${CreativeBucket}/" in text, f"{name}: wildcard in {text}"
                if any(a.split(":")[1].startswith(WRITES) for a in actions):
                    assert "${CreativeBucket}/*" not in text, f"{name}: writes the whole bucket"
