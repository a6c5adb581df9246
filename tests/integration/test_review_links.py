"""Review links on the local stack: the link Payload hears opens a page with the creative;
deciding from it moves the workflow; tampered, expired, reused and out-of-date links are
refused with a page that says so, and change nothing."""

from __future__ import annotations

import asyncio
import html
import json
import re
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote, urlencode

import pytest

from smm_local.stack import LocalStack
from smm_runtime.review_links import ReviewClaim, ReviewLinkError, sign_link, verify_link
from tests.integration.test_trigger_api import call, default_queue_worker, publish_body

pytestmark = pytest.mark.integration
__all__ = ["default_queue_worker"]  # the trigger tests' module fixture, reused


def fetch(url: str, form: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    data = urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method="POST" if data else "GET",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.read().decode(), dict(answer.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), dict(err.headers)


async def link_for(
    stack: LocalStack, doc: str, round_: int, reviewer: str = "ana@example.com"
) -> str:
    """The private review link the reviewer's own inbox received for this round."""
    for _ in range(300):
        for message in stack.double_state("inbox")["messages"]:
            text = message["body"]["text"]
            found = re.search(r"<(http[^|>]+)\|", text)
            if message["inbox"] != reviewer or not found:
                continue
            try:  # the inbox also holds other tests' links, some long expired
                claim = verify_link(
                    stack.review_secret.encode(), unquote(found.group(1).rsplit("/", 1)[1])
                )
            except ReviewLinkError:
                continue
            if claim.workflow_id.endswith(doc) and claim.round == round_:
                return found.group(1)
        await asyncio.sleep(0.2)
    raise AssertionError(f"no review link for round {round_}")


async def stage(stack: LocalStack, workflow_id: str, wanted: str) -> dict[str, Any]:
    for _ in range(300):
        code, state = call(stack, "GET", f"/v1/workflows/{workflow_id}")
        if code == 200 and state["status"]["stage"] == wanted:
            return dict(state["status"])
        await asyncio.sleep(0.2)
    raise AssertionError(f"{workflow_id} never reached {wanted}")


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the form has no anti-forgery field"
    return html.unescape(found.group(1))


async def test_a_reviewer_decides_from_the_link_and_stale_links_change_nothing(
    stack: LocalStack, assets: dict[str, str], default_queue_worker: None
) -> None:
    doc = f"rev{uuid.uuid4().hex[:8]}"
    assert stack.payload is not None
    stack.payload.create_doc("posts", doc)  # the editor's save
    code, started = call(stack, "POST", "/v1/publish", publish_body(assets, doc))
    assert code == 202, started
    workflow_id = started["workflow_id"]
    await stage(stack, workflow_id, "awaiting_approval")
    first = await link_for(stack, doc, 1)
    assert first.startswith(f"{stack.trigger_url}/review/")
    # Nobody reading the shared channel or the Payload document can act as a reviewer.
    shared = [m for m in stack.double_state("inbox")["messages"] if m["inbox"] == "team-channel"]
    assert shared and all("/review/" not in json.dumps(m) for m in shared)
    for _ in range(100):  # the write-back runs beside the flow: wait for the report
        document = stack.payload.versions("posts", doc)
        if any(v.get("engineReviewSentTo") == ["ana@example.com"] for v in document):
            break
        await asyncio.sleep(0.2)
    assert any(v.get("engineReviewSentTo") == ["ana@example.com"] for v in document)
    assert all("/review/" not in json.dumps(v) for v in document)

    code, page, headers = fetch(first)
    assert code == 200 and headers["content-type"].startswith("text/html")
    assert "Hello from Payload" in page and "x-1" in page  # the post and its channel
    image = re.search(r'<img src="([^"]+)"', page)
    assert image and "X-Amz-Expires=300" in html.unescape(image.group(1))  # short-lived
    with urllib.request.urlopen(html.unescape(image.group(1)), timeout=10) as media:
        assert media.read(8) == b"\x89PNG\r\n\x1a\n"  # the creative itself
    assert "task_token" not in page and stack.review_secret not in page
    assert headers.get("cache-control") == "no-store"

    # A forged form (no valid anti-forgery value) and a tampered link change nothing.
    assert fetch(first, {"decision": "approve", "csrf": "forged"})[0] == 403
    tampered = first[:-3] + ("AAA" if not first.endswith("AAA") else "BBB")
    code, page, _ = fetch(tampered)
    assert code == 403 and "not valid" in page
    expired = f"{stack.trigger_url}/review/" + quote(
        sign_link(
            stack.review_secret.encode(),
            ReviewClaim(
                workflow_id, 1, "ana@example.com", datetime.now(UTC) - timedelta(seconds=1)
            ),
        )
    )
    code, page, _ = fetch(expired)
    assert code == 403 and "expired" in page
    assert (await stage(stack, workflow_id, "awaiting_approval"))["round"] == 1

    # Request changes: round 2 gets a new link; the round-1 link is now out of date.
    _, page, _ = fetch(first)
    code, done, _ = fetch(
        first, {"decision": "revise", "csrf": csrf(page), "comment": "warmer please"}
    )
    assert code == 200 and "sent back for changes" in done
    second = await link_for(stack, doc, 2)
    assert second != first
    status = await stage(stack, workflow_id, "awaiting_approval")
    assert status["round"] == 2
    assert status["approvals"][-1]["reviewer"] == "ana@example.com"
    assert status["approvals"][-1]["comment"] == "warmer please"
    code, page, _ = fetch(first)
    assert code == 409 and "round 1" in page

    _, page, _ = fetch(second)
    code, done, _ = fetch(second, {"decision": "approve", "csrf": csrf(page)})
    assert code == 200 and "approved" in done
    published = await stage(stack, workflow_id, "published")
    assert published["postiz_post_ids"]
    # The same form again: refused, and nothing more happens; the page says where it is live.
    code, page, _ = fetch(second, {"decision": "approve", "csrf": csrf(page)})
    assert code == 409
    assert published["permalinks"] and all(
        f'href="{url}"' in page for url in published["permalinks"].values()
    )
    _, state = call(stack, "GET", f"/v1/workflows/{workflow_id}")
    assert [a["decision"] for a in state["status"]["approvals"]] == ["revise", "approve"]
