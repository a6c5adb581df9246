"""Issuing and announcing review links: a verifiable link per reviewer, sent to that
reviewer's own inbox alone (Slack-shaped), the shared channel told who was asked but given no
link, nothing at all when review links are not configured."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any
from urllib.parse import unquote

import pytest
from temporalio.testing import ActivityEnvironment

from orchestrator.publish.review_links import ReviewAnnouncer
from smm_runtime.contract.publish_io import ReviewAnnouncement
from smm_runtime.review_links import verify_link

SECRET = b"links-secret"
NOW = datetime.now(UTC)
REQUEST = ReviewAnnouncement(
    workflow_id="payload-posts-7",
    round=2,
    reviewers=["ana@example.com", "bo@example.com"],
    expires_at=NOW + timedelta(days=3),
    content="Launch day!",
)


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(
                {"path": self.path, "type": self.headers["Content-Type"], "body": json.loads(body)}
            )
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/T1", received
    server.shutdown()


def link_in(message: dict[str, Any]) -> str:
    return str(re.search(r"<(https://[^|>]+)\|", message["body"]["text"]).group(1))  # type: ignore[union-attr]


async def test_each_reviewer_gets_their_own_link_in_their_own_inbox_only(
    webhook: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = webhook
    base = url.rsplit("/", 1)[0]
    announcer = ReviewAnnouncer(
        SECRET, "https://trigger.example/", f"{base}/team", inbox_template=f"{base}/dm/{{reviewer}}"
    )
    issued = await ActivityEnvironment().run(announcer.announce_review, REQUEST)
    assert issued.delivered == ["ana@example.com", "bo@example.com"] and issued.links == {}
    private = [m for m in received if m["path"].startswith("/hooks/dm/")]
    assert [unquote(m["path"]) for m in private] == [
        "/hooks/dm/ana@example.com",
        "/hooks/dm/bo@example.com",
    ]
    for message, reviewer in zip(private, ["ana@example.com", "bo@example.com"], strict=True):
        link = link_in(message)
        assert link.startswith("https://trigger.example/review/")
        claim = verify_link(SECRET, unquote(link.rsplit("/", 1)[1]))
        assert (claim.workflow_id, claim.round, claim.reviewer) == ("payload-posts-7", 2, reviewer)
        assert message["body"]["text"].count("https://") == 1  # theirs, nobody else's
        assert "round 2" in message["body"]["text"] and "Launch day!" in message["body"]["text"]
    (shared,) = [m for m in received if m["path"] == "/hooks/team"]
    assert "https://" not in json.dumps(shared["body"])  # the channel learns who, not how
    assert "ana@example.com" in shared["body"]["text"]
    assert shared["body"]["blocks"][0]["type"] == "section"


async def test_a_reviewer_without_a_private_inbox_gets_no_link_anywhere(
    webhook: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = webhook
    base = url.rsplit("/", 1)[0]
    announcer = ReviewAnnouncer(
        SECRET,
        "https://trigger.example/",
        f"{base}/team",
        inboxes={"ana@example.com": f"{base}/dm-ana"},
    )
    issued = await ActivityEnvironment().run(announcer.announce_review, REQUEST)
    assert issued.delivered == ["ana@example.com"]
    assert [m["path"] for m in received] == ["/hooks/dm-ana", "/hooks/team"]
    assert "https://" not in json.dumps(received[1]["body"])


async def test_without_configuration_no_links_and_no_message(
    webhook: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = webhook
    links = await ActivityEnvironment().run(
        ReviewAnnouncer(None, None, url).announce_review, REQUEST
    )
    assert links.links == {} and received == []


async def test_a_tenants_text_cannot_plant_a_link_or_a_mention(
    webhook: tuple[str, list[dict[str, Any]]],
) -> None:
    """The caption and the reviewer names are the tenant's: in Slack's markup `<!channel>`
    pages everyone and `<https://evil|Review it here>` is a link beside ours."""
    url, received = webhook
    base = url.rsplit("/", 1)[0]
    announcer = ReviewAnnouncer(
        SECRET,
        "https://trigger.example/",
        f"{base}/team",
        inboxes={"ana@example.com": f"{base}/dm-ana"},
    )
    planted = REQUEST.model_copy(
        update={
            "content": "<!channel> urgent: <https://evil.example/x|Review it here> & go",
            "reviewers": ["ana@example.com", "<!here>"],
        }
    )
    await ActivityEnvironment().run(announcer.announce_review, planted)
    for message in received:
        text = message["body"]["text"]
        assert "<!channel>" not in text and "<!here>" not in text
        assert "<https://evil" not in text
        assert "&lt;!channel&gt;" in text or "&lt;!here&gt;" in text
    (private,) = [m for m in received if m["path"] == "/hooks/dm-ana"]
    assert link_in(private).startswith("https://trigger.example/review/")  # ours still works
    assert "&amp; go" in private["body"]["text"]


async def test_the_inbox_template_reaches_only_a_persons_address(
    webhook: tuple[str, list[dict[str, Any]]],
) -> None:
    """Any reviewer string used to become a target: "#general" got a link that lets anyone
    who reads that channel decide."""
    url, received = webhook
    base = url.rsplit("/", 1)[0]
    announcer = ReviewAnnouncer(
        SECRET, "https://trigger.example/", None, inbox_template=f"{base}/dm/{{reviewer}}"
    )
    shared = REQUEST.model_copy(update={"reviewers": ["#general", "ana@example.com", "team"]})
    issued = await ActivityEnvironment().run(announcer.announce_review, shared)
    assert issued.delivered == ["ana@example.com"]
    assert [unquote(m["path"]) for m in received] == ["/hooks/dm/ana@example.com"]
