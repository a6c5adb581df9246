"""One table of kinds, held against every side that speaks it: the worker's settings and
activities, template.yaml, each Python function's handlers and the Node function."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator.config import WorkerSettings
from orchestrator.dispatch.lambda_dispatcher import LambdaDispatcher
from smm_local.template import FunctionSpec, Resolver, functions, load_template, parameter_defaults
from smm_runtime.contract.events import EVENT_MODELS
from smm_runtime.contract.kinds import KINDS
from smm_runtime.contract.schema import generated_files

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
# Every resource resolves to a local name, as the emulator resolves them.
REFS = {name: f"local-{name.lower()}" for name in TEMPLATE["Resources"]}
SPECS = functions(TEMPLATE, ROOT, Resolver(parameter_defaults(TEMPLATE), REFS))
DISPATCH_TARGETS = sorted({kind.function for kind in KINDS})


def test_every_kind_names_a_function_of_its_runtime_and_a_worker_setting() -> None:
    settings = WorkerSettings()
    for kind in KINDS:
        assert kind.function in SPECS, f"{kind.name}: no {kind.function} in template.yaml"
        runtime = SPECS[kind.function].runtime
        assert runtime.startswith("nodejs" if kind.runtime == "node" else "python"), kind.name
        assert kind.setting in WorkerSettings.model_fields, f"{kind.name}: {kind.setting}"
        assert settings.function_names()[kind.name] == kind.function  # local default


def test_every_result_and_event_carries_its_kind_name() -> None:
    assert len({kind.name for kind in KINDS}) == len(KINDS)
    assert len({kind.activity for kind in KINDS}) == len(KINDS)
    for kind in KINDS:
        assert kind.result.model_fields["kind"].default == kind.name
        assert EVENT_MODELS[kind.name].model_fields["request"].annotation is kind.request


def test_the_worker_registers_one_dispatch_activity_per_kind() -> None:
    names = [
        fn.__temporal_activity_definition.name  # type: ignore[attr-defined]
        for fn in LambdaDispatcher(None, {}).activities()
    ]
    assert names == [kind.activity for kind in KINDS]


def _env(spec: FunctionSpec) -> dict[str, str]:
    return {
        **os.environ,
        **spec.environment,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
    }


def _served(spec: FunctionSpec) -> list[str]:
    """The kinds the deployed handler says it serves ([] when it serves none)."""
    module, _, name = spec.handler.rpartition(".")
    if spec.runtime.startswith("nodejs"):
        program = (
            f"const m = await import('./{module}.mjs');"
            f"console.log(JSON.stringify(m.{name}.kinds ?? []));"
        )
        command = ["node", "--input-type=module", "-e", program]
    else:
        program = (
            f"import importlib, json; h = getattr(importlib.import_module('{module}'), "
            f"'{name}'); print(json.dumps(list(getattr(h, 'kinds', []))))"
        )
        command = [sys.executable, "-c", program]
    cwd = spec.code_dir if spec.runtime.startswith("nodejs") else ROOT
    done = subprocess.run(
        command, cwd=cwd, env=_env(spec), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    served: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return served


@pytest.mark.parametrize("logical_id", sorted(SPECS))
def test_each_function_serves_exactly_the_kinds_the_table_sends_it(logical_id: str) -> None:
    expected = sorted(kind.name for kind in KINDS if kind.function == logical_id)
    assert sorted(_served(SPECS[logical_id])) == expected


def test_the_committed_node_contract_matches_the_table() -> None:
    folder = ROOT / "functions" / "render_image" / "schema"
    for name, text in generated_files().items():
        assert (folder / name).read_text() == text, f"{name} drifted: run 'make schema'"
    constants: dict[str, Any] = json.loads((folder / "contract.json").read_text())
    assert sorted(constants["kinds"]) == sorted(k.name for k in KINDS if k.runtime == "node")


def test_dispatch_targets_are_the_functions_that_run_the_activity_runner() -> None:
    assert DISPATCH_TARGETS == [
        "AudioMixFunction",
        "FinalizeVideoFunction",
        "NoopFunction",
        "RenderImageFunction",
        "RenderSegmentFunction",
        "TransferFunction",
    ]
