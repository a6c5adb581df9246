"""CHANGELOG.md keeps the form operators rely on: the newest entry is the project's version,
versions descend, and every entry says what an operator must do and what happens to
running workflows."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADING = re.compile(r"^## \[(\d+)\.(\d+)\.(\d+)\] - (\d{4}-\d{2}-\d{2})$", re.MULTILINE)


def entries() -> list[tuple[tuple[int, int, int], date, str]]:
    text = (ROOT / "CHANGELOG.md").read_text()
    found = list(HEADING.finditer(text))
    out = []
    for i, m in enumerate(found):
        body = text[m.end() : found[i + 1].start() if i + 1 < len(found) else len(text)]
        version = (int(m[1]), int(m[2]), int(m[3]))
        out.append((version, date.fromisoformat(m[4]), body))
    return out


def test_the_newest_entry_is_the_projects_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    newest = entries()[0][0]
    assert ".".join(map(str, newest)) == project


def test_versions_and_dates_descend() -> None:
    found = entries()
    assert len(found) >= 2
    versions = [v for v, _, _ in found]
    dates = [d for _, d, _ in found]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)
    assert dates == sorted(dates, reverse=True)


def test_every_entry_tells_operators_what_to_do_and_what_happens_to_running_workflows() -> None:
    for version, _, body in entries():
        assert "### Operators" in body, version
        assert "### Running workflows" in body, version


def test_the_cli_reports_the_release() -> None:
    import subprocess
    import sys

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    shown = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.stdout.strip() == f"smm-engine {project}", shown
