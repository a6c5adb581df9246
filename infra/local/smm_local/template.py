"""Read the SAM template: the single description of functions that local tooling shares.

Only what local emulation needs is resolved: Globals merged into each function, and
environment values that are plain strings, ``!Ref`` to parameters or resources, or ``!Sub``
over those. Anything else is left out (and reported), never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "GetAtt",
            "Sub",
            "Join",
            "If",
            "Select",
            "Split",
            "Equals",
            "Not",
            "And",
            "Or",
            "FindInMap",
            "ImportValue",
            "GetAZs",
            "Base64",
            "Cidr",
            "Transform",
            "ToJsonString",
            "Length",
        )
    },
}


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags into their long JSON forms."""


def _make_constructor(long_name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if long_name == "Fn::GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {long_name: value}

    return construct


for _short, _long in _SHORT_TAGS.items():
    _CfnLoader.add_constructor(f"!{_short}", _make_constructor(_long))


def load_template(path: Path) -> dict[str, Any]:
    data = yaml.load(path.read_text(), Loader=_CfnLoader)
    if not isinstance(data, dict) or "Resources" not in data:
        raise ValueError(f"{path}: not a SAM/CloudFormation template (no Resources)")
    return data


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    runtime: str
    timeout_s: int
    memory_mb: int
    environment: dict[str, str]
    reserved_concurrency: int | None = None
    max_retry_attempts: int = 2
    max_event_age_s: int = 21600
    on_failure: str | None = None
    role: str | None = None  # the logical id of its execution role
    ephemeral_mb: int = 512  # EphemeralStorage: the size of its /tmp
    layers: tuple[Path, ...] = ()  # its layers' folders, in order (/opt)
    built: bool = False  # code_dir and layers are what `sam build` made
    unresolved: list[str] = field(default_factory=list)


@dataclass
class Resolver:
    parameters: dict[str, str]
    resources: dict[str, str]
    region: str = "us-east-1"
    account: str = "123456789012"

    def value(self, raw: Any) -> str | None:
        if isinstance(raw, str | int | float | bool):
            return str(raw).lower() if isinstance(raw, bool) else str(raw)
        if isinstance(raw, dict) and len(raw) == 1:
            ((key, arg),) = raw.items()
            if key == "Ref":
                return self._ref(str(arg))
            if key == "Fn::Sub" and isinstance(arg, str):
                missing: list[str] = []

                def sub(match: re.Match[str]) -> str:
                    found = self._ref(match.group(1))
                    if found is None:
                        missing.append(match.group(1))
                        return ""
                    return found

                text = re.sub(r"\$\{([A-Za-z0-9:._]+)\}", sub, arg)
                return None if missing else text
        return None

    def _ref(self, name: str) -> str | None:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::StackName": "local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.resources.get(name)


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {
        name: str(spec["Default"])
        for name, spec in template.get("Parameters", {}).items()
        if isinstance(spec, dict) and "Default" in spec
    }


def functions(
    template: dict[str, Any], root: Path, resolver: Resolver, built: bool = False
) -> dict[str, FunctionSpec]:
    """The template's functions; ``built`` when ``template`` is the one `sam build` wrote
    (its CodeUri and ContentUri name the artifacts, relative to ``root``)."""
    glob = template.get("Globals", {}).get("Function", {})
    found: dict[str, FunctionSpec] = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = {**glob, **resource.get("Properties", {})}
        env_raw = {
            **glob.get("Environment", {}).get("Variables", {}),
            **resource.get("Properties", {}).get("Environment", {}).get("Variables", {}),
        }
        env: dict[str, str] = {}
        unresolved: list[str] = []
        for key, raw in env_raw.items():
            resolved = resolver.value(raw)
            if resolved is None:
                unresolved.append(key)
            else:
                env[key] = resolved
        invoke = props.get("EventInvokeConfig", {})
        on_failure = invoke.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        reserved = props.get("ReservedConcurrentExecutions")
        found[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=(root / str(props["CodeUri"])).resolve(),
            handler=str(props["Handler"]),
            runtime=str(props["Runtime"]),
            timeout_s=int(resolver.value(props.get("Timeout", 3)) or 3),
            memory_mb=int(resolver.value(props.get("MemorySize", 128)) or 128),
            environment=env,
            reserved_concurrency=int(resolver.value(reserved) or 0) or None
            if reserved is not None
            else None,
            max_retry_attempts=int(invoke.get("MaximumRetryAttempts", 2)),
            max_event_age_s=int(
                resolver.value(invoke.get("MaximumEventAgeInSeconds", 21600)) or 21600
            ),
            on_failure=_destination_name(on_failure),
            role=_role_name(props.get("Role")),
            layers=tuple(_layers(template, root, props.get("Layers") or [])),
            built=built,
            ephemeral_mb=int(
                resolver.value((props.get("EphemeralStorage") or {}).get("Size", 512)) or 512
            ),
            unresolved=unresolved,
        )
    return found


def _layers(template: dict[str, Any], root: Path, refs: list[Any]) -> list[Path]:
    found = []
    for ref in refs:
        name = ref.get("Ref") if isinstance(ref, dict) else None
        layer = template["Resources"].get(str(name), {})
        if layer.get("Type") == "AWS::Serverless::LayerVersion":
            found.append((root / str(layer["Properties"]["ContentUri"])).resolve())
    return found


def _role_name(raw: Any) -> str | None:
    if isinstance(raw, dict) and "Fn::GetAtt" in raw:
        return str(raw["Fn::GetAtt"][0])
    return None


def _destination_name(raw: Any) -> str | None:
    if isinstance(raw, dict) and "Fn::GetAtt" in raw:
        return str(raw["Fn::GetAtt"][0])
    if isinstance(raw, dict) and "Ref" in raw:
        return str(raw["Ref"])
    return None


def table_spec(template: dict[str, Any], logical_id: str, name: str) -> dict[str, Any]:
    """CreateTable arguments for the DynamoDB table ``logical_id`` as the template declares
    it (keys, attributes, global secondary indexes): local tables get production's shape."""
    props = template["Resources"][logical_id]["Properties"]
    spec: dict[str, Any] = {
        "TableName": name,
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
    }
    if props.get("GlobalSecondaryIndexes"):
        spec["GlobalSecondaryIndexes"] = [
            {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
            for index in props["GlobalSecondaryIndexes"]
        ]
    return spec


REPO_TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"


def repo_table_spec(logical_id: str, name: str) -> dict[str, Any]:
    """``table_spec`` from this repository's template.yaml."""
    return table_spec(load_template(REPO_TEMPLATE), logical_id, name)
