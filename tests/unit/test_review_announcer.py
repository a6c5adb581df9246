"""Issuing and announcing review links: verifiable links per reviewer, a Slack-shaped
message to the webhook, nothing at all when review links are not configured."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any
from urllib.parse import unquote

import pytest
from temporalio.testing import ActivityEnvironment

from orchestrator.activities.review_links import ReviewAnnouncer
from smm_runtime.contract.publish_io import ReviewAnnouncement
from smm_runtime.review_links import verify_link

SECRET = b"links-secret"
NOW = datetime.now(UTC)
REQUEST = ReviewAnnouncement(workflow_id="payload-posts-7", round=2,
                             reviewers=["ana@example.com", "bo@example.com"],
                             expires_at=NOW + timedelta(days=3), content="Launch day!")


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "type": self.headers["Content-Type"],
                             "body": json.loads(body)})
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/T1", received
    server.shutdown()


async def test_each_reviewer_gets_a_link_that_verifies_to_this_round(
        webhook: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = webhook
    announcer = ReviewAnnouncer(SECRET, "https://trigger.example/", url)
    links = await ActivityEnvironment().run(announcer.announce_review, REQUEST)
    assert set(links.links) == {"ana@example.com", "bo@example.com"}
    for reviewer, link in links.links.items():
        assert link.startswith("https://trigger.example/review/")
        claim = verify_link(SECRET, unquote(link.rsplit("/", 1)[1]))
        assert (claim.workflow_id, claim.round, claim.reviewer) == (
            "payload-posts-7", 2, reviewer)
    (message,) = received
    assert message["path"] == "/hooks/T1" and message["type"] == "application/json"
    assert "round 2" in message["body"]["text"] and "Launch day!" in message["body"]["text"]
    assert all(link in message["body"]["text"] for link in links.links.values())
    assert message["body"]["blocks"][0]["type"] == "section"


async def test_without_configuration_no_links_and_no_message(
        webhook: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = webhook
    links = await ActivityEnvironment().run(ReviewAnnouncer(None, None, url).announce_review,
                                            REQUEST)
    assert links.links == {} and received == []
