"""What a function's core sees of the protocol: its checkpoint, a progress reporter and a
cancel flag (``WorkContext``), and the shapes of a unit of work and a Lambda handler."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from smm_runtime.contract.basetypes import ComputeUsage
from smm_runtime.contract.errors import WorkCancelledError, WorkError


class LambdaContextLike(Protocol):
    @property
    def function_name(self) -> str: ...

    @property
    def memory_limit_in_mb(self) -> int | str: ...

    def get_remaining_time_in_millis(self) -> int: ...


@dataclass
class WorkContext:
    """What a function's core sees: its checkpoint, a progress reporter and a cancel flag."""

    workflow_id: str
    activity_id: str
    attempt: int
    checkpoint: Mapping[str, Any] | None
    memory_mb: int
    started: float = field(default_factory=time.monotonic)
    _cancel: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _details: dict[str, Any] = field(default_factory=dict)
    _abandoned: WorkError | None = None

    def report(self, **details: Any) -> None:
        """Record progress (and checkpoint state); the next heartbeat carries it."""
        with self._lock:
            self._details.update(details)

    def details(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._details)

    def cancel(self) -> None:
        self._cancel.set()

    def abandon(self, error: WorkError) -> None:
        """Stop the work for a reason of its own, not Temporal's (its claim was taken over):
        the work stops as on cancellation, and the attempt fails with ``error``."""
        self._abandoned = error
        self._cancel.set()

    @property
    def abandoned(self) -> WorkError | None:
        return self._abandoned

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def raise_if_cancelled(self) -> None:
        if self._abandoned is not None:
            raise self._abandoned
        if self._cancel.is_set():
            raise WorkCancelledError("cancelled by Temporal or the attempt is no longer live")

    def wait_cancelled(self, timeout: float) -> bool:
        return self._cancel.wait(timeout)

    def usage(self) -> ComputeUsage:
        elapsed_ms = int((time.monotonic() - self.started) * 1000)
        return ComputeUsage(
            duration_ms=elapsed_ms,
            memory_mb=self.memory_mb,
            gb_seconds=round(elapsed_ms / 1000 * self.memory_mb / 1024, 6),
        )


Work = Callable[[Any, WorkContext], BaseModel]
LambdaHandler = Callable[[dict[str, Any], LambdaContextLike], dict[str, str]]


class LazyWorks(Mapping[str, Work]):
    """A function's works by kind name, each built on first use and kept warm."""

    def __init__(self, factories: Mapping[str, Callable[[], Work]]) -> None:
        self._factories = dict(factories)
        self._built: dict[str, Work] = {}

    def __getitem__(self, name: str) -> Work:
        if name not in self._built:
            self._built[name] = self._factories[name]()
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)
