"""Shared test set-up.

Known trap (temporalio sdk-python issue 300): after a Temporal server started by the tests
shuts down, the interpreter can abort at exit (PyGILState_Release), turning a green run into
exit code 134. We leave with pytest's own status instead, the way every short-lived process of
ours ends (smm_runtime.process_exit: everything flushed, then no teardown).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smm_local import moto_faithful
from smm_local.local_files import font_files
from smm_runtime.process_exit import exit_now

ROOT = Path(__file__).resolve().parents[1]

# In-process moto (unit tests) gets the same atomic conditional writes as the stack's server.
moto_faithful.install()
# Render functions run in process draw with the fonts layer as SAM builds it (make setup).
os.environ.setdefault("SMM_FONTS_DIR", str(font_files()))
_status: dict[str, int] = {}
IN_PROCESS_AWS = ("unit", "hostile")


@pytest.fixture(autouse=True)
def _in_process_aws_stays_in_process(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unit and corpus tests use moto in process (mock_aws). The integration stack points
    AWS_ENDPOINT_URL at its moto server for the whole session; left set, boto3 would send
    these tests' calls over HTTP to that server (slow, and not what they mean to test)."""
    if request.node.path.relative_to(ROOT / "tests").parts[0] in IN_PROCESS_AWS:
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _status["code"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if "code" in _status and os.environ.get("SMM_PYTEST_HARD_EXIT", "1") == "1":
        exit_now(_status["code"])
