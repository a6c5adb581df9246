"""The front door stays short and the trigger API's reference page says what the API is:
every operation and schema of functions/trigger/openapi.json is on it (`make docs` builds the
site with --strict, so a broken link or anchor fails `make test` too)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_is_a_short_front_door() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250
    text = "\n".join(lines)
    assert "make demo" in text and "make test" in text and "docs/" in text


def test_the_reference_page_lists_every_operation_and_schema() -> None:
    spec_path = ROOT / "docs" / "hooks" / "openapi_reference.py"
    loaded = importlib.util.spec_from_file_location("openapi_reference", spec_path)
    assert loaded is not None and loaded.loader is not None
    hook = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(hook)
    spec = json.loads((ROOT / "functions" / "trigger" / "openapi.json").read_text())
    page = hook.render(spec)
    for path, methods in spec["paths"].items():
        for method in methods:
            assert f"## `{method.upper()} {path}`" in page
    for name in spec["components"]["schemas"]:
        assert f"### {name}\n" in page
    assert "| `doc_id` | string | yes |" in page  # a field, its type and that it is required
