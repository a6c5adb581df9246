"""Signed review links for a waiting creative, announced to a Slack-compatible webhook.

The links are signed here, in the worker, with the review-link secret; the workflow only
holds the result. Without SMM_REVIEW_LINK_SECRET and SMM_REVIEW_BASE_URL no links are issued
(approval then goes through Payload, the API or the CLI as before).
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from temporalio import activity

from orchestrator.activities.http_json import call
from smm_runtime.contract.publish_io import ReviewAnnouncement, ReviewLinks
from smm_runtime.review_links import ReviewClaim, sign_link

ANYONE = "anyone"


class ReviewAnnouncer:
    def __init__(self, secret: bytes | None, base_url: str | None,
                 webhook_url: str | None) -> None:
        self._secret = secret
        self._base = base_url.rstrip("/") if base_url else None
        self._webhook = webhook_url

    @activity.defn(name="announce_review")
    async def announce_review(self, request: ReviewAnnouncement) -> ReviewLinks:
        if self._secret is None or self._base is None:
            return ReviewLinks()
        links = {
            reviewer: f"{self._base}/review/" + quote(sign_link(self._secret, ReviewClaim(
                request.workflow_id, request.round, reviewer, request.expires_at)))
            for reviewer in (request.reviewers or [ANYONE])}
        if self._webhook:
            await asyncio.to_thread(call, "POST", self._webhook, {}, _message(request, links))
        return ReviewLinks(links=links)


def _message(request: ReviewAnnouncement, links: dict[str, str]) -> dict[str, object]:
    """Slack's incoming-webhook shape (`text` plus blocks); Teams/Mattermost read `text`."""
    what = "Reminder: a" if request.reminder else "A"
    lines = [f"{what} creative is waiting for your review (round {request.round}, "
             f"until {request.expires_at:%Y-%m-%d %H:%M} UTC): {request.content[:200]}"]
    lines += [f"• {reviewer}: <{url}|review>" for reviewer, url in links.items()]
    return {"text": "\n".join(lines),
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": line}}
                       for line in lines]}
