"""What the Node function reads of the contract, generated from the Python models.

``python -m smm_runtime.contract.schema DIR`` (``make schema``) writes the JSON Schemas of
every Node kind's event and result, and ``contract.json``: the contract version, the error
types and the table's Node kinds. Committed; a test fails when they drift from the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from smm_runtime.contract import CONTRACT_VERSION, errors
from smm_runtime.contract.events import EVENT_MODELS
from smm_runtime.contract.kinds import KINDS

GENERATED = "Generated from smm_runtime.contract by 'make schema'; do not edit."


def _schema_stem(kind_name: str) -> str:
    return kind_name.removeprefix("render_")  # render_image -> image-event.schema.json


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schemas of the Node kinds' events and results, by file name."""
    found: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        if kind.runtime != "node":
            continue
        stem = _schema_stem(kind.name)
        for name, model, mode in (
            (f"{stem}-event", EVENT_MODELS[kind.name], "validation"),
            (f"{stem}-result", kind.result, "serialization"),
        ):
            schema: dict[str, Any] = model.model_json_schema(mode=mode)  # type: ignore[arg-type]
            schema["$comment"] = (
                f"Generated from smm_runtime.contract.{model.__name__} by "
                "'make schema'; do not edit."
            )
            found[f"{name}.schema.json"] = schema
    return found


def node_constants() -> dict[str, Any]:
    """The names the Node function would otherwise copy by hand."""
    error_types = {
        name: value
        for name, value in vars(errors).items()
        if name.isupper() and isinstance(value, str)
    }
    return {
        "$comment": GENERATED,
        "contract_version": CONTRACT_VERSION,
        "error_types": dict(sorted(error_types.items())),
        "kinds": {
            kind.name: {
                "function": kind.function,
                "activity": kind.activity,
                "event_schema": f"{_schema_stem(kind.name)}-event.schema.json",
                "result_schema": f"{_schema_stem(kind.name)}-result.schema.json",
            }
            for kind in KINDS
            if kind.runtime == "node"
        },
    }


def generated_files() -> dict[str, str]:
    files = {
        name: json.dumps(schema, indent=2, sort_keys=True) + "\n"
        for name, schema in json_schemas().items()
    }
    files["contract.json"] = json.dumps(node_constants(), indent=2, sort_keys=True) + "\n"
    return files


def write(folder: Path) -> list[Path]:
    written = []
    for name, text in generated_files().items():
        path = folder / name
        path.write_text(text)
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write(Path(sys.argv[1])):
        print(f"wrote {written_path}")
