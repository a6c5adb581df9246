"""Signed review links for a waiting creative, each delivered to its reviewer alone.

The links are signed here, in the worker, with the review-link secret; a link is a bearer
capability to decide as that reviewer, so it goes only to that reviewer's own inbox (a
personal webhook: ``SMM_REVIEW_INBOXES`` maps reviewer -> URL, or ``SMM_REVIEW_INBOX_TEMPLATE``
builds one with ``{reviewer}``), one message each. The shared channel
(``SMM_REVIEW_WEBHOOK_URL``) and Payload hear who was asked, never a link. Without a secret
and a base URL no links are issued (approval goes through Payload, the API or the CLI).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import quote

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from orchestrator.executors import http_deadline, on_http
from orchestrator.http_json import call
from smm_runtime.contract.errors import INVALID_REQUEST
from smm_runtime.contract.publish_io import ReviewAnnouncement, ReviewLinks
from smm_runtime.review_links import ReviewClaim, sign_link

ANYONE = "anyone"
PERSONAL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+")
# Signing is instant; the webhook gets a few tries, then the round goes on.
ANNOUNCE_TIMEOUT = timedelta(seconds=20)
ANNOUNCE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_attempts=5,
    non_retryable_error_types=[INVALID_REQUEST],
)


class ReviewAnnouncer:
    def __init__(
        self,
        secret: bytes | None,
        base_url: str | None,
        webhook_url: str | None,
        inboxes: Mapping[str, str] | None = None,
        inbox_template: str | None = None,
    ) -> None:
        self._secret = secret
        self._base = base_url.rstrip("/") if base_url else None
        self._webhook = webhook_url
        self._inboxes = dict(inboxes or {})
        self._template = inbox_template

    def inbox(self, reviewer: str) -> str | None:
        if reviewer in self._inboxes:
            return self._inboxes[reviewer]
        # The template reaches only a person's address: the reviewer list is the tenant's,
        # and any other string ("#general", a team alias) would make a shared inbox the
        # target of a link that lets whoever reads it decide.
        if self._template and PERSONAL.fullmatch(reviewer):
            return self._template.replace("{reviewer}", quote(reviewer, safe=""))
        return None

    @activity.defn(name="announce_review")
    async def announce_review(self, request: ReviewAnnouncement) -> ReviewLinks:
        if self._secret is None or self._base is None:
            return ReviewLinks()
        delivered = []
        for reviewer in request.reviewers or [ANYONE]:
            inbox = self.inbox(reviewer)
            if inbox is None:
                continue  # no private way to reach them: no link anywhere
            link = f"{self._base}/review/" + quote(
                sign_link(
                    self._secret,
                    ReviewClaim(request.workflow_id, request.round, reviewer, request.expires_at),
                )
            )
            private = f"{_opening(request)} <{link}|Review it here> (this link is yours alone)."
            await on_http(
                "webhooks", call, "POST", inbox, {}, _message([private]), http_deadline(10)
            )
            delivered.append(reviewer)
        if self._webhook:
            asked = escape(", ".join(request.reviewers)) or "any reviewer"
            shared = f"{_opening(request)} Asked: {asked}; each has a private review link."
            await on_http(
                "webhooks", call, "POST", self._webhook, {}, _message([shared]), http_deadline(10)
            )
        return ReviewLinks(delivered=delivered)


def _opening(request: ReviewAnnouncement) -> str:
    what = "Reminder: a" if request.reminder else "A"
    return (
        f"{what} creative is waiting for review (round {request.round}, until "
        f"{request.expires_at:%Y-%m-%d %H:%M} UTC): {escape(request.content[:200])}"
    )


def escape(text: str) -> str:
    """A tenant's text as plain text in chat markup: Slack reads `<...>` as a link or a
    mention (`<!channel>`, `<https://evil|Review it here>`) and needs `&`, `<`, `>` escaped
    (its "Formatting text for app surfaces": escaping text); Mattermost and Teams show the
    entities as the characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _message(lines: list[str]) -> dict[str, object]:
    """Slack's incoming-webhook shape (`text` plus blocks); Teams/Mattermost read `text`."""
    return {
        "text": "\n".join(lines),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": line}} for line in lines],
    }


async def announce_review(request: ReviewAnnouncement) -> ReviewLinks | None:
    """Inside the publish workflow: this round's signed review links (None when the
    announcement failed: a failed announcement never blocks the approval itself)."""
    try:
        links: ReviewLinks = await workflow.execute_activity_method(
            ReviewAnnouncer.announce_review,
            request,
            start_to_close_timeout=ANNOUNCE_TIMEOUT,
            retry_policy=ANNOUNCE_RETRY,
        )
    except ActivityError:
        workflow.logger.warning("review links not announced (round %s)", request.round)
        return None
    return links
