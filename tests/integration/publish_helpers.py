"""Shared steps of the publish tests on the real stack: a publish request, waiting for a
stage, approving through the Temporal CLI, and reading back what Payload and Postiz saw."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle

from orchestrator.codec_server import CodecServer, CodecServerConfig
from orchestrator.publish.postiz import PostizPublisher, publish_key
from orchestrator.publish.workflow import PublishCreativeWorkflow
from smm_local.postiz_double import CHANNEL_SETTINGS
from smm_local.stack import LocalStack
from smm_runtime.codec import AesGcmCodec, load_keys
from smm_runtime.contract.publish_io import PublishInput, PublishStatus

# Waiting is reported twice: at once, then with the round's signed review links.
EXPECTED = [
    "rendering",
    "awaiting_approval",
    "awaiting_approval",
    "approved",
    "publishing",
    "queued",
    "published",
]


def params(stack: LocalStack, assets: dict[str, str], doc: str) -> PublishInput:
    return PublishInput.model_validate(
        {
            "creative": {
                "kind": "image",
                "spec": {
                    "brand_kit": assets["brand_kit"],
                    "template": "quote_card",
                    "props": {"quote": "Publishing, exactly once.", "author": "The engine"},
                },
            },
            "post": {
                "content": "Fresh from the creative engine",
                "integrations": ["x-1", "li-2"],
                "channel_settings": CHANNEL_SETTINGS,
                "type": "now",
                "tags": [{"value": "launch", "label": "Launch"}],
            },
            "approval": {"reviewers": ["ana@example.com"]},
            "payload": {"collection": "posts", "id": doc},
            "output_bucket": stack.bucket,
            "dispatch": {"heartbeat_timeout_s": 5, "initial_interval_s": 1, "max_attempts": 5},
            "distribution": {
                "create_timeout_s": 5,
                "retry_initial_s": 1,
                "retry_max_s": 2,
                "create_settle_s": 8,
                "rate_limited_wait_s": 1,
                "follow_every_s": 1,
                "retry_window_s": 0,
            },
        }
    )


async def stage(
    handle: WorkflowHandle[Any, PublishStatus], wanted: str, timeout: float = 90
) -> PublishStatus:
    async def poll() -> PublishStatus:
        while True:
            status = await handle.query(PublishCreativeWorkflow.status)
            if status.stage == wanted:
                return status
            await asyncio.sleep(0.1)

    return await asyncio.wait_for(poll(), timeout)


def signal_with_cli(stack: LocalStack, workflow_id: str, decision: dict[str, Any]) -> None:
    """Approve as an outside client would: the Temporal CLI. The stack seals payloads, so the
    CLI seals its input through `smm-engine codec-server` (what an operator runs): a plaintext
    signal would be refused by the worker (smm_runtime.codec)."""
    keys = load_keys(stack.env())
    assert keys is not None, "the local stack encrypts payloads"
    token = secrets.token_hex(24)
    server = CodecServer(
        "127.0.0.1",
        0,
        CodecServerConfig(codec=AesGcmCodec(keys), tokens=[token], namespace="smm-hub-core"),
    )
    server.start()
    try:
        temporal = str(Path(sys.executable).parent / "temporal")
        subprocess.run(
            [
                temporal,
                "workflow",
                "signal",
                "--address",
                stack.temporal_address,
                "--namespace",
                "smm-hub-core",
                "--workflow-id",
                workflow_id,
                "--name",
                "agent_approval",
                "--input",
                json.dumps(decision),
                "--codec-endpoint",
                f"http://127.0.0.1:{server.port}",
                "--codec-auth",
                f"Bearer {token}",
                "--codec-header",
                "X-Namespace=smm-hub-core",
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
    finally:
        server.stop()


def posts_for(stack: LocalStack, doc_group_hint: str | None = None) -> list[dict[str, Any]]:
    return list(stack.double_state("postiz")["posts"])


def live_posts_of(stack: LocalStack, workflow_id: str) -> list[dict[str, Any]]:
    """The workflow's posts Postiz will publish or has (drafts never are), by its key."""
    key = publish_key(workflow_id)
    return [
        p
        for p in stack.double_state("postiz")["posts"]
        if p["state"] != "DRAFT" and PostizPublisher.key_of(p) == key
    ]


def stages_for(stack: LocalStack, doc: str) -> list[str]:
    """The stages the real Payload document went through, read back from its versions."""
    assert stack.payload is not None
    return stack.payload.stages("posts", doc)


def new_doc(stack: LocalStack) -> str:
    """An editor saves a document; the engine then reports to it."""
    assert stack.payload is not None
    doc = f"doc-{uuid.uuid4().hex[:6]}"
    stack.payload.create_doc("posts", doc)
    return doc


def collapse(values: list[str]) -> list[str]:
    """Drop immediate repeats: a resent identical update is harmless."""
    return [v for i, v in enumerate(values) if i == 0 or values[i - 1] != v]
