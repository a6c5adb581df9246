"""Stopping a local job at once when a process it needs has died."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from typing import Any


class ExitWatch:
    """Interrupts this process (SIGINT, so a wait on Temporal ends too) when ``proc`` exits
    while the job still needs it: a demo whose worker died at start would otherwise wait for
    its workflows forever. ``died`` holds the exit status once it has."""

    def __init__(self, proc: subprocess.Popen[Any], every_s: float = 0.5) -> None:
        self.proc, self.every_s = proc, every_s
        self.died: int | None = None
        self._done = threading.Event()

    def _watch(self) -> None:
        while not self._done.wait(self.every_s):
            code = self.proc.poll()
            if code is not None:
                self.died = code
                os.kill(os.getpid(), signal.SIGINT)
                return

    def __enter__(self) -> ExitWatch:
        threading.Thread(target=self._watch, name="exit-watch", daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
