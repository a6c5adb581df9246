"""The Payload side: generated types match the models and the examples type-check."""

from __future__ import annotations

import runpy
import subprocess
from pathlib import Path

PAYLOAD = Path(__file__).resolve().parents[2] / "infra" / "payload"


def test_the_committed_typescript_types_match_the_models() -> None:
    # The generator is a script beside the TypeScript it writes, not a package: run its code.
    generator = runpy.run_path(str(PAYLOAD / "generate_types.py"), run_name="generate_types")
    assert generator["OUT"].read_text() == generator["render"](), (
        "infra/payload/trigger-types.ts drifted: run infra/payload/generate_types.py")


def test_the_payload_examples_type_check() -> None:
    done = subprocess.run([str(PAYLOAD / "node_modules" / ".bin" / "tsc"), "-p", str(PAYLOAD)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_payload_plugin_type_checks_against_payloads_own_types() -> None:
    """infra/payload/app (the plugin, the config, the server) under tsc --checkJs --strict,
    with the real `payload` package's types."""
    done = subprocess.run([str(PAYLOAD / "node_modules" / ".bin" / "tsc"), "-p",
                           str(PAYLOAD / "app")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
