"""MkDocs hook: the trigger API reference page, rendered at build time from
functions/trigger/openapi.json (itself generated from the trigger's routes by `make schema`),
so the docs can never describe an API other than the one the function serves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

PAGE = "trigger-api-reference.md"
SPEC = Path(__file__).resolve().parents[2] / "functions" / "trigger" / "openapi.json"


def _type(schema: dict[str, Any]) -> str:
    """A schema as one short phrase: `PostSpec`, `string`, `list of Tag`, `integer or null`."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[`{name}`](#{name.lower()})"
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return "list of " + _type(schema.get("items", {}))
    if schema.get("type") == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        return "map of " + (_type(extra) if isinstance(extra, dict) else "any")
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    return str(schema.get("type", "any"))


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _operation(method: str, path: str, op: dict[str, Any]) -> list[str]:
    lines = [f"## `{method.upper()} {path}`", "", op.get("summary", ""), ""]
    params = op.get("parameters", [])
    if params:
        lines += ["| parameter | in | type |", "| --- | --- | --- |"]
        lines += [f"| `{p['name']}` | {p['in']} | {_type(p.get('schema', {}))} |" for p in params]
        lines.append("")
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    if body:
        lines += [f"Body: {_type(body.get('schema', {}))}", ""]
    lines += ["| status | meaning | body |", "| --- | --- | --- |"]
    for status, answer in sorted(op.get("responses", {}).items()):
        schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
        lines.append(
            f"| {status} | {_cell(answer.get('description', ''))} | "
            f"{_type(schema) if schema else ''} |"
        )
    return [*lines, ""]


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"### {name}", "", _cell(schema.get("description", "")), ""]
    required = set(schema.get("required", []))
    properties = schema.get("properties", {})
    if properties:
        lines += ["| field | type | required | description |", "| --- | --- | --- | --- |"]
        for field, rule in properties.items():
            lines.append(
                f"| `{field}` | {_type(rule)} | {'yes' if field in required else ''} "
                f"| {_cell(rule.get('description', ''))} |"
            )
    return [*lines, ""]


def render(spec: dict[str, Any]) -> str:
    info = spec["info"]
    lines = [
        f"# Trigger API reference (v{info['version']})",
        "",
        f"{info.get('description', '')} Generated from `functions/trigger/openapi.json` "
        "when the docs are built; how signing, replay and accounts work is in "
        "[the trigger API](trigger-api.md).",
        "",
    ]
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            lines += _operation(method, path, op)
    lines += ["## Schemas", ""]
    for name, schema in sorted(spec["components"]["schemas"].items()):
        lines += _schema(name, schema)
    return "\n".join(lines)


def on_files(files: Files, config: MkDocsConfig) -> Files:
    content = render(json.loads(SPEC.read_text(encoding="utf-8")))
    files.append(File.generated(config, PAGE, content=content))
    return files
