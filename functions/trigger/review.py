"""Review links: `GET /review/<link>` shows the creative, `POST /review/<link>` decides.

The pages are a Router of the trigger's one app (api.py); what a request brings (the
Temporal service, the review secret, the replay guard, the presigner) is in its context.

The signed link is the reviewer's only credential: it names the workflow, the revision round,
the reviewer and the expiry. A tampered or expired link, a link for an older round, or a
link already used gets a page that says so and changes nothing. Form posts carry an
anti-forgery value bound to the link.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast
from urllib.parse import parse_qs, quote, unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from functions.trigger.gate import raw_body
from functions.trigger.replay import ReplayGuard
from functions.trigger.review_brand import theme
from functions.trigger.review_media import Media
from functions.trigger.review_page import message_page, review_page
from functions.trigger.service import Service
from smm_runtime.contract.publish_io import ApprovalDecision
from smm_runtime.review_links import ReviewLinkError, csrf_token, verify_link

PREFIX = "/review/"
HTML = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src https: http:; media-src https: http:; "
    "form-action 'self'; frame-ancestors 'none'",
}
Presign = Callable[[str], str]
# A presigned URL for an object that exists, else None (renders from before contact sheets).
PresignIfPresent = Callable[[str], str | None]
router = Router()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class ReviewDeps:
    """What the review pages need besides Temporal: the link secret (None: links are off),
    the once-only guard, presigned URLs for the media, and (tests) the clock."""

    secret: bytes | None = None
    replay: ReplayGuard | None = None
    presign: Presign | None = None
    present: PresignIfPresent | None = None
    now: datetime | None = None


def _page(status: int, html: str) -> Response[str]:
    return Response(status_code=status, headers=dict(HTML), body=html)


def _refuse(
    status: int, title: str, text: str, live: dict[str, str] | None = None
) -> Response[str]:
    return _page(status, message_page(title, text, live))


def _media(
    outputs: list[str], presign: Presign, present: PresignIfPresent | None = None
) -> list[Media]:
    """Each output as the page shows it; a video with its poster and its scenes' contact
    sheet (the finalize step writes them beside the MP4: .jpg, .scenes.jpg)."""
    items = []
    for uri in outputs:
        if not uri.startswith("s3://") or uri.endswith(".jpg"):
            continue
        if uri.endswith(".mp4"):
            items.append(
                Media(
                    presign(uri),
                    "video",
                    poster=presign(uri[:-4] + ".jpg"),
                    slug=uri.rsplit("/", 1)[-1][:-4],
                    sheet=present(uri[:-4] + ".scenes.jpg") if present else None,
                )
            )
        else:
            items.append(Media(presign(uri), "image"))
    return items


async def review_answer(method: str, link: str, body: bytes, deps: ReviewDeps) -> Response[str]:
    """The page for ``link`` (the path after /review/, still percent-encoded)."""
    secret, replay, presign, present = deps.secret, deps.replay, deps.presign, deps.present
    if secret is None:
        return _refuse(404, "Review links are off", "This deployment does not issue review links.")
    assert replay is not None and presign is not None, "review links need a guard and a presigner"
    service = cast(Service, router.context["service"])
    now = deps.now
    token = unquote(link)
    try:
        claim = verify_link(secret, token, now or datetime.now(UTC))
    except ReviewLinkError as err:
        return _refuse(403, "This link cannot be used", str(err))
    found = await service.read_status(claim.workflow_id)
    if found is None:
        return _refuse(404, "Not found", "The creative this link was for no longer exists.")
    status = found.status
    if status.round != claim.round or status.stage != "awaiting_approval":
        return _refuse(
            409,
            "This link is out of date",
            f"It was for review round {claim.round}; the creative is now at "
            f"round {status.round} ({status.stage.replace('_', ' ')}). Nothing "
            "was changed. Use the link from the latest notification.",
            status.permalinks,
        )
    if method == "GET":
        return _page(
            200,
            review_page(
                workflow_id=claim.workflow_id,
                reviewer=claim.reviewer,
                round_=claim.round,
                expires=f"{claim.expires_at:%Y-%m-%d %H:%M}",
                media=_media(status.outputs, presign, present),
                post=status.post.model_dump(mode="json") if status.post else None,
                approvals=[a.model_dump(mode="json") for a in status.approvals],
                # Relative to the page itself: right behind any prefix the URL is served under.
                action=quote(token),
                csrf=csrf_token(secret, token),
                editable=status.editable,
                brand=theme(status.brand, present),
            ),
        )
    if method != "POST":
        return _refuse(405, "Not allowed", "Open the link in a browser.")
    form = {k: v[0] for k, v in parse_qs(body.decode(errors="replace")).items()}
    if not hmac.compare_digest(
        form.get("csrf", "").encode("utf-8", "surrogateescape"), csrf_token(secret, token).encode()
    ):
        return _refuse(
            403,
            "This form cannot be used",
            "The form did not come from this review page: open the link again.",
        )
    decision = form.get("decision", "")
    if decision not in ("approve", "reject", "revise"):
        return _refuse(
            400, "Choose a decision", "decision: use Approve, Reject or Request changes."
        )
    # One decision per link: a second submit (a double tap, a replayed form) changes nothing.
    used = f"review-link#{hashlib.sha256(token.encode()).hexdigest()}"
    if replay.seen(used):
        return _refuse(
            409,
            "Already decided",
            "A decision was already sent with this link. Nothing was changed.",
        )
    edits = {
        key[len("edit:") :]: value.strip()
        for key, value in form.items()
        if key.startswith("edit:")
        and key[len("edit:") :] in status.editable
        and value.strip() != status.editable[key[len("edit:") :]]
    }
    # Through the `approve` Update: the workflow says yes or no before anything is written,
    # and the link is spent only when it said yes.
    accepted, reason = await service.decide(
        claim.workflow_id,
        ApprovalDecision(
            decision=decision,
            reviewer=claim.reviewer,
            comment=form.get("comment", "")[:2000],
            edits=edits if decision == "revise" and edits else None,
        ),
    )
    if not accepted:
        return _refuse(
            409,
            "Not accepted",
            f"The creative did not take this decision: {reason}. Nothing was changed.",
        )
    # Spent for as long as the link itself is valid, not only the signature window.
    replay.first_use(used, until=claim.expires_at.timestamp())
    verb = {
        "approve": "approved",
        "reject": "rejected",
        "revise": "sent back for changes" + (f" ({len(edits)} text changes)" if edits else ""),
    }
    return _refuse(200, "Thank you", f"Round {claim.round} was {verb[decision]}.")


@router.get("/review/<link>", include_in_schema=False)
async def show(link: str) -> Response[str]:
    return await review_answer("GET", link, b"", cast(ReviewDeps, router.context["review"]))


@router.post("/review/<link>", include_in_schema=False)
async def decide(link: str) -> Response[str]:
    body = raw_body(router.current_event.raw_event)
    return await review_answer("POST", link, body, cast(ReviewDeps, router.context["review"]))
