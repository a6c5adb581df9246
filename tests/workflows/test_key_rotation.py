"""A Temporal API key rotated under load, against a server that enforces keys (the dev server
behind smm_local.temporal_keys.KeyDoor, answering UNAUTHENTICATED as Temporal Cloud does):
the worker and the Python functions move to the new key without a restart, and no work is
lost or redone.

The rotation is the one Temporal Cloud allows: the new key becomes valid beside the old, the
secret is updated, the old key is revoked. Before this, a function mid-work when the old key
was revoked had its heartbeat refused and stopped (the attempt timed out and was redone),
its result, if it had one, was refused too, and the worker kept polling with the revoked key
until it was restarted."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger
from moto import mock_aws
from moto.server import ThreadedMotoServer
from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.common import RetryPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from orchestrator.key_refresh import follow_api_key
from smm_local.loopback import free_port
from smm_local.temporal_keys import KeyDoor
from smm_runtime.contract.events import encode_task_token
from smm_runtime.contract.kinds import NoopRequest, NoopResult
from smm_runtime.runner import ActivityRunner
from smm_runtime.temporal_conn import connect
from smm_runtime.work import WorkContext

ROOT = Path(__file__).resolve().parents[2]
TOKENS: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
JOBS = 12
FUNCTIONS = 4  # warm function environments, each one invocation at a time


@activity.defn(name="keyed_probe")
async def keyed_probe(request: NoopRequest) -> NoopResult:
    TOKENS.put_nowait((activity.info().workflow_id or "", activity.info().task_token))
    activity.raise_complete_async()


@workflow.defn(sandboxed=False)
class KeyedWork:
    @workflow.run
    async def run(self, request: NoopRequest) -> NoopResult:
        return await workflow.execute_activity(
            keyed_probe,
            request,
            start_to_close_timeout=timedelta(seconds=120),
            heartbeat_timeout=timedelta(seconds=20),
            # One attempt: a piece of work lost to the rotation fails its workflow.
            retry_policy=RetryPolicy(maximum_attempts=1),
        )


@dataclass
class Context:
    function_name: str = "NoopFunction"
    memory_limit_in_mb: int = 256

    def get_remaining_time_in_millis(self) -> int:
        return 120_000


def slow_echo(request: NoopRequest, ctx: WorkContext) -> NoopResult:
    """Work long enough to span the rotation: what runs when the secret changes still holds
    the old key (a function reads the secret when it connects) when that key is revoked."""
    for _ in range(25):
        if ctx.cancelled:
            raise RuntimeError("stopped: its heartbeat was refused")
        time.sleep(0.1)
    return NoopResult(echo=request.echo, cold_start=False)


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        arn = sm.create_secret(Name="temporal-api-key", SecretString="key-one")["ARN"]
        yield sm, arn


async def test_a_key_rotated_under_load_loses_no_work_and_needs_no_restart(
    dev_env: WorkflowEnvironment, secret: tuple[Any, str]
) -> None:
    sm, arn = secret
    target = dev_env.client.service_client.config.target_host
    with KeyDoor(target, {"key-one"}) as door:
        env = {
            "TEMPORAL_ADDRESS": door.address,
            "TEMPORAL_NAMESPACE": "smm-hub-core",
            "TEMPORAL_TLS": "false",
            "SMM_TEMPORAL_API_KEY_SECRET_ARN": arn,
        }
        client = await connect(environ=env)
        assert client.api_key == "key-one"
        stop = asyncio.Event()
        following = asyncio.ensure_future(
            follow_api_key(client, timedelta(seconds=0.3), stop, environ=env)
        )
        logs = io.StringIO()
        logger = Logger(service="rotation", logger_handler=logging.StreamHandler(logs))
        runners = [
            ActivityRunner(logger, heartbeat_interval_s=0.1, environ=env) for _ in range(FUNCTIONS)
        ]
        queue = f"keys-{uuid.uuid4().hex[:6]}"
        async with Worker(
            client, task_queue=queue, workflows=[KeyedWork], activities=[keyed_probe]
        ):
            handles = [
                await client.start_workflow(
                    KeyedWork.run,
                    NoopRequest(echo=f"job-{i}"),
                    id=f"keys-{queue}-{i}",
                    task_queue=queue,
                )
                for i in range(JOBS)
            ]

            async def function(runner: ActivityRunner) -> list[str]:
                outcomes: list[str] = []
                while True:
                    try:
                        workflow_id, token = await asyncio.wait_for(TOKENS.get(), 5)
                    except TimeoutError:
                        return outcomes
                    event = {
                        "contract_version": 1,
                        "kind": "noop",
                        "task_token": encode_task_token(token),
                        "workflow_id": workflow_id,
                        "activity_id": "1",
                        "attempt": 1,
                        "request": {"echo": workflow_id},
                    }
                    summary = await asyncio.to_thread(
                        runner.handle, event, Context(), {"noop": slow_echo}
                    )
                    outcomes.append(summary["outcome"])

            async def rotate() -> None:
                await asyncio.sleep(1.5)  # some work done, some under way, some queued
                door.accept({"key-one", "key-two"})
                sm.put_secret_value(SecretId=arn, SecretString="key-two")
                await asyncio.sleep(1.0)  # longer than the worker's refresh interval
                door.accept({"key-two"})  # the old key revoked, mid-work

            outcomes, _ = await asyncio.gather(
                asyncio.gather(*(function(r) for r in runners)), rotate()
            )
            # Workflows started after the revocation: the worker polls with the new key.
            later = await client.start_workflow(
                KeyedWork.run,
                NoopRequest(echo="after"),
                id=f"keys-{queue}-after",
                task_queue=queue,
            )
            late = await function(runners[0])
            results = [await h.result() for h in [*handles, later]]
        stop.set()
        await following

    assert [r.echo for r in results] == [
        *(f"keys-{queue}-{i}" for i in range(JOBS)),
        f"keys-{queue}-after",
    ]
    assert sorted({o for batch in [*outcomes, late] for o in batch}) == ["completed"]
    assert client.api_key == "key-two"
    assert door.refused > 0  # the revocation did refuse the old key in flight
    # No attempt was redone: every activity ran once.
    for handle in [*handles, later]:
        direct = dev_env.client.get_workflow_handle(handle.id)  # the door is closed now
        attempts = [
            e.activity_task_started_event_attributes.attempt
            async for e in direct.fetch_history_events()
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        ]
        assert attempts == [1], handle.id
    text = logs.getvalue()
    assert "retrying with the new" in text or "heartbeating with the new" in text
    assert "key-one" not in text and "key-two" not in text  # credentials never logged


@activity.defn(name="node_probe")
async def node_probe(request: dict[str, Any]) -> dict[str, Any]:
    TOKENS.put_nowait((activity.info().workflow_id or "", activity.info().task_token))
    activity.raise_complete_async()


@workflow.defn(sandboxed=False)
class NodeWork:
    @workflow.run
    async def run(self, request: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await workflow.execute_activity(
            node_probe,
            request,
            start_to_close_timeout=timedelta(seconds=120),
            heartbeat_timeout=timedelta(seconds=20),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
        return result


async def at_work(door: KeyDoor) -> None:
    """Until a function has connected and heartbeats its first work (on the first key)."""
    while door.passed < 4:
        await asyncio.sleep(0.05)


async def test_the_node_function_moves_to_a_rotated_key_mid_work(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """The image function (Node) mid-work when the old key is revoked reads the secret again
    and finishes on the new key; the next invocations use it from the start."""
    sample = json.loads((ROOT / "tests" / "events" / "RenderImageFunction.json").read_text())
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port())
    server.start()
    try:
        moto_url = f"http://127.0.0.1:{server._port}"
        sm = boto3.client(
            "secretsmanager",
            region_name="us-east-1",
            endpoint_url=moto_url,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        arn = sm.create_secret(Name="temporal-api-key", SecretString="key-one")["ARN"]
        queue = f"node-keys-{uuid.uuid4().hex[:6]}"
        target = dev_env.client.service_client.config.target_host
        with KeyDoor(target, {"key-one"}) as door:
            async with Worker(
                dev_env.client, task_queue=queue, workflows=[NodeWork], activities=[node_probe]
            ):
                handles = [
                    await dev_env.client.start_workflow(
                        NodeWork.run, sample["request"], id=f"{queue}-{i}", task_queue=queue
                    )
                    for i in range(3)
                ]
                events = []
                for _ in handles:
                    workflow_id, token = await asyncio.wait_for(TOKENS.get(), 10)
                    events.append(
                        {
                            **sample,
                            "workflow_id": workflow_id,
                            "task_token": encode_task_token(token),
                        }
                    )
                env = {
                    **os.environ,
                    "TEMPORAL_ADDRESS": door.address,
                    "TEMPORAL_NAMESPACE": "smm-hub-core",
                    "TEMPORAL_TLS": "false",
                    "SMM_TEMPORAL_API_KEY_SECRET_ARN": arn,
                    "AWS_ENDPOINT_URL": moto_url,
                    "AWS_REGION": "us-east-1",
                    "AWS_ACCESS_KEY_ID": "test",
                    "AWS_SECRET_ACCESS_KEY": "test",
                }
                node = await asyncio.create_subprocess_exec(
                    "node",
                    str(ROOT / "tests" / "workflows" / "node_rotation.mjs"),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=(tmp_path / "node.out").open("w"),
                    stderr=(tmp_path / "node.err").open("w"),
                    env=env,
                )
                assert node.stdin is not None
                node.stdin.write("".join(json.dumps(e) + "\n" for e in events).encode())
                await node.stdin.drain()
                node.stdin.close()
                await asyncio.wait_for(at_work(door), 30)
                door.accept({"key-one", "key-two"})
                sm.put_secret_value(SecretId=arn, SecretString="key-two")
                await asyncio.sleep(0.5)
                door.accept({"key-two"})  # revoked while that invocation still works
                await asyncio.wait_for(node.wait(), 60)
                results = [await h.result() for h in handles]
    finally:
        server.stop()
    out, err = (tmp_path / "node.out").read_text(), (tmp_path / "node.err").read_text()
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    outcomes = [line["rotation_outcome"] for line in lines if "rotation_outcome" in line]
    text = out + err
    assert node.returncode == 0, err[-2000:]
    assert outcomes == ["completed"] * 3, text[-2000:]
    assert [r["kind"] for r in results] == ["render_image"] * 3
    assert door.refused > 0  # the revocation did refuse the old key mid-work
    assert "heartbeating with the new" in text or "retrying with the new" in text
    assert "key-one" not in text and "key-two" not in text  # credentials never logged
