"""The Payload side: generated types match the models and the examples type-check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PAYLOAD = Path(__file__).resolve().parents[2] / "infra" / "payload"
sys.path.insert(0, str(PAYLOAD))

from generate_types import OUT, render  # noqa: E402


def test_the_committed_typescript_types_match_the_models() -> None:
    assert OUT.read_text() == render(), (
        "infra/payload/trigger-types.ts drifted: run infra/payload/generate_types.py")


def test_the_payload_examples_type_check() -> None:
    done = subprocess.run([str(PAYLOAD / "node_modules" / ".bin" / "tsc"), "-p", str(PAYLOAD)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
