"""Encrypted end to end: a Node client using @smm-hub/payload-codec (as the Payload direct
example does) and a Python worker with the same keys understand each other through a real
dev server, which stores only ciphertext; a client without keys is refused loudly by the
worker (a workflow task failure naming the sender's mistake), never decoded in silence."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from smm_runtime.codec import data_converter

PAYLOAD_APP = Path(__file__).resolve().parents[2] / "infra" / "payload"
KEYS = json.dumps({"active": "k1", "keys": {"k1": base64.b64encode(os.urandom(32)).decode()}})

# What infra/payload/temporal-direct.ts does, as plain JS: connect, seal with the package.
NODE_CLIENT = """
import { Client, Connection } from '@temporalio/client';
import { dataConverterFromEnv } from '@smm-hub/payload-codec';
const [address, namespace, queue, id, wait] = process.argv.slice(1);
const connection = await Connection.connect({ address });
const client = new Client({ connection, namespace, dataConverter: dataConverterFromEnv() });
const handle = await client.workflow.start('EchoWorkflow', {
  taskQueue: queue, workflowId: id, args: [{ brand: 'acme', secret_plan: 'spring launch' }] });
console.log(JSON.stringify(wait === 'wait' ? await handle.result() : 'started'));
await connection.close();
"""


@workflow.defn(name="EchoWorkflow", sandboxed=False)
class EchoWorkflow:
    @workflow.run
    async def run(self, body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "echoed_by": "python"}


def node_client(
    env: WorkflowEnvironment, queue: str, workflow_id: str, wait: bool, **environ: str
) -> subprocess.CompletedProcess[str]:
    target = env.client.service_client.config.target_host
    return subprocess.run(
        [
            "node",
            "--input-type=module",
            "-e",
            NODE_CLIENT,
            target,
            env.client.namespace,
            queue,
            workflow_id,
            "wait" if wait else "start",
        ],
        cwd=PAYLOAD_APP,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"], **environ},
    )


async def keyed_client(env: WorkflowEnvironment) -> Client:
    return Client(
        env.client.service_client,
        namespace=env.client.namespace,
        data_converter=data_converter({"SMM_PAYLOAD_KEYS": KEYS}),
    )


async def test_a_node_client_with_the_codec_and_the_worker_talk_in_ciphertext(
    dev_env: WorkflowEnvironment,
) -> None:
    client = await keyed_client(dev_env)
    queue, workflow_id = f"tq-{uuid.uuid4()}", f"direct-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[EchoWorkflow]):
        done = await asyncio.to_thread(
            node_client, dev_env, queue, workflow_id, True, SMM_PAYLOAD_KEYS=KEYS
        )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "brand": "acme",
        "secret_plan": "spring launch",
        "echoed_by": "python",
    }
    history = await dev_env.client.get_workflow_handle(workflow_id).fetch_history()
    raw = history.to_json()
    assert "spring launch" not in raw and "acme" not in raw  # the server saw ciphertext
    assert base64.b64encode(b"binary/encrypted").decode() in raw


async def test_a_node_client_without_keys_fails_before_sending_anything(
    dev_env: WorkflowEnvironment,
) -> None:
    workflow_id = f"direct-{uuid.uuid4().hex[:8]}"
    done = await asyncio.to_thread(node_client, dev_env, "tq-none", workflow_id, False)
    assert done.returncode != 0 and "SMM_PAYLOAD_KEYS: not set" in done.stderr


async def test_the_worker_refuses_a_plaintext_client_loudly(dev_env: WorkflowEnvironment) -> None:
    client = await keyed_client(dev_env)
    queue, workflow_id = f"tq-{uuid.uuid4()}", f"direct-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[EchoWorkflow]):
        # A client that switched encryption off (or never had keys): its input is plaintext.
        started = await asyncio.to_thread(
            node_client, dev_env, queue, workflow_id, False, SMM_PAYLOAD_ENCRYPTION="off"
        )
        assert started.returncode == 0, started.stderr
        failure = None
        for _ in range(100):
            history = await dev_env.client.get_workflow_handle(workflow_id).fetch_history()
            failed = [
                e
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
            ]
            if failed:
                failure = failed[0].workflow_task_failed_event_attributes.failure
                break
            await asyncio.sleep(0.1)
    assert failure is not None, "the worker decoded a plaintext payload"
    decoded = await dataclasses.replace(client.data_converter).decode_failure(failure)
    assert "arrived unencrypted" in str(decoded) and "its sender has none" in str(decoded)
    assert "spring launch" not in str(decoded)
    description = await dev_env.client.get_workflow_handle(workflow_id).describe()
    assert description.status is not None and description.status.name == "RUNNING"
    await dev_env.client.get_workflow_handle(workflow_id).terminate("test over")
