"""The worker as users run it: a process that refuses Postiz's namespace and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from smm_local.stack import ROOT, LocalStack

pytestmark = pytest.mark.integration


def test_worker_refuses_the_default_namespace_with_a_clear_error(stack: LocalStack) -> None:
    env = {**os.environ, **stack.worker_env(), "TEMPORAL_NAMESPACE": "default"}
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator.worker"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "TEMPORAL_NAMESPACE is 'default'" in done.stderr
    assert "Traceback" not in done.stderr


def test_worker_shuts_down_gracefully_on_sigterm(stack: LocalStack) -> None:
    env = {**os.environ, **stack.worker_env()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.worker"],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        assert proc.stderr is not None
        for line in proc.stderr:
            if "worker polling" in line or time.monotonic() > deadline:
                break
        # Keep reading: a worker whose log pipe is full blocks on its next line and cannot
        # finish shutting down (what this test measures is the worker, not the pipe).
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
