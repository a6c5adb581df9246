"""The namespace set-up script (idempotent) and the one-namespace rule."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from smm_local.stack import LocalStack

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_the_setup_script_is_idempotent_and_refuses_default(stack: LocalStack) -> None:
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": stack.temporal_address,
        "TEMPORAL_CLI": str(Path(sys.executable).parent / "temporal"),
        "TEMPORAL_NAMESPACE": "smm-setup-test",
    }
    first = subprocess.run(
        [str(ROOT / "infra/temporal/setup.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    second = subprocess.run(
        [str(ROOT / "infra/temporal/setup.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "created with retention" in first.stdout
    assert "exists, retention set" in second.stdout
    assert "search attribute SmmAccount: exists" in second.stdout
    refused = subprocess.run(
        [str(ROOT / "infra/temporal/setup.sh")],
        env={**env, "TEMPORAL_NAMESPACE": "default"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "Postiz" in refused.stderr


def test_every_temporal_client_is_built_by_the_one_guarded_factory() -> None:
    """No code connects to Temporal except through smm_runtime.temporal_conn (which pins the
    configured namespace and refuses Postiz's)."""
    offenders = []
    for path in [
        *ROOT.glob("orchestrator/**/*.py"),
        *ROOT.glob("functions/**/*.py"),
        *ROOT.glob("layers/runtime/**/*.py"),
    ]:
        text = path.read_text()
        if re.search(r"Client\.connect\(", text) and path.name != "temporal_conn.py":
            offenders.append(str(path.relative_to(ROOT)))
    for path in ROOT.glob("functions/**/*.mjs"):
        if (
            "node_modules" not in path.parts
            and "Connection.connect(" in path.read_text()
            and path.name != "temporal.mjs"
        ):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
