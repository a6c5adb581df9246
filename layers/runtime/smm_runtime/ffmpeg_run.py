"""Run one FFmpeg command under supervision: progress to heartbeats, cancel kills it."""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections import deque
from collections.abc import Callable

from smm_runtime.contract.errors import RENDER_FAILED, WorkCancelledError, WorkError

POLL_S = 0.2


def run_ffmpeg(
    argv: list[str],
    *,
    total_s: float,
    on_progress: Callable[[float, float], None],
    cancelled: Callable[[], bool],
) -> None:
    """Run ``argv`` (which must include ``-progress pipe:1``) to completion.

    ``on_progress(percent, out_time_s)`` is called as FFmpeg reports. When ``cancelled()``
    turns true the process is killed and WorkCancelledError raised, so no orphan FFmpeg
    keeps burning CPU after Temporal gave up on this attempt.
    """
    # Same process group as the function: if Lambda (or the emulator) kills the function at
    # its timeout, FFmpeg dies with it.
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    errors: deque[str] = deque(maxlen=20)

    def read_progress() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            key, _, value = raw.decode(errors="replace").strip().partition("=")
            if key == "out_time_us" and value.isdigit():
                seconds = int(value) / 1_000_000
                on_progress(min(100.0, 100.0 * seconds / total_s) if total_s else 0.0, seconds)

    def read_errors() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            errors.append(raw.decode(errors="replace").rstrip())

    readers = [
        threading.Thread(target=read_progress, daemon=True),
        threading.Thread(target=read_errors, daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        while proc.poll() is None:
            if cancelled():
                proc.kill()
                proc.wait()
                raise WorkCancelledError("FFmpeg stopped: the activity was cancelled")
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=POLL_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for reader in readers:
            reader.join(timeout=2)
    if proc.returncode != 0:
        tail = " | ".join(list(errors)[-3:]) or f"exit status {proc.returncode}"
        raise WorkError(f"FFmpeg failed: {tail}", error_type=RENDER_FAILED)
