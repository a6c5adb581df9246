"""How the activity runner reads the server's answers, against a server that refuses.

Refusals no retry can change stop the work at once; a passing fault is ridden out, but not
past the attempt's heartbeat timeout nor past the invocation's end; a rotated API key reaches
the warm client. (The happy paths, against a real dev server: test_activity_runner.py.)
"""

from __future__ import annotations

import io
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from smm_runtime.contract.errors import WorkCancelledError, WorkError
from smm_runtime.contract.events import encode_task_token
from smm_runtime.contract.kinds import NoopRequest, NoopResult
from smm_runtime.runner import ActivityRunner
from smm_runtime.temporal_conn import CachedClient
from smm_runtime.work import WorkContext


@dataclass
class Context:
    function_name: str = "NoopFunction"
    memory_limit_in_mb: int = 256
    remaining_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def noop_event(**extra: Any) -> dict[str, Any]:
    return {
        "contract_version": 1,
        "kind": "noop",
        "task_token": encode_task_token(b"token"),
        "workflow_id": "wf",
        "activity_id": "1",
        "attempt": 1,
        "request": {"echo": "hi"},
        **extra,
    }


def echo(request: NoopRequest, ctx: WorkContext) -> NoopResult:
    return NoopResult(echo=request.echo, cold_start=False)


class RefusingHandle:
    """A server that answers every heartbeat (and delivery) with ``status``."""

    def __init__(self, status: RPCStatusCode) -> None:
        self.status = status
        self.calls: list[tuple[str, float]] = []

    def _refuse(self, name: str) -> None:
        self.calls.append((name, time.monotonic()))
        raise RPCError(f"{name}: {self.status.name}", self.status, b"")

    async def heartbeat(self, *details: Any, **_: Any) -> None:
        self._refuse("heartbeat")

    async def complete(self, result: Any, **_: Any) -> None:
        self._refuse("complete")

    async def fail(self, error: Exception, **_: Any) -> None:
        self._refuse("fail")

    async def report_cancellation(self, *details: Any, **_: Any) -> None:
        self._refuse("report_cancellation")


def runner_against(handle: RefusingHandle, logs: io.StringIO) -> ActivityRunner:
    runner = ActivityRunner(
        Logger(
            service=f"refused-{uuid.uuid4().hex[:6]}", logger_handler=logging.StreamHandler(logs)
        ),
        heartbeat_interval_s=0.1,
        environ={},
    )

    class Clients:
        invalidated = 0
        rekeyed = 0

        async def get(self, environ: Any = None) -> Any:
            return type("C", (), {"get_async_activity_handle": lambda _, task_token: handle})()

        def invalidate(self) -> None:
            Clients.invalidated += 1

        async def rekey(self, environ: Any = None) -> bool:
            Clients.rekeyed += 1
            return False  # the secret still holds the refused key: the refusal stands

    runner._clients = Clients()  # type: ignore[assignment]
    return runner


def patient(seen: list[str]) -> Any:
    def work(request: NoopRequest, ctx: WorkContext) -> NoopResult:
        ctx.wait_cancelled(30)
        seen.append("stopped" if ctx.cancelled else "ran to the end")
        ctx.raise_if_cancelled()
        return NoopResult(echo="done", cold_start=False)

    return work


@pytest.mark.parametrize(
    "status",
    [
        RPCStatusCode.UNAUTHENTICATED,
        RPCStatusCode.PERMISSION_DENIED,
        RPCStatusCode.INVALID_ARGUMENT,
    ],
)
def test_a_refused_heartbeat_stops_the_work_at_once(status: RPCStatusCode) -> None:
    handle, logs, seen = RefusingHandle(status), io.StringIO(), list[str]()
    runner = runner_against(handle, logs)
    event = noop_event()
    outcome = runner.handle(event, Context(), {"noop": patient(seen)})["outcome"]
    assert outcome == "refused" and seen == []  # refused at the first beat: no work at all
    assert [name for name, _ in handle.calls] == ["heartbeat"]
    assert type(runner._clients).invalidated == 1  # type: ignore[attr-defined]
    # A refused key reads the secret once more (unchanged here); a bad token does not.
    key_refused = status != RPCStatusCode.INVALID_ARGUMENT
    assert type(runner._clients).rekeyed == int(key_refused)  # type: ignore[attr-defined]


def test_a_whole_heartbeat_timeout_without_a_beat_stops_the_work() -> None:
    """UNAVAILABLE is a passing fault, but once no beat has got through for the attempt's
    heartbeat timeout, the server has timed the attempt out: the work is wasted."""
    handle, logs, seen = RefusingHandle(RPCStatusCode.UNAVAILABLE), io.StringIO(), list[str]()
    runner = runner_against(handle, logs)
    event = noop_event(heartbeat_timeout_s=0.5)
    outcome = runner.handle(event, Context(), {"noop": patient(seen)})["outcome"]
    assert outcome == "stale" and seen == ["stopped"]
    beats = [at for name, at in handle.calls if name == "heartbeat"]
    assert 0.5 <= beats[-1] - beats[0] < 5  # it kept trying through the timeout, then stopped


def test_delivery_stops_trying_before_the_invocation_would_be_killed() -> None:
    """Completing rides out a server restart for up to SMM_DELIVER_WINDOW_S (two minutes),
    but never past the invocation's own remaining time."""
    handle = RefusingHandle(RPCStatusCode.UNAVAILABLE)
    runner = runner_against(handle, io.StringIO())
    runner._interval = 60  # no heartbeat while the (instant) work runs

    async def beat_ok(*details: Any, **_: Any) -> None:
        return None

    handle.heartbeat = beat_ok  # type: ignore[method-assign]
    started = time.monotonic()
    with pytest.raises(RPCError):
        runner.handle(noop_event(), Context(remaining_ms=5_000), {"noop": echo})
    deliveries = [at for name, at in handle.calls if name == "complete"]
    assert len(deliveries) >= 2  # a passing fault is retried...
    assert deliveries[-1] - started < 5.0  # ...but not past the invocation's end


async def test_a_rotated_api_key_reaches_the_warm_client(dev_env: WorkflowEnvironment) -> None:
    """A warm function keeps its client; when the key it reads changes (a rotation), the
    client sends the new key from its next call instead of the revoked one."""
    target = dev_env.client.service_client.config.target_host
    env = {
        "TEMPORAL_ADDRESS": target,
        "TEMPORAL_NAMESPACE": "smm-hub-core",
        "TEMPORAL_TLS": "false",
        "TEMPORAL_API_KEY": "key-one",
    }
    clients = CachedClient()
    first = await clients.get(env)
    assert first.api_key == "key-one"
    again = await clients.get({**env, "TEMPORAL_API_KEY": "key-two"})
    assert again is first and again.api_key == "key-two"
    clients.invalidate()
    assert await clients.get(env) is not first  # refused credentials: connect anew


class AcceptingHandle(RefusingHandle):
    """A server that takes every heartbeat and records what the function ends with."""

    async def heartbeat(self, *details: Any, **_: Any) -> None:
        self.calls.append(("heartbeat", time.monotonic()))

    async def fail(self, error: Exception, **_: Any) -> None:
        self.calls.append(("fail", time.monotonic()))
        self.failed = error


def test_work_that_lost_its_claim_fails_the_attempt_instead_of_reporting_cancellation() -> None:
    """FFmpeg stops the same way for both, but a claim taken over is not Temporal's
    cancellation: reporting one would cancel a live workflow's activity. The attempt fails,
    retryably, with the claim's message, so the retry waits for the successor's result."""
    handle = AcceptingHandle(RPCStatusCode.OK)
    runner = runner_against(handle, io.StringIO())

    def loses_its_claim(request: NoopRequest, ctx: WorkContext) -> NoopResult:
        ctx.abandon(WorkError("claims/x.json: another delivery took this claim over"))
        # What run_ffmpeg raises once its cancelled() callback turns true.
        raise WorkCancelledError("FFmpeg stopped: the activity was cancelled")

    outcome = runner.handle(noop_event(), Context(), {"noop": loses_its_claim})["outcome"]
    assert outcome == "failed"
    names = [name for name, _ in handle.calls]
    assert "report_cancellation" not in names and names[-1] == "fail"
    failed = handle.failed
    assert isinstance(failed, ApplicationError) and not failed.non_retryable
    assert "took this claim over" in str(failed)
