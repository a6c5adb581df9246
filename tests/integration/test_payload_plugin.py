"""The creative-engine plugin in a real Payload 3: the engine's fields are the engine's
(editors read them, only its API user writes them), and a late, older report never
overwrites a newer one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from temporalio.client import Client

from smm_local.payload_app import Person
from smm_local.postiz_double import CHANNEL_SETTINGS
from smm_local.stack import LocalStack
from tests.integration.test_trigger_api import default_queue_worker

pytestmark = pytest.mark.integration
__all__ = ["default_queue_worker"]  # the trigger tests' module fixture, reused


def test_editors_read_the_engine_fields_but_cannot_change_them(stack: LocalStack) -> None:
    payload = stack.payload
    assert payload is not None
    editor_key = f"editor-{uuid.uuid4().hex}"
    payload.add_person(
        Person(f"editor-{uuid.uuid4().hex[:6]}@example.com", uuid.uuid4().hex, api_key=editor_key)
    )
    doc = f"plug-{uuid.uuid4().hex[:6]}"
    payload.create_doc("posts", doc)
    assert (
        payload.call("PATCH", f"posts/{doc}", {"engineStage": "rendering", "engineSeq": 1})[0]
        == 200
    )
    status, _ = payload.call(
        "PATCH",
        f"posts/{doc}",
        {
            "title": "edited by a human",
            "engineStage": "published",
            "enginePostizPostIds": ["forged"],
        },
        key=editor_key,
    )
    assert status == 200
    held = payload.doc("posts", doc)
    assert held is not None and held["title"] == "edited by a human"
    assert held["engineStage"] == "rendering" and held["enginePostizPostIds"] is None
    status, seen = payload.call("GET", f"posts/{doc}", key=editor_key)
    assert status == 200 and seen["engineStage"] == "rendering"  # and they can read them


def test_a_late_older_report_never_overwrites_a_newer_one(stack: LocalStack) -> None:
    payload = stack.payload
    assert payload is not None
    doc = f"plug-{uuid.uuid4().hex[:6]}"
    payload.create_doc("posts", doc)
    payload.call(
        "PATCH",
        f"posts/{doc}",
        {"engineStage": "published", "engineSeq": 6, "enginePostizPostIds": ["p-1"]},
    )
    status, _ = payload.call(
        "PATCH", f"posts/{doc}", {"engineStage": "approved", "engineSeq": 4, "title": "kept"}
    )
    assert status == 200
    held = payload.doc("posts", doc)
    assert held is not None and held["engineStage"] == "published"
    assert held["enginePostizPostIds"] == ["p-1"] and held["title"] == "kept"


def test_a_report_to_a_document_that_does_not_exist_is_a_404(stack: LocalStack) -> None:
    payload = stack.payload
    assert payload is not None
    status, _ = payload.call(
        "PATCH", f"posts/missing-{uuid.uuid4().hex[:6]}", {"engineStage": "rendering"}
    )
    assert status == 404


async def test_saving_a_ready_post_starts_one_publish_and_the_document_follows_it(
    client: Client, stack: LocalStack, assets: dict[str, str], default_queue_worker: None
) -> None:
    """An editor saves a post in Payload; saved ready, Payload's queue starts the engine
    through the signed trigger API and keeps the workflow id; saving again starts nothing
    more; every stage reaches the document; approved, it ends published with post ids."""
    payload = stack.payload
    assert payload is not None
    editor = f"editor-{uuid.uuid4().hex}"
    payload.add_person(Person(f"{editor[:14]}@example.com", uuid.uuid4().hex, api_key=editor))
    doc = f"flow{uuid.uuid4().hex[:8]}"
    status, _ = payload.call(
        "POST",
        "posts",
        {
            "id": doc,
            "title": "Spring",
            "caption": "Fresh from Payload",
            "channels": ["x-1"],
            "channelSettings": {"x-1": CHANNEL_SETTINGS["x-1"]},
            "reviewers": ["ana@example.com"],
            "ready": False,
            "creative": {
                "kind": "image",
                "spec": {
                    "brand_kit": assets["brand_kit"],
                    "template": "quote_card",
                    "props": {"quote": "Saved in Payload", "author": "An editor"},
                },
            },
        },
        key=editor,
    )
    assert status == 201
    await asyncio.sleep(2)
    assert (payload.doc("posts", doc) or {}).get("engineWorkflowId") is None  # not ready yet

    assert payload.call("PATCH", f"posts/{doc}", {"ready": True}, key=editor)[0] == 200
    workflow_id = await until(lambda: (payload.doc("posts", doc) or {}).get("engineWorkflowId"))
    assert workflow_id == f"payload-posts-{doc}"
    assert payload.call("PATCH", f"posts/{doc}", {"title": "Spring!"}, key=editor)[0] == 200
    assert payload.call("PATCH", f"posts/{doc}", {"ready": True}, key=editor)[0] == 200

    await until(lambda: (payload.doc("posts", doc) or {}).get("engineStage") == "awaiting_approval")
    await client.get_workflow_handle(workflow_id).signal(
        "agent_approval", {"decision": "approve", "reviewer": "ana@example.com"}
    )
    final = await until(
        lambda: (d := payload.doc("posts", doc)) and d.get("engineStage") == "published" and d,
        timeout=120,
    )
    assert final["enginePostizPostIds"] and final["title"] == "Spring!"
    runs = [w async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    assert len(runs) == 1  # saved three times, started once
    assert payload.stages("posts", doc) == [
        "rendering",
        "awaiting_approval",
        "awaiting_approval",
        "approved",
        "publishing",
        "queued",
        "published",
    ]


async def until(probe: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        value = await asyncio.to_thread(probe)
        if value:
            return value
        await asyncio.sleep(0.3)
    raise AssertionError("timed out waiting for Payload")
