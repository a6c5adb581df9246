"""Slow third parties never hold up dispatch, nor one another: AWS calls and each third
party's HTTP run in separate bounded pools, and an HTTP call ends before its activity's
timeout (the activity sees the HTTP timeout, typed and retryable, instead of timing out
itself)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from orchestrator.executors import HTTP_THREADS, on_aws, on_http
from orchestrator.http_json import REMOTE_ERROR, call
from orchestrator.publish.payload_cms import PayloadReporter
from smm_runtime.contract.publish_io import PayloadUpdate


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers (a Payload stuck on its database)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


async def test_a_full_http_pool_does_not_delay_aws_calls(silent_server: str) -> None:
    stuck = [
        asyncio.ensure_future(on_http("payload", call, "GET", silent_server, {}, None, 3))
        for _ in range(HTTP_THREADS["payload"] * 2)
    ]
    await asyncio.sleep(0.3)  # every HTTP thread now waits on the silent server
    started = time.monotonic()
    assert await on_aws(lambda: "invoked") == "invoked"
    waited = time.monotonic() - started
    assert not any(task.done() for task in stuck)  # the HTTP calls are all still waiting...
    assert waited < 1.0  # ...and the AWS call did not queue behind them
    for outcome in await asyncio.gather(*stuck, return_exceptions=True):
        assert isinstance(outcome, ApplicationError) and outcome.type == REMOTE_ERROR


async def test_a_stuck_payload_does_not_delay_postiz_or_the_webhooks(silent_server: str) -> None:
    """Payload and Postiz shared one pool of 8: a Payload stuck on its database held every
    thread, and posting (with its budget and rate limit) waited behind it."""
    stuck = [
        asyncio.ensure_future(on_http("payload", call, "GET", silent_server, {}, None, 3))
        for _ in range(HTTP_THREADS["payload"] * 2)
    ]
    await asyncio.sleep(0.3)  # every Payload thread now waits on the silent server
    for party in ("postiz", "webhooks"):
        started = time.monotonic()
        assert await on_http(party, lambda: "answered") == "answered"
        assert time.monotonic() - started < 1.0, party
    assert not any(task.done() for task in stuck)
    await asyncio.gather(*stuck, return_exceptions=True)


@workflow.defn(sandboxed=False)
class Report:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity_method(
            PayloadReporter.update_payload,
            PayloadUpdate(collection="posts", id="doc-1", seq=1, data={"engineStage": "x"}),
            start_to_close_timeout=timedelta(seconds=4),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )


async def test_an_http_call_ends_before_its_activity_times_out(
    dev_env: WorkflowEnvironment, silent_server: str
) -> None:
    queue = f"q-{uuid.uuid4().hex[:6]}"
    reporter = PayloadReporter(silent_server, "users", "key")
    async with Worker(
        dev_env.client, task_queue=queue, workflows=[Report], activities=[reporter.update_payload]
    ):
        with pytest.raises(WorkflowFailureError) as err:
            await dev_env.client.execute_workflow(Report.run, id=f"r-{queue}", task_queue=queue)
    cause = err.value.cause
    assert isinstance(cause, ActivityError)
    # The HTTP timeout (10 s by default) was cut below the activity's 4 s: a typed remote
    # error, not the activity's own start-to-close timeout.
    assert isinstance(cause.cause, ApplicationError) and cause.cause.type == REMOTE_ERROR
