"""Shared test set-up.

Known trap (temporalio sdk-python issue 300): after a Temporal server started by the tests
shuts down, the interpreter can abort at exit (PyGILState_Release), turning a green run into
exit code 134. We leave with pytest's own status instead, after everything is flushed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Function folders are Lambda code roots: their modules import each other top-level.
sys.path.insert(0, str(ROOT / "functions" / "render_video"))
sys.path.insert(0, str(ROOT / "functions" / "trigger"))
sys.path.insert(0, str(ROOT / "functions" / "transfer"))

_status: dict[str, int] = {}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _status["code"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if "code" in _status and os.environ.get("SMM_PYTEST_HARD_EXIT", "1") == "1":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_status["code"])
