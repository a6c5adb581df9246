"""What the local stack reads from this checkout and its environment: the project's
binaries, the fonts layer as SAM builds it, and the stack's own payload keys."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def local_payload_keys(state_dir: Path) -> str:
    """The stack's payload encryption keys: the local stack encrypts like production, so
    every test and the demo run with sealed payloads. Kept in the state folder, so a
    persistent `smm-local dev` stack can still read its old histories after a restart."""
    path = state_dir / "payload-keys.json"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        key = base64.b64encode(os.urandom(32)).decode()
        path.write_text(json.dumps({"active": "local-1", "keys": {"local-1": key}}))
        path.chmod(0o600)
    return path.read_text()


def font_files() -> Path:
    """The fonts layer as SAM builds it (make setup: layers/fonts/dist), /opt/fonts on AWS."""
    built = ROOT / "layers" / "fonts" / "dist" / "fonts"
    if not (built / "chain.json").exists():
        raise RuntimeError(f"{built} is missing: run `make setup` (it builds the fonts layer)")
    return built


def bin_path(name: str) -> str:
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found: run 'make setup' first")
    return found
