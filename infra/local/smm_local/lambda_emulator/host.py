"""One execution environment: a child process serving invocations one at a time."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smm_local.lambda_emulator.limits import memory_watch, with_sized_tmp
from smm_local.lambda_emulator.sandbox import sandboxed
from smm_local.template import FunctionSpec

log = logging.getLogger("smm.emulator")

EVENT_PAYLOAD_LIMIT = 1024 * 1024
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
DEFAULT_CONCURRENCY = 16
IDLE_TTL_S = 600
# Variables a host may inherit from the emulator so it can run the project's interpreter.
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "VIRTUAL_ENV", "PYTHONPATH")


@dataclass
class Outcome:
    ok: bool
    payload: Any = None
    error_type: str | None = None
    error_message: str | None = None
    cold: bool = False
    duration_ms: int = 0
    out_of_memory: bool = False


def host_command(runtime: str) -> list[str]:
    """The process that plays one execution environment of ``runtime``."""
    if runtime.startswith("python"):
        return [sys.executable, "-m", "smm_local.runtime_host"]
    if runtime.startswith("nodejs"):
        node = shutil.which("node")
        if node is None:
            raise RuntimeError(f"{runtime} functions need Node.js on PATH")
        return [node, str(Path(__file__).parents[1] / "node_host.mjs")]
    raise RuntimeError(f"runtime {runtime} is not emulated (python3.x and nodejs* are)")


class Host:
    """One execution environment: a child process that serves invocations one at a time."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str]) -> None:
        read_fd, write_fd = os.pipe()
        # Like Lambda, every execution environment has a /tmp of its own.
        self.tmp = Path(tempfile.mkdtemp(prefix=f"lambda-{spec.logical_id}-"))
        if spec.built:
            # As Lambda lays it out: the artifacts at /var/task and /opt, the template's
            # runtime at /var/lang, nothing of the machine's dev environment (sandbox.py).
            argv, laid_out = sandboxed(spec.code_dir, spec.layers, spec.runtime, spec.ephemeral_mb)
            inherited = {k: v for k, v in env.items() if k not in INHERITED_ENV}
            child_env = {**inherited, **laid_out, "SMM_EMULATOR_RESULT_FD": str(write_fd)}
        else:
            # Its /tmp is a tmpfs of the function's EphemeralStorage (limits.with_sized_tmp).
            argv = with_sized_tmp(host_command(spec.runtime), spec.ephemeral_mb)
            child_env = {**env, "SMM_EMULATOR_RESULT_FD": str(write_fd), "TMPDIR": str(self.tmp)}
        # A session of its own: killing the group at a timeout also kills FFmpeg children.
        self.proc = subprocess.Popen(
            argv,
            cwd=spec.code_dir,
            env=child_env,
            stdin=subprocess.PIPE,
            pass_fds=(write_fd,),
            start_new_session=True,
        )
        os.close(write_fd)
        self._answers = os.fdopen(read_fd, "r")
        # Its MemorySize: the whole session is killed past it (limits.MemoryWatch).
        self.memory = memory_watch().watch(self.proc.pid, spec.memory_mb)
        self.spec = spec
        self.last_used = time.monotonic()
        self.ready: dict[str, Any] | None = None

    def start(self, timeout_s: float) -> Outcome | None:
        """Wait for init; returns an error outcome if init failed or overran."""
        line = self._read(timeout_s)
        if line is None:
            self.kill()
            return Outcome(
                False,
                error_type="Runtime.InitTimeout",
                error_message=f"init did not finish within {timeout_s:.0f}s",
            )
        answer: dict[str, Any] = (
            json.loads(line)
            if line
            else {
                "ready": False,
                "errorType": "Runtime.ExitError",
                "errorMessage": "runtime exited during init",
            }
        )
        if not answer.get("ready"):
            self.kill()
            return Outcome(
                False, error_type=answer.get("errorType"), error_message=answer.get("errorMessage")
            )
        self.ready = answer
        return None

    def invoke(self, event: Any, request_id: str, timeout_s: float) -> Outcome:
        deadline_ms = int((time.time() + timeout_s) * 1000)
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(
                json.dumps(
                    {"event": event, "request_id": request_id, "deadline_ms": deadline_ms}
                ).encode()
                + b"\n"
            )
            self.proc.stdin.flush()
        except BrokenPipeError:
            return Outcome(
                False,
                error_type="Runtime.ExitError",
                error_message="the runtime exited before the invocation",
            )
        line = self._read(timeout_s)
        self.last_used = time.monotonic()
        if line is None:
            self.kill()
            return Outcome(
                False,
                error_type="Sandbox.Timedout",
                error_message=f"Task timed out after {timeout_s:.2f} seconds",
            )
        if not line:
            code = self.proc.wait()
            # As Lambda reports a runtime killed for passing its memory: signal: killed.
            how = "signal: killed" if self.memory.exceeded else f"exit status {code}"
            return Outcome(
                False,
                error_type="Runtime.ExitError",
                error_message=f"RequestId: {request_id} Error: Runtime exited with error: {how}",
                out_of_memory=self.memory.exceeded,
            )
        answer = json.loads(line)
        if answer.get("ok"):
            return Outcome(True, payload=answer.get("payload"))
        return Outcome(
            False, error_type=answer.get("errorType"), error_message=answer.get("errorMessage")
        )

    def _read(self, timeout_s: float) -> str | None:
        """A line, '' at EOF (the process died), or None when the time ran out."""
        ready, _, _ = select.select([self._answers], [], [], max(0.0, timeout_s))
        if not ready:
            return None
        return self._answers.readline()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        memory_watch().unwatch(self.memory)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._answers.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
