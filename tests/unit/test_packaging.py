"""The production wheel holds the product only: no Lambda emulator, API doubles or demo."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_wheel_holds_no_harness_code(tmp_path: Path) -> None:
    # Built with the dev environment's hatchling: nothing is downloaded.
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("smm_creative_engine-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == {
        "orchestrator",
        "smm_runtime",
        wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info",
    }, tops
    harness = [
        n
        for n in names
        if any(
            word in n
            for word in ("smm_local", "emulator", "double", "demo", "runtime_host", "node_host")
        )
    ]
    assert harness == []
    entry_points = (
        zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith("entry_points.txt")))
        .decode()
    )
    assert "smm-engine = orchestrator.cli:run" in entry_points
    assert "smm-local" not in entry_points
    assert any(n == "smm_runtime/contract/kinds.py" for n in names)
    assert "smm_runtime/contract/template_props.json" in names  # the revision limits
