"""`make bench` figures beside the last committed ones: each bench records its figures here;
each is printed next to the value in tests/bench/results.json (committed) with the change,
flagged when it moved more than 10 %, and the file is rewritten with this run's values and
the machine they came from, ready to commit when the change is meant."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"
FLAG = 0.10


def machine() -> str:
    cpu = "unknown cpu"
    info = Path("/proc/cpuinfo")
    if info.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in info.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return f"{os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}"


def _load() -> dict[str, Any]:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {"figures": {}}


def record(name: str, value: float, unit: str, better: str = "lower") -> str:
    """Store ``value`` under ``name`` and return the comparison line for it."""
    data = _load()
    before = data["figures"].get(name, {}).get("value")
    data["figures"][name] = {"value": round(value, 6), "unit": unit, "better": better}
    data["machine"] = machine()
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    if before is None:
        return f"  {name}: {value:.4g} {unit} (no earlier figure)"
    change = (value - before) / before if before else 0.0
    worse = change > FLAG if better == "lower" else change < -FLAG
    mark = (
        "  <-- WORSE by more than 10 %"
        if worse
        else "  <-- better by more than 10 %"
        if abs(change) > FLAG
        else ""
    )
    return f"  {name}: {value:.4g} {unit} (was {before:.4g}, {100 * change:+.1f} %){mark}"


def report(figures: list[tuple[str, float, str, str]]) -> None:
    """Record several figures and print them under one heading."""
    print("figures vs the last committed run (tests/bench/results.json):")
    for name, value, unit, better in figures:
        print(record(name, value, unit, better))
