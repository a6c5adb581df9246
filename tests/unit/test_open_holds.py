"""The hold sweeper reads open holds from the sparse OpenHolds index, not a scan of the whole
ledger: a hold is listed from its reserve until it is settled. Holds an earlier release
reserved (no index attribute) are indexed by a scan, repeated through the rollout window of
a rolling deploy (old workers still reserve them) and never after. Real ledger code on moto's
DynamoDB, the table shaped as template.yaml declares it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto import mock_aws

from smm_runtime.ledger import Ledger
from smm_runtime.open_holds import ROLLOUT, index_old_holds, open_holds
from tests.ledger_table import ledger_table


@pytest.fixture
def db() -> Iterator[Any]:
    with mock_aws():
        yield ledger_table("ledger")


def old_release_hold(db: Any, account: str, hold_id: str) -> None:
    """A hold as release 0.1.0 wrote it: reserved, without the index attribute."""
    Ledger(db, "ledger").reserve(account, hold_id, 7, f"reserve:{hold_id}")
    db.update_item(
        TableName="ledger",
        Key={"pk": {"S": f"account#{account}"}, "sk": {"S": f"hold#{hold_id}"}},
        UpdateExpression="REMOVE open_hold",
    )


def test_a_hold_is_listed_from_its_reserve_until_it_is_settled(db: Any) -> None:
    ledger = Ledger(db, "ledger")
    ledger.grant("acme", 100, "g")
    for name in ("a", "b", "c"):
        ledger.reserve("acme", name, 10, f"reserve:{name}", {"workflow_id": f"wf-{name}"})
    ledger.capture("acme", "a", 4, "capture:a")
    ledger.release("acme", "b", "release:b")
    holds = ledger.open_holds()
    assert [(h["hold_id"], h["amount"], h["workflow_id"]) for h in holds] == [("c", 10, "wf-c")]
    settled = db.get_item(
        TableName="ledger", Key={"pk": {"S": "account#acme"}, "sk": {"S": "hold#a"}}
    )
    assert "open_hold" not in settled["Item"]  # out of the index, not only filtered


def test_holds_of_an_earlier_release_are_indexed_through_the_rollout_only(db: Any) -> None:
    ledger = Ledger(db, "ledger")
    ledger.grant("acme", 100, "g")
    old_release_hold(db, "acme", "before-upgrade")
    start = datetime.now(UTC)
    assert index_old_holds(db, "ledger", start) == 1
    assert [h["hold_id"] for h in ledger.open_holds()] == ["before-upgrade"]
    # An old worker still running in the rolling deploy reserves another: the next pass,
    # inside the window, indexes it too.
    old_release_hold(db, "acme", "during-rollout")
    assert index_old_holds(db, "ledger", start + timedelta(hours=2)) == 1
    assert len(ledger.open_holds()) == 2
    # After the window the pass is over for good: no scan, whatever later passes see.
    old_release_hold(db, "acme", "after-rollout")
    late = start + ROLLOUT + timedelta(minutes=1)
    assert index_old_holds(db, "ledger", late) is None
    assert len(open_holds(db, "ledger", late)) == 2
    ledger.release("acme", "before-upgrade", "release:old")
    assert [h["hold_id"] for h in open_holds(db, "ledger", late)] == ["during-rollout"]


def test_a_hold_an_old_worker_settles_after_the_pass_leaves_the_index(db: Any) -> None:
    """In a rolling deploy the pass indexes a hold, then a worker of the earlier release
    captures it without removing the attribute (release 0.1.0's update): it must not be
    listed as open, nor stay in the index."""
    ledger = Ledger(db, "ledger")
    ledger.grant("acme", 100, "g")
    old_release_hold(db, "acme", "mid-render")
    assert [h["hold_id"] for h in ledger.open_holds()] == ["mid-render"]
    key = {"pk": {"S": "account#acme"}, "sk": {"S": "hold#mid-render"}}
    db.update_item(  # what the earlier release's capture writes to the hold
        TableName="ledger",
        Key=key,
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": {"S": "captured"}},
    )
    assert ledger.open_holds() == []
    assert "open_hold" not in db.get_item(TableName="ledger", Key=key)["Item"]
