"""Who calls AWS in the local stack, and with what rights: one principal per role and managed
policy of template.yaml, known by its access key.

On AWS a Lambda function runs with its execution role's credentials and the worker with
whatever role carries ``WorkerPolicy``; here each process is given an access key id that names
its principal (the role's or policy's logical id), and the local AWS endpoints (moto behind
``smm_local.iam_gate``, the Lambda emulator) authorise every signed request against that
principal's statements. ``ADMIN_KEY`` is the deployer: the stack's own set-up (buckets, tables)
and the tests' inspection of state, as CloudFormation and an administrator would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smm_local.iam import Policy, policy_of
from smm_local.template import Resolver

ADMIN_KEY = "local"
SECRET_KEY = "local"  # the emulated endpoints check who signed, not the signature
WORKER = "WorkerPolicy"
OPERATOR = "OperatorPolicy"
PAYLOAD_MEDIA = "PayloadMediaPolicy"  # Payload's uploads (the plugin's media collection)


def credentials(principal: str) -> dict[str, str]:
    """The environment that makes a process sign as ``principal``."""
    return {"AWS_ACCESS_KEY_ID": principal, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}


def conditions_of(template: Mapping[str, Any], resolver: Resolver) -> set[str]:
    """The template's conditions that hold for these parameters (the forms it uses:
    ``Fn::Not``, ``Fn::Equals``, ``Fn::Join``, ``Ref``)."""

    def value(raw: Any) -> Any:
        if isinstance(raw, dict) and "Fn::Join" in raw:
            sep, items = raw["Fn::Join"]
            resolved = value(items)
            return sep.join(resolved if isinstance(resolved, list) else [resolved])
        if isinstance(raw, dict) and "Ref" in raw:
            found = resolver.value(raw)
            return "" if found is None else found
        if isinstance(raw, list):
            return [value(item) for item in raw]
        return str(raw)

    def holds(raw: Any) -> bool:
        if "Fn::Not" in raw:
            return not holds(raw["Fn::Not"][0])
        if "Fn::Equals" in raw:
            left, right = (value(side) for side in raw["Fn::Equals"])
            return bool(left == right)
        raise ValueError(f"condition {raw!r} is not modelled: add it to smm_local.principals")

    return {name for name, raw in template.get("Conditions", {}).items() if holds(raw)}


def function_names(template: Mapping[str, Any]) -> dict[str, str]:
    """Locally a function's name is its logical id (the emulator's pools)."""
    return {
        name: name
        for name, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }


def principals(template: Mapping[str, Any], resolver: Resolver) -> dict[str, Policy]:
    """Every role (its inline policies) and managed policy of the template, by access key.

    A required secret parameter the local stack does not set (it hands secrets to processes
    in their environment) names a placeholder secret no one can read."""
    missing = {
        name: f"arn:aws:secretsmanager:{resolver.region}:{resolver.account}:secret:local-{name}"
        for name, spec in template.get("Parameters", {}).items()
        if "Default" not in spec and name not in resolver.parameters
    }
    resolver = Resolver({**missing, **resolver.parameters}, resolver.resources,
                        resolver.region, resolver.account)  # fmt: skip
    on = conditions_of(template, resolver)
    return {
        logical_id: policy_of(template, logical_id, resolver, on)
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") in ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy")
    }
