"""The publish flow on the real stack: the Node image function, the transfer function, the
Postiz and Payload doubles (which check exact requests), worker processes that get killed."""

from __future__ import annotations

import asyncio
import signal
import uuid
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.service import RPCError

from orchestrator.cap.models import SemaphoreState, semaphore_id
from orchestrator.publish.workflow import PublishCreativeWorkflow
from orchestrator.worker import build_worker, lambda_client
from smm_local.principals import WORKER
from smm_local.stack import LocalStack
from tests.integration.conftest import worker_settings
from tests.integration.publish_helpers import (
    EXPECTED,
    live_posts_of,
    new_doc,
    params,
    posts_for,
    signal_with_cli,
    stage,
    stages_for,
)

pytestmark = pytest.mark.integration


async def test_a_cli_approval_publishes_with_the_exact_postiz_requests(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    doc = new_doc(stack)
    posts_before = len(posts_for(stack))
    handle = await client.start_workflow(
        PublishCreativeWorkflow.run,
        params(stack, assets, doc),
        id=f"pub-{doc}",
        task_queue=task_queue,
    )
    await stage(handle, "awaiting_approval")
    # Before the render, the preflight asked Postiz for its channels once.
    preflight = stack.double_state("postiz")["requests"]
    assert [(r["method"], r["path"]) for r in preflight][-1] == ("GET", "/public/v1/integrations")
    requests_before = len(preflight)
    # Postiz throttles post creation only: the first (the drafts) is refused with a 429.
    stack.double_control("postiz", force_429=1)
    await asyncio.to_thread(
        signal_with_cli, stack, handle.id, {"decision": "approve", "reviewer": "ana@example.com"}
    )
    status = await asyncio.wait_for(handle.result(), 120)
    assert status.stage == "published"

    requests = stack.double_state("postiz")["requests"][requests_before:]
    assert [r["authorization"] for r in requests] == ["local-postiz-key"] * len(requests)
    assert [(r["method"], r["path"]) for r in requests[:6]] == [
        ("POST", "/public/v1/upload"),
        ("GET", "/public/v1/integrations"),
        *[("POST", "/public/v1/posts")] * 3,
        ("GET", "/public/v1/posts"),
    ]  # upload, the channels' providers, 429, the drafts, their promotion, the sweep
    # then only reads: following the posts until Postiz has published them
    assert {(r["method"], r["path"]) for r in requests[6:]} == {("GET", "/public/v1/posts")}
    upload = requests[0]
    assert upload["content_type"].startswith("multipart/form-data; boundary=")
    (part,) = upload["parts"]
    assert (part["name"], part["filename"], part["content_type"]) == (
        "file",
        "01-image-01.png",
        "image/png",
    )
    assert part["size"] > 10_000
    drafts = requests[3]["json"]
    assert requests[2]["json"] == drafts  # the refused create, sent again as it was
    assert drafts["type"] == "draft" and drafts["shortLink"] is False
    assert all("group" not in post for post in drafts["posts"])
    assert drafts["tags"] == [{"value": "launch", "label": "Launch"}]
    assert [p["integration"]["id"] for p in drafts["posts"]] == ["x-1", "li-2"]
    assert drafts["posts"][0]["settings"]["who_can_reply_post"] == "everyone"
    assert drafts["posts"][0]["value"][0]["content"] == "Fresh from the creative engine"
    assert drafts["posts"][0]["value"][0]["image"][0]["path"].startswith("https://uploads.")
    assert drafts["posts"][0]["value"][0]["image"][0]["path"].endswith(".png")
    promoted = requests[4]["json"]
    assert promoted["type"] == "schedule" and promoted["date"] == drafts["date"]
    assert [p["value"][0]["id"] for p in promoted["posts"]] == status.postiz_post_ids
    live = live_posts_of(stack, handle.id)
    assert sorted(status.postiz_post_ids) == sorted(p["id"] for p in live)
    assert len(posts_for(stack)) - posts_before == 2  # the two drafts, now queued
    assert stages_for(stack, doc) == EXPECTED


@pytest.mark.parametrize("moment", ["after_upload", "during_create", "after_commit"])
async def test_the_post_is_created_exactly_once_when_the_worker_is_killed(
    client: Client, stack: LocalStack, assets: dict[str, str], moment: str
) -> None:
    queue = f"tq-{uuid.uuid4()}"
    env = {"SMM_TASK_QUEUE": queue}
    worker = stack.start_worker(env, name=f"worker-{moment}")
    doc = new_doc(stack)
    handle = await client.start_workflow(
        PublishCreativeWorkflow.run, params(stack, assets, doc), id=f"pub-{doc}", task_queue=queue
    )
    await stage(handle, "awaiting_approval")
    before = stack.double_state("postiz")
    seen = len(before["requests"])
    if moment == "during_create":
        stack.double_control("postiz", create_delay_s=3)
    if moment == "after_commit":  # Postiz commits, then the answer is lost (500)
        stack.double_control("postiz", fail_after_commit=True)
    await handle.signal("agent_approval", {"decision": "approve", "reviewer": "ana@example.com"})
    wanted = "/public/v1/upload" if moment == "after_upload" else "/public/v1/posts"
    for _ in range(600):
        state = stack.double_state("postiz")
        if any(r["path"] == wanted for r in state["requests"][seen:]) and (
            moment != "after_commit" or len(state["posts"]) > len(before["posts"])
        ):
            break
        await asyncio.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    await asyncio.sleep(1)
    stack.double_control("postiz", create_delay_s=0)
    stack.start_worker(env, name=f"worker-{moment}-again")
    status = await asyncio.wait_for(handle.result(), 120)
    after = stack.double_state("postiz")
    creates = [
        r
        for r in after["requests"][seen:]
        if r["path"] == "/public/v1/posts" and r["method"] == "POST"
    ]
    uploads = [r for r in after["requests"][seen:] if r["path"] == "/public/v1/upload"]
    live = live_posts_of(stack, handle.id)
    assert len(uploads) == 1
    # never posted twice: a lost answer's drafts are found by key, promotion is by row id
    assert sorted(p["integration"]["id"] for p in live) == ["li-2", "x-1"]
    assert len(creates) <= 3 or moment == "during_create"
    assert sorted(status.postiz_post_ids) == sorted(p["id"] for p in live)


async def test_a_create_that_outlives_the_activity_timeout_is_found_not_reposted(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    """Postiz takes 6 s to answer, the activity gives up after 5 s and retries while the
    first request is still running: whatever the slow request commits stays a draft."""
    doc = new_doc(stack)
    handle = await client.start_workflow(
        PublishCreativeWorkflow.run,
        params(stack, assets, doc),
        id=f"pub-{doc}",
        task_queue=task_queue,
    )
    await stage(handle, "awaiting_approval")
    before = stack.double_state("postiz")
    stack.double_control("postiz", create_delay_s=6)
    try:
        await handle.signal(
            "agent_approval", {"decision": "approve", "reviewer": "ana@example.com"}
        )
        status = await asyncio.wait_for(handle.result(), 120)
    finally:
        stack.double_control("postiz", create_delay_s=0)
    after = stack.double_state("postiz")
    creates = [
        r
        for r in after["requests"][len(before["requests"]) :]
        if r["path"] == "/public/v1/posts" and r["method"] == "POST"
    ]
    live = live_posts_of(stack, handle.id)
    assert creates and sorted(p["integration"]["id"] for p in live) == ["li-2", "x-1"]
    assert sorted(status.postiz_post_ids) == sorted(p["id"] for p in live)


async def test_publishes_beyond_the_postiz_budget_wait_their_turn_instead_of_failing(
    client: Client, stack: LocalStack, assets: dict[str, str]
) -> None:
    """A budget of 2 post creations per 12 s window: three publishes approved together post
    two at once; the third waits in the budget's queue (visible) and posts once the window
    has passed. Postiz never answers 429."""
    queue = f"tq-{uuid.uuid4()}"
    settings = worker_settings(stack, queue).model_copy(update={"pool_caps": {"postiz-posts": 2}})
    window = 12.0
    async with build_worker(client, settings, lambda_client(settings), stack.s3(WORKER)):
        docs = [new_doc(stack) for _ in range(3)]
        handles = []
        for doc in docs:
            body = params(stack, assets, doc).model_copy(
                update={
                    "distribution": params(stack, assets, doc).distribution.model_copy(
                        update={"budget_window_s": window}
                    )
                }
            )
            handles.append(
                await client.start_workflow(
                    PublishCreativeWorkflow.run, body, id=f"pub-{doc}", task_queue=queue
                )
            )
        for handle in handles:
            await stage(handle, "awaiting_approval")
        seen = len(stack.double_state("postiz")["requests"])
        for handle in handles:
            await handle.signal(
                "agent_approval", {"decision": "approve", "reviewer": "ana@example.com"}
            )
        semaphore = client.get_workflow_handle(semaphore_id(queue, "postiz-posts"))
        waiting: list[Any] = []
        for _ in range(300):
            try:
                snapshot = await semaphore.query("snapshot", result_type=SemaphoreState)
            except RPCError:  # not started until the first publish asks
                await asyncio.sleep(0.1)
                continue
            if len(snapshot.holders) == 2 and snapshot.waiters:
                waiting = snapshot.waiters
                break
            await asyncio.sleep(0.1)
        assert len(waiting) == 1  # the third publish is queued, not failing
        results = await asyncio.wait_for(asyncio.gather(*[h.result() for h in handles]), 120)
    assert [r.stage for r in results] == ["published"] * 3
    creates = [
        r
        for r in stack.double_state("postiz")["requests"][seen:]
        if r["path"] == "/public/v1/posts" and r["method"] == "POST"
    ]
    assert len(creates) == 6  # each publish: its drafts, then their promotion


async def test_published_only_once_postiz_has_published_and_payload_gets_the_permalinks(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    doc = new_doc(stack)
    stack.double_control("postiz", publish_delay_s=3)  # Postiz publishes 3 s after queueing
    try:
        handle = await client.start_workflow(
            PublishCreativeWorkflow.run,
            params(stack, assets, doc),
            id=f"pub-{doc}",
            task_queue=task_queue,
        )
        await stage(handle, "awaiting_approval")
        await handle.signal(
            "agent_approval", {"decision": "approve", "reviewer": "ana@example.com"}
        )
        await stage(handle, "queued")
        status = await asyncio.wait_for(handle.result(), 120)
    finally:
        stack.double_control("postiz", publish_delay_s=0)
    live = live_posts_of(stack, handle.id)
    assert {p["state"] for p in live} == {"PUBLISHED"}
    assert status.stage == "published"
    assert status.permalinks == {p["integration"]["id"]: p["releaseURL"] for p in live}
    assert stages_for(stack, doc)[-2:] == ["queued", "published"]
    assert stack.payload is not None
    assert (stack.payload.doc("posts", doc) or {}).get("enginePermalinks") == status.permalinks


async def test_a_post_postiz_fails_to_publish_ends_publish_failed_naming_the_channel(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    doc = new_doc(stack)
    handle = await client.start_workflow(
        PublishCreativeWorkflow.run,
        params(stack, assets, doc),
        id=f"pub-{doc}",
        task_queue=task_queue,
    )
    await stage(handle, "awaiting_approval")
    stack.double_control("postiz", fail_next=["the platform refused the media"])
    await handle.signal("agent_approval", {"decision": "approve", "reviewer": "ana@example.com"})
    status = await asyncio.wait_for(handle.result(), 120)
    assert status.stage == "publish_failed"
    failed = [ch for ch, state in status.channels.items() if state == "ERROR"]
    assert len(failed) == 1 and f"not published on {failed[0]}:" in (status.error or "")
    assert stack.payload is not None
    final = stack.payload.doc("posts", doc) or {}
    assert final["engineStage"] == "publish_failed" and failed[0] in final["engineError"]
