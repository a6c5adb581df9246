"""`make bench` figures that hold still on a noisy machine: every figure is measured in at
least three runs in the same invocation, and recorded as the median of those runs with their
spread (lowest, highest). Each is printed next to the committed one in
tests/bench/results.json, and flagged only when the new median lies outside the old spread by
more than 10 % (a change the old runs' own scatter does not explain). The file is rewritten
with this run's figures and the machine they came from, ready to commit when the change is
meant.

One writer per figure: every figure name belongs to one bench (``OWNERS``), and recording a
name from another is an error, so two benches can never overwrite each other's figure.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"
FLAG = 0.10
RUNS = 3  # the fewest runs a figure is the median of

# name, value, unit, "lower" or "higher" (which way is better)
Figure = tuple[str, float, str, str]

# Which bench (module under tests/bench) writes which figures: the prefix of the name.
OWNERS = {
    "dispatch.": "dispatch_bench",
    "worker.": "dispatch_bench",
    "video.": "video_bench",
    "images.": "image_bench",
    "cap.": "cap_bench",
    "grants.": "grants_bench",
    "long.": "long_bench",
    "speech.": "speech_bench",
}


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


def owner(name: str) -> str:
    for prefix, bench in OWNERS.items():
        if name.startswith(prefix):
            return bench
    raise ValueError(f"figure {name!r}: no bench owns it; add its prefix to OWNERS")


def _writer() -> str:
    main = sys.modules.get("__main__")
    return Path(getattr(main, "__file__", "") or "").stem


def spread_of(entry: dict[str, Any]) -> tuple[float, float]:
    """An earlier figure's spread (one recorded before spreads: its value, both ends)."""
    if "spread" in entry:
        low, high = entry["spread"]
        return float(low), float(high)
    return float(entry["value"]), float(entry["value"])


def verdict(before: dict[str, Any] | None, median: float, better: str) -> str:
    """How the new median stands against the old runs: outside their spread by more than
    10 % is a change worth a look; anything else is the machine's noise."""
    if before is None:
        return "(no earlier figure)"
    low, high = spread_of(before)
    old = float(before.get("median", before.get("value", 0.0)))
    change = f"was {old:.4g} [{low:.4g}..{high:.4g}]"
    above, below = median > high * (1 + FLAG), median < low * (1 - FLAG)
    if (above and better == "lower") or (below and better == "higher"):
        return f"({change})  <-- WORSE: outside the old spread by more than 10 %"
    if above or below:
        return f"({change})  <-- better: outside the old spread by more than 10 %"
    return f"({change})"


def record(name: str, runs: Sequence[float], unit: str, better: str = "lower") -> str:
    """Store the median and spread of ``runs`` under ``name``; the line to print for it."""
    if len(runs) < RUNS:
        raise ValueError(f"figure {name!r}: {len(runs)} run(s); a figure needs {RUNS} or more")
    writer = _writer()
    if writer and writer != owner(name):
        raise ValueError(f"figure {name!r} belongs to {owner(name)}, not {writer}")
    data = _load()
    before = data["figures"].get(name)
    median = statistics.median(runs)
    low, high = min(runs), max(runs)
    data["figures"][name] = {
        "median": round(median, 6),
        "spread": [round(low, 6), round(high, 6)],
        "runs": len(runs),
        "unit": unit,
        "better": better,
    }
    data["machine"] = machine()
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return (
        f"  {name}: {median:.4g} {unit} [{low:.4g}..{high:.4g}, n={len(runs)}] "
        f"{verdict(before, median, better)}"
    )


def report(runs: Sequence[Sequence[Figure]]) -> None:
    """Record the figures of several runs of one measurement (each run: the same names)."""
    names: dict[str, tuple[list[float], str, str]] = {}
    for run in runs:
        for name, value, unit, better in run:
            names.setdefault(name, ([], unit, better))[0].append(value)
    print("figures: median of the runs [lowest..highest, n] vs tests/bench/results.json:")
    for name, (values, unit, better) in names.items():
        print(record(name, values, unit, better))


def repeated(measure: Callable[[], list[Figure]], times: int = RUNS) -> None:
    """Run ``measure`` ``times`` times and report each figure's median and spread."""
    report([measure() for _ in range(times)])


async def repeated_async(measure: Callable[[], Awaitable[list[Figure]]], times: int = RUNS) -> None:
    runs = []
    for _ in range(times):
        runs.append(await measure())
    report(runs)
