"""Copy the fallback chain (chain.json) and the Twemoji SVGs from node_modules into a layer.

    python3 layers/fonts/assemble.py <node_modules> <dest fonts dir>

Standard library only: SAM runs it in its build environment."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(node_modules: Path, dest: Path) -> None:
    chain = json.loads((HERE / "chain.json").read_text())
    dest.mkdir(parents=True, exist_ok=True)
    for font in chain["fonts"]:
        shutil.copyfile(node_modules / font["from"], dest / font["file"])
    emoji = dest / chain["emoji"]["dir"]
    emoji.mkdir(exist_ok=True)
    for svg in (node_modules / chain["emoji"]["from"]).glob("*.svg"):
        shutil.copyfile(svg, emoji / svg.name)
    shutil.copyfile(HERE / "chain.json", dest / "chain.json")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
