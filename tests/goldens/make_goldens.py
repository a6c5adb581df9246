"""Re-render the golden images (run when a template change is intended):
    .venv/bin/python -m tests.goldens.make_goldens
They are rendered in-process by the Node renderer from the demo brand kit's fonts, logo and
colours; the integration test renders the same cases through the whole path and compares."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from smm_local.demo_assets import DEMO_COLORS, _font_dir, _logo

HERE = Path(__file__).resolve().parent
FUNCTION = HERE.parents[1] / "functions" / "render_image"
SIZES = {
    "square": (1080, 1080),
    "portrait": (1080, 1350),
    "landscape": (1200, 675),
    "link": (1200, 630),
}


def cases() -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads((HERE / "cases.json").read_text())
    return loaded


def jobs_file(folder: Path) -> Path:
    _logo(folder / "logo.png")
    jobs = {
        "fonts": {
            "heading": str(_font_dir() / "Lato-Black.ttf"),
            "body": str(_font_dir() / "Lato-Bold.ttf"),
        },
        "logo": str(folder / "logo.png"),
        "colors": DEMO_COLORS,
        "cases": [
            {**c, "width": SIZES[c["size"]][0], "height": SIZES[c["size"]][1]} for c in cases()
        ],
    }
    path = folder / "jobs.json"
    path.write_text(json.dumps(jobs))
    return path


def render(out_dir: Path, *extra: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            ["node", "scripts/render-local.mjs", str(jobs_file(Path(tmp))), str(out_dir), *extra],
            cwd=FUNCTION,
            check=True,
            capture_output=True,
            text=True,
        )
    return done.stdout


if __name__ == "__main__":
    print(render(HERE))
