"""Signed review links: bound to one workflow, round and reviewer, until they expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smm_runtime.review_links import (
    ReviewClaim,
    ReviewLinkError,
    csrf_token,
    sign_link,
    verify_link,
)

SECRET = b"review-secret"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CLAIM = ReviewClaim("payload-posts-1", 2, "ana@example.com", NOW + timedelta(days=7))


def test_a_signed_link_verifies_to_exactly_what_it_was_issued_for() -> None:
    assert verify_link(SECRET, sign_link(SECRET, CLAIM), NOW) == CLAIM


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # the mac
    lambda t: t.split(".")[0],  # cut short
    lambda t: sign_link(b"other-secret", CLAIM),  # signed with another key
    lambda t: sign_link(SECRET, ReviewClaim("payload-posts-1", 3, "ana@example.com",
                                            CLAIM.expires_at)).split(".")[0] + "." +
    t.split(".")[1],  # a later round's claims with this round's mac
])
def test_a_tampered_link_is_refused(tamper: object) -> None:
    token = sign_link(SECRET, CLAIM)
    with pytest.raises(ReviewLinkError, match="not valid"):
        verify_link(SECRET, tamper(token), NOW)  # type: ignore[operator]


def test_an_expired_link_is_refused() -> None:
    with pytest.raises(ReviewLinkError, match="expired"):
        verify_link(SECRET, sign_link(SECRET, CLAIM), CLAIM.expires_at)


def test_the_csrf_value_is_bound_to_the_link() -> None:
    one, two = sign_link(SECRET, CLAIM), sign_link(SECRET, ReviewClaim(
        "payload-posts-2", 1, "ana@example.com", CLAIM.expires_at))
    assert csrf_token(SECRET, one) == csrf_token(SECRET, one) != csrf_token(SECRET, two)
