"""Signed review links: bound to one workflow, round and reviewer, until they expire."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from moto import mock_aws

from functions.trigger.replay import ReplayGuard
from functions.trigger.signing import WINDOW_S
from smm_runtime.review_links import (
    ReviewClaim,
    ReviewLinkError,
    csrf_token,
    sign_link,
    verify_link,
)
from tests.idempotency_table import idempotency_table

SECRET = b"review-secret"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CLAIM = ReviewClaim("payload-posts-1", 2, "ana@example.com", NOW + timedelta(days=7))


def test_a_signed_link_verifies_to_exactly_what_it_was_issued_for() -> None:
    assert verify_link(SECRET, sign_link(SECRET, CLAIM), NOW) == CLAIM


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # the mac
        lambda t: t.split(".")[0],  # cut short
        lambda t: sign_link(b"other-secret", CLAIM),  # signed with another key
        lambda t: (
            sign_link(
                SECRET, ReviewClaim("payload-posts-1", 3, "ana@example.com", CLAIM.expires_at)
            ).split(".")[0]
            + "."
            + t.split(".")[1]
        ),  # a later round's claims with this round's mac
    ],
)
def test_a_tampered_link_is_refused(tamper: object) -> None:
    token = sign_link(SECRET, CLAIM)
    with pytest.raises(ReviewLinkError, match="not valid"):
        verify_link(SECRET, tamper(token), NOW)  # type: ignore[operator]


def test_an_expired_link_is_refused() -> None:
    with pytest.raises(ReviewLinkError, match="expired"):
        verify_link(SECRET, sign_link(SECRET, CLAIM), CLAIM.expires_at)


def test_the_csrf_value_is_bound_to_the_link() -> None:
    one, two = (
        sign_link(SECRET, CLAIM),
        sign_link(SECRET, ReviewClaim("payload-posts-2", 1, "ana@example.com", CLAIM.expires_at)),
    )
    assert csrf_token(SECRET, one) == csrf_token(SECRET, one) != csrf_token(SECRET, two)


@pytest.mark.parametrize(
    "token",
    [
        "é.ñ",
        "abc.dÉf",
        "x.\udcff",
        "....",
        "",
        "a" * 5000,
        "bm90IGpzb24.x",
        "W10." + "A" * 43,  # a JSON array, not an object
    ],
)
def test_any_malformed_link_is_refused_never_raises_anything_else(token: str) -> None:
    with pytest.raises(ReviewLinkError):
        verify_link(SECRET, token, NOW)


def test_a_spent_link_stays_spent_as_long_as_it_is_valid() -> None:
    """The single-use record outlives the signature window (600 s): it lasts until the link
    itself expires, so a link used on day one cannot be used again on day six."""
    with mock_aws():
        db = idempotency_table()
        guard = ReplayGuard(db, "idem")
        week = time.time() + 7 * 86_400
        assert guard.first_use("review-link#abc", until=week)
        item = db.get_item(TableName="idem", Key={"pk": {"S": "trigger-request#review-link#abc"}})
        assert int(item["Item"]["expires_at"]["N"]) >= int(week)
        assert not guard.first_use("review-link#abc", until=week)
        assert guard.first_use("request-1")  # a request id: the signature window only
        plain = db.get_item(TableName="idem", Key={"pk": {"S": "trigger-request#request-1"}})
        assert int(plain["Item"]["expires_at"]["N"]) <= time.time() + 2 * WINDOW_S + 1
