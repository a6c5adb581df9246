"""On the shared server, our payloads are ciphertext: what the worker, the Python functions,
the Node function and the client write is sealed, failures included, and only a client with
the keys reads it back."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowFailureError, WorkflowHistory
from temporalio.exceptions import ActivityError, ApplicationError

from orchestrator.dispatch.noop import NoopInput, NoopWorkflow
from orchestrator.render.image import GenerateImageWorkflow
from smm_local.stack import LocalStack
from smm_runtime.codec import ENCODING
from smm_runtime.contract.kinds import NoopRequest
from smm_runtime.contract.workflow_io import GenerateImageInput
from smm_runtime.temporal_conn import connect

pytestmark = pytest.mark.integration


def payloads(message: Message, path: str = "") -> list[tuple[str, Payload]]:
    """Every Payload in a history, with where it sits."""
    found: list[tuple[str, Payload]] = []
    if isinstance(message, Payload):
        return [(path, message)]
    for field, value in message.ListFields():
        where = f"{path}.{field.name}"
        if field.message_type is None:
            continue
        if isinstance(value, Message):
            found += payloads(value, where)
            continue
        items = value.values() if hasattr(value, "values") else value  # repeated or map
        for item in items:
            if isinstance(item, Message):
                found += payloads(item, where)
    return found


async def raw_history(stack: LocalStack, workflow_id: str) -> WorkflowHistory:
    """The history as the server (and anyone else on it) holds it: a client without keys."""
    env = {k: v for k, v in stack.env().items() if k != "SMM_PAYLOAD_KEYS"}
    plain: Client = await connect(environ=env)
    return await plain.get_workflow_handle(workflow_id).fetch_history()


def assert_sealed(history: WorkflowHistory, marker: str) -> int:
    sealed = 0
    for event in history.events:
        for where, payload in payloads(event):
            if "search_attributes" in where:
                continue  # indexed by the server by design; we put no data there
            if event.marker_recorded_event_attributes.marker_name == "core_patch":
                # workflow.patched(): the SDK core writes the patch id (a constant of our
                # code, never user data) in plain JSON, past the payload codec.
                continue
            assert payload.metadata.get("encoding") == ENCODING, f"plain payload at {where}"
            sealed += 1
        assert marker.encode() not in event.SerializeToString()
    return sealed


async def test_python_function_results_and_inputs_are_ciphertext_on_the_server(
    client: Client, stack: LocalStack, task_queue: str
) -> None:
    marker = f"confidential-{uuid.uuid4().hex}"
    handle = await client.start_workflow(
        NoopWorkflow.run,
        NoopInput(request=NoopRequest(echo=marker)),
        id=f"enc-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )
    result = await asyncio.wait_for(handle.result(), 60)
    assert result.echo == marker  # the keyed client reads it back
    assert assert_sealed(await raw_history(stack, handle.id), marker) >= 3


async def test_node_function_results_and_failures_are_ciphertext_on_the_server(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    marker = f"Confidential launch {uuid.uuid4().hex[:8]}"
    spec: dict[str, Any] = {
        "brand_kit": assets["brand_kit"],
        "template": "quote_card",
        "props": {"quote": marker, "author": "Ops"},
    }
    ok = await client.start_workflow(
        GenerateImageWorkflow.run,
        GenerateImageInput(spec=spec, output_bucket=stack.bucket),
        id=f"enc-img-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )
    await asyncio.wait_for(ok.result(), 120)
    assert assert_sealed(await raw_history(stack, ok.id), marker) >= 3

    bad = await client.start_workflow(
        GenerateImageWorkflow.run,
        GenerateImageInput(
            spec={
                "brand_kit": assets["brand_kit"],
                "template": "promo_card",
                "props": {"headline": marker, "price": "cheap", "cta": "Buy"},
            },
            output_bucket=stack.bucket,
        ),
        id=f"enc-bad-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )
    with pytest.raises(WorkflowFailureError) as err:
        await asyncio.wait_for(bad.result(), 120)
    assert isinstance(err.value.cause, ActivityError)
    inner = err.value.cause.cause
    assert isinstance(inner, ApplicationError) and inner.message == "props.price: must be number"
    history = await raw_history(stack, bad.id)
    assert_sealed(history, marker)
    failures = [
        e.activity_task_failed_event_attributes.failure
        for e in history.events
        if e.HasField("activity_task_failed_event_attributes")
    ]
    assert failures and all(f.message == "Encoded failure" for f in failures)
    assert all(b"must be number" not in e.SerializeToString() for e in history.events)
