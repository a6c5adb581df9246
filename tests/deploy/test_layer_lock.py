"""The Lambda layers install what the tests ran: the runtime layer's requirements.lock is
uv.lock's resolution, and the Node function's dependencies are exact and locked."""

from __future__ import annotations

import json
import runpy
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_runtime_layer_lock_is_uv_locks_resolution() -> None:
    export = runpy.run_path(str(ROOT / "layers" / "runtime" / "export_lock.py"))
    expected = export["render"](ROOT / "uv.lock", ROOT / "layers" / "runtime" / "requirements.txt")
    committed = (ROOT / "layers" / "runtime" / "requirements.lock").read_text()
    assert committed == expected, "layers/runtime/requirements.lock drifted: run make layer-lock"
    for line in expected.splitlines():
        if not line.startswith("#"):
            assert "==" in line  # exact, never a range


def test_the_node_function_depends_on_exact_versions_its_lock_file_holds() -> None:
    function = ROOT / "functions" / "render_image"
    package = json.loads((function / "package.json").read_text())
    declared = {**package["dependencies"], **package["devDependencies"]}  # the compiler too
    locked = json.loads((function / "package-lock.json").read_text())["packages"]
    assert locked[""]["dependencies"] == package["dependencies"]
    assert locked[""]["devDependencies"] == package["devDependencies"]
    for name, version in declared.items():
        assert version[0].isdigit(), f"{name}: {version} is a range; pin it"
        assert locked[f"node_modules/{name}"]["version"] == version, name


def test_the_video_functions_pin_what_uv_lock_resolved() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    resolved = {p["name"]: p["version"] for p in lock["package"]}
    for line in (ROOT / "functions" / "render_video" / "requirements.txt").read_text().split():
        name, version = line.split("==")
        assert resolved[name] == version, f"functions/render_video/requirements.txt: {name}"
