"""A function built by `sam build` runs as Lambda lays it out: its artifact at /var/task
(read-only), its layers merged at /opt, the template's runtime (Python 3.12, Node.js 22), a
/tmp of its own, and nothing of the dev environment on its import path."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from smm_local.lambda_emulator import sandbox
from smm_local.lambda_emulator.emulator import Emulator
from smm_local.template import Resolver, functions, load_template

PROBE = Path(__file__).parent / "lambda_probe"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    assert sandbox.available(), "this machine must allow the emulator's sandbox"
    build = tmp_path_factory.mktemp("build")  # laid out as `sam build` lays it out
    (build / "Probe").mkdir()
    shutil.copy(PROBE / "app.py", build / "Probe" / "app.py")
    shutil.copytree(PROBE / "node", build / "NodeProbe")
    (build / "ProbeLayer" / "python").mkdir(parents=True)
    (build / "ProbeLayer" / "python" / "probe_layer.py").write_text("VALUE = 'from /opt'\n")
    (build / "ToolsLayer" / "bin").mkdir(parents=True)
    template: dict[str, Any] = {
        "Resources": {
            "Probe": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "Probe",
                    "Handler": "app.handler",
                    "Runtime": "python3.12",
                    "MemorySize": 256,
                    "Layers": [{"Ref": "ProbeLayer"}, {"Ref": "ToolsLayer"}],
                },
            },
            "NodeProbe": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "NodeProbe",
                    "Handler": "app.handler",
                    "Runtime": "nodejs22.x",
                    "MemorySize": 256,
                },
            },
            "ProbeLayer": {
                "Type": "AWS::Serverless::LayerVersion",
                "Properties": {"ContentUri": "ProbeLayer"},
            },
            "ToolsLayer": {
                "Type": "AWS::Serverless::LayerVersion",
                "Properties": {"ContentUri": "ToolsLayer"},
            },
        }
    }
    (build / "template.yaml").write_text(yaml.safe_dump(template))
    specs = functions(load_template(build / "template.yaml"), build, Resolver({}, {}), built=True)
    running = Emulator(specs, {})
    yield running
    running.shutdown()


def test_a_python_function_runs_from_its_artifact_under_python_3_12(emulator: Emulator) -> None:
    answer = emulator.pools["Probe"].try_invoke({"inspect": True})
    assert answer is not None and answer.ok, answer
    seen = answer.payload
    assert seen["python"] == "3.12"
    assert seen["cwd"] == "/var/task"
    assert seen["opt"] == ["bin", "python"]  # both layers, merged
    assert seen["layer"] == "from /opt"
    assert seen["task_write_errno"] == 30  # EROFS: the code is read-only, as on Lambda
    assert seen["dev_tree_importable"] is False  # only what the artifact and layers hold
    assert seen["tmp"] == "/tmp"


def test_a_node_function_runs_under_node_22(emulator: Emulator) -> None:
    answer = emulator.pools["NodeProbe"].try_invoke({})
    assert answer is not None and answer.ok, answer
    assert answer.payload["node"].startswith("v22.")
    assert answer.payload["cwd"] == "/var/task"
