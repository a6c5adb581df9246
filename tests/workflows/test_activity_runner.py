"""The activity-runner wrapper against a real Temporal dev server.

A probe activity hands its task token to the test and completes asynchronously, exactly as
the dispatch activity does; the test then plays the Lambda function through ActivityRunner.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from aws_lambda_powertools import Logger
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from smm_runtime.contract.errors import INVALID_REQUEST, InvalidRequestError
from smm_runtime.contract.events import encode_task_token
from smm_runtime.contract.kinds import NoopRequest, NoopResult
from smm_runtime.runner import ActivityRunner
from smm_runtime.work import WorkContext

PROBE_TOKENS: asyncio.Queue[tuple[bytes, int]] = asyncio.Queue()


@activity.defn(name="async_probe")
async def async_probe(request: NoopRequest) -> NoopResult:
    info = activity.info()
    PROBE_TOKENS.put_nowait((info.task_token, info.attempt))
    activity.raise_complete_async()


@workflow.defn
class ProbeWorkflow:
    @workflow.run
    async def run(self, request: NoopRequest) -> NoopResult:
        return await workflow.execute_activity(
            async_probe,
            request,
            start_to_close_timeout=timedelta(seconds=60),
            heartbeat_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=100), maximum_attempts=3
            ),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )


@dataclass
class Context:
    function_name: str = "NoopFunction"
    memory_limit_in_mb: int = 256

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass
class Harness:
    env: WorkflowEnvironment
    queue: str
    runner: ActivityRunner
    logs: io.StringIO

    async def start(
        self, request: dict[str, Any] | None = None
    ) -> tuple[WorkflowHandle[Any, Any], dict[str, Any]]:
        handle = await self.env.client.start_workflow(
            ProbeWorkflow.run, NoopRequest(), id=f"probe-{uuid.uuid4()}", task_queue=self.queue
        )
        token, attempt = await asyncio.wait_for(PROBE_TOKENS.get(), 10)
        return handle, self.event(handle.id, token, attempt, request)

    async def next_event(
        self, workflow_id: str, request: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        token, attempt = await asyncio.wait_for(PROBE_TOKENS.get(), 10)
        return self.event(workflow_id, token, attempt, request)

    @staticmethod
    def event(
        workflow_id: str, token: bytes, attempt: int, request: dict[str, Any] | None
    ) -> dict[str, Any]:
        return {
            "contract_version": 1,
            "kind": "noop",
            "task_token": encode_task_token(token),
            "workflow_id": workflow_id,
            "activity_id": "1",
            "attempt": attempt,
            "request": request if request is not None else {"echo": "hi"},
        }

    async def handle(self, event: dict[str, Any], work: Any) -> str:
        # The runner owns its own event loop, as in a Lambda process: run it on a thread.
        summary = await asyncio.to_thread(self.runner.handle, event, Context(), {"noop": work})
        return summary["outcome"]


@pytest_asyncio.fixture
async def harness(dev_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    logs = io.StringIO()
    logger = Logger(
        service=f"runner-test-{uuid.uuid4().hex[:8]}", logger_handler=logging.StreamHandler(logs)
    )
    target = dev_env.client.service_client.config.target_host
    runner = ActivityRunner(
        logger,
        heartbeat_interval_s=0.2,
        environ={"TEMPORAL_ADDRESS": target, "TEMPORAL_NAMESPACE": "smm-hub-core"},
    )
    queue = f"tq-{uuid.uuid4()}"
    while not PROBE_TOKENS.empty():
        PROBE_TOKENS.get_nowait()
    async with Worker(
        dev_env.client, task_queue=queue, workflows=[ProbeWorkflow], activities=[async_probe]
    ):
        yield Harness(dev_env, queue, runner, logs)


def echo(request: NoopRequest, ctx: WorkContext) -> NoopResult:
    ctx.report(stage="echo", percent=100.0)
    return NoopResult(echo=request.echo, cold_start=False)


async def test_result_reaches_the_workflow_as_the_declared_type(harness: Harness) -> None:
    handle, event = await harness.start()
    assert await harness.handle(event, echo) == "completed"
    result = await handle.result()
    assert result == NoopResult(echo="hi", cold_start=False)


async def test_invalid_request_fails_once_non_retryably_naming_the_field(harness: Harness) -> None:
    handle, event = await harness.start(request={"sleep_ms": -5})
    assert await harness.handle(event, echo) == "invalid"
    with pytest.raises(WorkflowFailureError) as err:
        await handle.result()
    cause = err.value.cause
    assert isinstance(cause, ActivityError)
    assert isinstance(cause.cause, ApplicationError)
    assert cause.cause.type == INVALID_REQUEST
    assert "request.sleep_ms" in cause.cause.message
    assert PROBE_TOKENS.empty()  # no second attempt was scheduled


async def test_typed_work_error_is_not_retried(harness: Harness) -> None:
    def refuse(request: NoopRequest, ctx: WorkContext) -> NoopResult:
        raise InvalidRequestError("font: WOFF2 is not supported; upload the TTF or OTF file")

    handle, event = await harness.start()
    assert await harness.handle(event, refuse) == "failed"
    with pytest.raises(WorkflowFailureError) as err:
        await handle.result()
    assert isinstance(err.value.cause, ActivityError)
    assert "WOFF2" in str(err.value.cause.cause)


async def test_unexpected_crash_is_retried_by_temporal_and_then_succeeds(harness: Harness) -> None:
    def crash(request: NoopRequest, ctx: WorkContext) -> NoopResult:
        raise RuntimeError("disk full")

    handle, event = await harness.start()
    assert await harness.handle(event, crash) == "failed"
    retry = await harness.next_event(handle.id)
    assert retry["attempt"] == 2
    assert await harness.handle(retry, echo) == "completed"
    assert (await handle.result()).echo == "hi"


async def test_cancellation_reaches_the_work_and_is_reported(harness: Harness) -> None:
    seen: list[str] = []

    def wait_for_cancel(request: NoopRequest, ctx: WorkContext) -> NoopResult:
        ctx.wait_cancelled(30)
        seen.append("cancelled" if ctx.cancelled else "timeout")
        ctx.raise_if_cancelled()
        return NoopResult(echo="too late", cold_start=False)

    handle, event = await harness.start()
    running = asyncio.ensure_future(harness.handle(event, wait_for_cancel))
    await asyncio.sleep(0.5)
    await handle.cancel()
    assert await asyncio.wait_for(running, 10) == "cancelled"
    assert seen == ["cancelled"]
    with pytest.raises(WorkflowFailureError) as err:
        await handle.result()
    assert isinstance(err.value.cause, CancelledError | ActivityError)


async def test_a_late_duplicate_delivery_stops_quietly(harness: Harness) -> None:
    handle, event = await harness.start()
    assert await harness.handle(event, echo) == "completed"
    await handle.result()
    ran: list[int] = []

    def must_not_run(request: NoopRequest, ctx: WorkContext) -> NoopResult:
        ran.append(1)
        return NoopResult(echo="again", cold_start=False)

    assert await harness.handle(event, must_not_run) == "stale"
    assert ran == []  # the first heartbeat found the attempt gone: no compute was spent


async def test_task_tokens_never_reach_the_logs(harness: Harness) -> None:
    def crash(request: NoopRequest, ctx: WorkContext) -> NoopResult:
        raise RuntimeError("boom")

    _handle, event = await harness.start(request={"sleep_ms": "not a number"})
    await harness.handle(event, echo)
    handle2, event2 = await harness.start()
    await harness.handle(event2, crash)
    retry = await harness.next_event(handle2.id)
    await harness.handle(retry, echo)
    await harness.handle(retry, echo)  # stale duplicate
    text = harness.logs.getvalue()
    assert "invalid event" in text and "work crashed" in text  # the logs did capture them
    for e in (event, event2, retry):
        assert e["task_token"] not in text


async def test_each_activity_emits_cloudwatch_metrics(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    handle, event = await harness.start()
    assert await harness.handle(event, echo) == "completed"
    await handle.result()
    lines = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and "_aws" in line
    ]
    names = {m["Name"] for line in lines for m in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert "ActivitySeconds" in names
    assert all(line["kind"] == "noop" and line["outcome"] == "completed" for line in lines)


async def test_the_completion_log_says_where_the_time_went(harness: Harness) -> None:
    handle, event = await harness.start()
    assert await harness.handle(event, echo) == "completed"
    await handle.result()
    done = [
        json.loads(line) for line in harness.logs.getvalue().splitlines() if '"completed"' in line
    ]
    assert done, "no completion line was logged"
    phases = {k: done[-1][k] for k in ("first_heartbeat_ms", "work_ms", "complete_ms")}
    assert all(isinstance(v, float) and v >= 0 for v in phases.values()), phases
    assert phases["first_heartbeat_ms"] > 0 and phases["complete_ms"] > 0  # real round trips


# --- Answers from the server that no retry changes, and the time a delivery may take ----------


async def test_a_garbled_task_token_stops_before_any_work(harness: Harness) -> None:
    """The server answers a token that is not one with UNKNOWN/INVALID_ARGUMENT: nothing to
    retry. (Before, that counted as a passing fault: the work ran in full and its delivery
    was retried for two minutes.)"""
    _, event = await harness.start()
    event["task_token"] = encode_task_token(b"\x0a\x03not-a-token" * 4)
    ran: list[int] = []

    def must_not_run(request: NoopRequest, ctx: WorkContext) -> NoopResult:
        ran.append(1)
        return NoopResult(echo="wasted", cold_start=False)

    assert await harness.handle(event, must_not_run) in {"refused", "stale"}
    assert ran == []
