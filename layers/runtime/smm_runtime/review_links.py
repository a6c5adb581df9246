"""Signed review links: one reviewer, one workflow, one revision round, until an expiry.

A link token is `<claims>.<mac>`: base64url JSON claims and an HMAC-SHA256 over them with
the review-link secret (never the trigger's API secret, so a leaked link cannot sign API
calls). The token is the reviewer's only credential, so it names exactly what it allows;
a later round needs a new link, and the trigger refuses a token after its expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime


class ReviewLinkError(Exception):
    """The link cannot be used; the message is safe to show the reviewer."""


@dataclass(frozen=True)
class ReviewClaim:
    workflow_id: str
    round: int
    reviewer: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, claims: str) -> str:
    return _b64(hmac.new(secret, b"review-link:" + claims.encode(), hashlib.sha256).digest())


def sign_link(secret: bytes, claim: ReviewClaim) -> str:
    body = _b64(
        json.dumps(
            {
                "w": claim.workflow_id,
                "r": claim.round,
                "u": claim.reviewer,
                "e": int(claim.expires_at.timestamp()),
            },
            separators=(",", ":"),
        ).encode()
    )
    return f"{body}.{_mac(secret, body)}"


def verify_link(secret: bytes, token: str, now: datetime | None = None) -> ReviewClaim:
    body, dot, mac = token.partition(".")
    # On bytes: compare_digest refuses a str with non-ASCII characters (a TypeError, which
    # was a 502), and a link is any string a browser sends.
    if not dot or not hmac.compare_digest(
        mac.encode("utf-8", "surrogateescape"), _mac(secret, body).encode()
    ):
        raise ReviewLinkError(
            "This review link is not valid: it was changed or cut short. "
            "Open the link from the latest notification."
        )
    try:
        data = json.loads(_unb64(body))
        if not isinstance(data, dict):
            raise TypeError("not an object")
        claim = ReviewClaim(
            workflow_id=str(data["w"]),
            round=int(data["r"]),
            reviewer=str(data["u"]),
            expires_at=datetime.fromtimestamp(int(data["e"]), UTC),
        )
    except (ValueError, KeyError, TypeError):
        raise ReviewLinkError("This review link is not valid.") from None
    if (now or datetime.now(UTC)) >= claim.expires_at:
        raise ReviewLinkError("This review link has expired: the approval window closed.")
    return claim


def csrf_token(secret: bytes, token: str) -> str:
    """The form's anti-forgery value: bound to the link, useless without it."""
    return _b64(hmac.new(secret, b"review-csrf:" + token.encode(), hashlib.sha256).digest())
