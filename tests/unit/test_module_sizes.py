"""Rooms that fit: no source module of ours grows past 300 lines (issue 14's rule), so a
newcomer can read any one in a sitting. A module that needs more is two modules."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 300
OURS = ("orchestrator", "functions", "layers", "infra", "tests")
NOT_OURS = {".venv", "node_modules", "__pycache__", ".tools", "schema"}
# Written by generators, never by hand (a drift test keeps each equal to its generator's
# output): their length is the generator's, not a module's.
GENERATED = {"trigger-api.d.ts"}


def our_modules() -> list[Path]:
    found = []
    for top in OURS:
        for path in (ROOT / top).rglob("*"):
            if path.suffix in {".py", ".mjs", ".mts", ".ts"} and not NOT_OURS & set(path.parts) \
                    and path.name not in GENERATED and path.is_file():
                found.append(path)
    return found


def test_no_module_is_over_300_lines() -> None:
    modules = our_modules()
    assert len(modules) > 150  # the walk found the project, not an empty folder
    long = {str(p.relative_to(ROOT)): n for p in modules
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > LIMIT}
    assert long == {}, f"split these modules (limit {LIMIT} lines): {long}"
