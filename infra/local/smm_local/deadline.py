"""An overall deadline for a long local run (the demo, the soak): past it the run fails with
a verdict naming the stage it was waiting in, never silence.

The verdict is raised in the main thread (SIGALRM), so the run's own ``with LocalStack`` blocks
stop what they started; if the run is still alive ``GRACE_S`` later (a stage that ignores the
exception), the process prints the verdict again and exits with status 124, as timeout(1) does.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType, TracebackType

GRACE_S = 60.0
EXIT_STATUS = 124


class DeadlineExceeded(Exception):
    pass


class Deadline:
    def __init__(self, what: str, seconds: float) -> None:
        self.what = what
        self.seconds = seconds
        self.doing = "starting"
        self._previous: object = None
        self._last_resort: threading.Timer | None = None

    def stage(self, doing: str) -> None:
        """What the run is waiting for now (named by the verdict)."""
        self.doing = doing

    def verdict(self) -> str:
        return f"{self.what}: past its {self.seconds:g} s deadline while {self.doing}"

    def _expired(self, _signum: int, _frame: FrameType | None) -> None:
        verdict = self.verdict()
        print(verdict, file=sys.stderr, flush=True)
        # Cancelled when the run leaves the block (it heard the verdict); fires only if not.
        self._last_resort = threading.Timer(GRACE_S, self._hard_exit, (verdict,))
        self._last_resort.daemon = True
        self._last_resort.start()
        raise DeadlineExceeded(verdict)

    @staticmethod
    def _hard_exit(verdict: str) -> None:
        print(
            f"{verdict}; still running {GRACE_S:.0f} s later: exiting", file=sys.stderr, flush=True
        )
        os._exit(EXIT_STATUS)

    def cancel(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)

    def __enter__(self) -> Deadline:
        self._previous = signal.signal(signal.SIGALRM, self._expired)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._previous)  # type: ignore[arg-type]
        if self._last_resort is not None:
            self._last_resort.cancel()
