"""IAM as template.yaml grants it, enforced on a boto3 client: every call the client makes is
authorised against one principal's statements (its role's inline policies, or a managed
policy), action and resource both, with the template's intrinsics resolved to local names.
A call the template does not grant fails as AWS fails it: ``ClientError`` ``AccessDenied``.

What is modelled (IAM's policy evaluation logic for identity policies, Allow statements only,
which is all the template uses): action and resource matching with ``*`` and ``?`` (actions
case-insensitive, resources case-sensitive), ``Condition`` with ``StringLike`` and
``StringEquals`` on the request keys named below (a key the request lacks does not match),
and the action each operation needs — ``HeadObject`` is ``s3:GetObject``, a multipart upload
is ``s3:PutObject``, a ``TransactWriteItems`` needs the action of each item on its table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from smm_local.template import Resolver

REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    def allows(self, action: str, resource: str, context: Mapping[str, str]) -> bool:
        return (
            any(_matches(pattern.lower(), action.lower()) for pattern in self.actions)
            and any(_matches(pattern, resource) for pattern in self.resources)
            and all(
                _condition(operator, key, values, context)
                for operator, keys in self.conditions.items()
                for key, values in keys.items()
            )
        )


@dataclass(frozen=True)
class Policy:
    principal: str
    statements: tuple[Statement, ...]

    def allows(self, action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
        return any(s.allows(action, resource, context or {}) for s in self.statements)

    def without(self, sid: str) -> Policy:
        """The same policy with one statement removed (tests: enforcement is on)."""
        kept = tuple(s for s in self.statements if s.sid != sid)
        assert len(kept) < len(self.statements), f"{self.principal} has no statement {sid}"
        return Policy(self.principal, kept)


def _matches(pattern: str, value: str) -> bool:
    # IAM wildcards: * any run (also across '/' and ':'), ? one character; nothing else.
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _condition(
    operator: str, key: str, values: tuple[str, ...], context: Mapping[str, str]
) -> bool:
    if key not in context:
        return False
    if operator == "StringLike":
        return any(_matches(v, context[key]) for v in values)
    if operator == "StringEquals":
        return context[key] in values
    raise ValueError(f"condition operator {operator} is not modelled: add it to smm_local.iam")


# --- reading the template ---------------------------------------------------------------------


def _arn(resolver: Resolver, template: Mapping[str, Any], logical_id: str) -> str:
    """``!GetAtt X.Arn`` for the resource types the template's policies name."""
    kind = template["Resources"][logical_id]["Type"]
    name = resolver.resources[logical_id]
    if kind == "AWS::DynamoDB::Table":
        return f"arn:aws:dynamodb:{resolver.region}:{resolver.account}:table/{name}"
    if kind == "AWS::Serverless::Function":
        return f"arn:aws:lambda:{resolver.region}:{resolver.account}:function:{name}"
    if kind == "AWS::S3::Bucket":
        return f"arn:aws:s3:::{name}"
    raise ValueError(f"!GetAtt {logical_id}.Arn: type {kind} is not modelled")


def _values(raw: Any, resolver: Resolver, template: Mapping[str, Any]) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    found: list[str] = []
    for item in items:
        if isinstance(item, dict) and "Fn::GetAtt" in item:
            found.append(_arn(resolver, template, str(item["Fn::GetAtt"][0])))
            continue
        if isinstance(item, dict) and isinstance(item.get("Fn::Sub"), str):
            # ${X.Arn} inside a !Sub (an index of a table): the ARN as !GetAtt gives it.
            arns = re.sub(
                r"\$\{([A-Za-z0-9]+)\.Arn\}",
                lambda m: _arn(resolver, template, m.group(1)),
                item["Fn::Sub"],
            )
            item = {"Fn::Sub": arns}
        value = resolver.value(item)
        if value is None:
            raise ValueError(f"cannot resolve {item!r} in a policy statement")
        found.append(value)
    return tuple(found)


def _statements(
    document: Mapping[str, Any],
    resolver: Resolver,
    template: Mapping[str, Any],
    conditions: set[str],
) -> list[Statement]:
    found = []
    for raw in document["Statement"]:
        if "Fn::If" in raw:
            condition, raw, _ = raw["Fn::If"]
            if condition not in conditions:
                continue
        assert raw["Effect"] == "Allow", "the template grants; it never denies"
        found.append(
            Statement(
                sid=str(raw.get("Sid", "")),
                actions=tuple(
                    raw["Action"] if isinstance(raw["Action"], list) else [raw["Action"]]
                ),
                resources=_values(raw["Resource"], resolver, template),
                conditions={
                    operator: {key: _values(v, resolver, template) for key, v in keys.items()}
                    for operator, keys in (raw.get("Condition") or {}).items()
                },
            )
        )
    return found


def policy_of(
    template: Mapping[str, Any],
    logical_id: str,
    resolver: Resolver,
    conditions: Iterable[str] = (),
) -> Policy:
    """The statements a role (its inline policies) or a managed policy grants, with the
    template's ``Fn::If`` parts whose condition is in ``conditions``."""
    on = set(conditions)
    resource = template["Resources"][logical_id]
    props = resource["Properties"]
    documents: list[Mapping[str, Any]] = []
    if resource["Type"] == "AWS::IAM::ManagedPolicy":
        documents.append(props["PolicyDocument"])
    else:
        for policy in props.get("Policies", []):
            if "Fn::If" in policy:
                condition, policy, _ = policy["Fn::If"]
                if condition not in on:
                    continue
            documents.append(policy["PolicyDocument"])
    statements = [s for d in documents for s in _statements(d, resolver, template, on)]
    return Policy(logical_id, tuple(statements))


# --- what a call needs ------------------------------------------------------------------------

Need = tuple[str, str, dict[str, str]]  # action, resource ARN, condition context


def _s3(operation: str, params: Mapping[str, Any]) -> list[Need]:
    bucket = str(params.get("Bucket", ""))
    obj = f"arn:aws:s3:::{bucket}/{params.get('Key', '')}"
    if operation in ("ListObjectsV2", "ListObjects"):
        return [
            (
                "s3:ListBucket",
                f"arn:aws:s3:::{bucket}",
                {"s3:prefix": str(params.get("Prefix", ""))},
            )
        ]
    if operation in ("GetObject", "HeadObject"):
        return [("s3:GetObject", obj, {})]
    if operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        # Tags sent with an upload are treated as needing s3:PutObjectTagging too, the action
        # of setting tags (the stricter reading: the template grants it, so both hold).
        tagging: list[Need] = [("s3:PutObjectTagging", obj, {})] if params.get("Tagging") else []
        return [("s3:PutObject", obj, {}), *tagging]
    if operation == "CopyObject":
        source = params["CopySource"]
        if isinstance(source, Mapping):
            source = f"{source['Bucket']}/{source['Key']}"
        return [("s3:PutObject", obj, {}), ("s3:GetObject", f"arn:aws:s3:::{source}", {})]
    if operation in ("DeleteObject", "AbortMultipartUpload"):
        return [(f"s3:{operation}", obj, {})]
    return [(f"s3:{operation}", obj, {})]


def _table(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def _dynamodb(operation: str, params: Mapping[str, Any]) -> list[Need]:
    if operation == "TransactWriteItems":
        kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                 "ConditionCheck": "ConditionCheckItem"}  # fmt: skip
        return [
            (f"dynamodb:{kinds[kind]}", _table(body["TableName"]), {})
            for item in params["TransactItems"]
            for kind, body in item.items()
        ]
    if operation == "TransactGetItems":
        return [
            ("dynamodb:GetItem", _table(i["Get"]["TableName"]), {}) for i in params["TransactItems"]
        ]
    resource = _table(str(params.get("TableName", "")))
    if params.get("IndexName"):
        resource += f"/index/{params['IndexName']}"
    return [(f"dynamodb:{operation}", resource, {})]


def needs(service: str, operation: str, params: Mapping[str, Any]) -> list[Need]:
    """The (action, resource, context) triples AWS authorises for one API call."""
    if service == "s3":
        return _s3(operation, params)
    if service == "dynamodb":
        return _dynamodb(operation, params)
    if service == "lambda" and operation in ("Invoke", "InvokeAsync"):
        name = str(params["FunctionName"])
        arn = (
            name
            if name.startswith("arn:")
            else f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        )
        return [("lambda:InvokeFunction", arn, {})]
    if service == "lambda":
        name = str(params.get("FunctionName", ""))
        return [(f"lambda:{operation}", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}", {})]
    if service == "secretsmanager":
        return [(f"secretsmanager:{operation}", str(params.get("SecretId", "")), {})]
    raise ValueError(f"{service}:{operation} is not modelled: add it to smm_local.iam.needs")


def enforce(client: Any, policy: Policy, denied: Callable[[str, str], None] | None = None) -> Any:
    """Authorise every call ``client`` makes against ``policy``; returns the client."""
    service = client.meta.service_model.service_name

    def check(params: Mapping[str, Any], model: Any, **_: Any) -> None:
        for action, resource, context in needs(service, model.name, params):
            if not policy.allows(action, resource, context):
                if denied is not None:
                    denied(action, resource)
                raise ClientError(
                    {
                        "Error": {
                            "Code": "AccessDenied",
                            "Message": f"User: {policy.principal} is not authorized to perform: "
                            f"{action} on resource: {resource} because no identity-based "
                            "policy allows the action",
                        },
                    },
                    model.name,
                )

    client.meta.events.register(f"before-parameter-build.{service}", check)
    return client
