"""The ledger's invariants over random interleavings of grant/reserve/capture/release,
including duplicates and retries, against moto's DynamoDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from moto import mock_aws

from smm_local.template import repo_table_spec
from smm_runtime.ledger import InsufficientCreditsError, Ledger, LedgerConflictError

ACCOUNT = "acme"
HOLDS = st.sampled_from([f"render-{i}" for i in range(5)])
RUNS: dict[str, int] = {"examples": 0, "steps": 0}


def make_table(db: Any) -> str:
    name = f"ledger-{uuid.uuid4().hex[:8]}"
    db.create_table(**repo_table_spec("LedgerTable", name))
    return name


class LedgerMachine(RuleBasedStateMachine):
    """Runs the real Ledger and a plain model side by side; they must always agree."""

    db: Any = None

    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger(self.db, make_table(self.db))
        self.balance = self.granted = self.captured = 0
        self.holds: dict[str, dict[str, Any]] = {}
        self.done: dict[str, Any] = {}
        RUNS["examples"] += 1

    def step(self) -> None:
        RUNS["steps"] += 1

    @rule(amount=st.integers(1, 500), repeat=st.integers(0, 3))
    def grant(self, amount: int, repeat: int) -> None:
        self.step()
        key = f"grant-{len(self.done) % 4 if repeat == 0 else uuid.uuid4().hex}"
        first = self.done.get(key)
        result = self.ledger.grant(ACCOUNT, amount, key)
        if first is None:
            self.done[key] = result
            self.balance += amount
            self.granted += amount
        else:
            assert result == first  # a repeated grant returns the first result, no effect

    @rule(hold=HOLDS, amount=st.integers(0, 400))
    def reserve(self, hold: str, amount: int) -> None:
        self.step()
        key = f"{hold}:reserve"
        if key in self.done:
            assert self.ledger.reserve(ACCOUNT, hold, amount, key) == self.done[key]
            return
        if amount > self.balance:
            with pytest.raises(InsufficientCreditsError):
                self.ledger.reserve(ACCOUNT, hold, amount, key)
            return
        self.done[key] = self.ledger.reserve(ACCOUNT, hold, amount, key)
        self.holds[hold] = {"amount": amount, "status": "held", "captured": 0}
        self.balance -= amount

    @rule(hold=HOLDS, actual=st.integers(0, 600))
    def capture(self, hold: str, actual: int) -> None:
        self.step()
        key = f"{hold}:capture"
        if key in self.done:
            assert self.ledger.capture(ACCOUNT, hold, actual, key) == self.done[key]
            return
        state = self.holds.get(hold)
        if state is None or state["status"] != "held":
            with pytest.raises(LedgerConflictError):
                self.ledger.capture(ACCOUNT, hold, actual, key)
            return
        self.done[key] = self.ledger.capture(ACCOUNT, hold, actual, key)
        charged = min(actual, state["amount"])
        state.update(status="captured", captured=charged)
        self.balance += state["amount"] - charged
        self.captured += charged

    @rule(hold=HOLDS)
    def release(self, hold: str) -> None:
        self.step()
        key = f"{hold}:release"
        state = self.holds.get(hold)
        result = self.ledger.release(ACCOUNT, hold, key)
        if key in self.done:
            assert result == self.done[key]
        elif state is not None and state["status"] == "held":
            self.done[key] = result
            state["status"] = "released"
            self.balance += state["amount"]
        else:
            assert result.get("noop") is True

    @invariant()
    def books_balance(self) -> None:
        current = self.ledger.balance(ACCOUNT)
        held = sum(h["amount"] for h in self.holds.values() if h["status"] == "held")
        assert current.granted == current.balance + current.captured + current.held
        assert current.balance >= 0
        assert (current.balance, current.held, current.granted, current.captured) == (
            self.balance,
            held,
            self.granted,
            self.captured,
        )

    @invariant()
    def each_hold_settled_at_most_once(self) -> None:
        # Every hold of the account in one query (one call, where a get per hold made this
        # invariant most of the test's time against moto); read as Ledger.hold reads one.
        stored = {}
        for item in self.db.query(
            TableName=self.ledger._table,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :hold)",
            ExpressionAttributeValues={":pk": {"S": f"account#{ACCOUNT}"}, ":hold": {"S": "hold#"}},
        )["Items"]:
            stored[item["sk"]["S"].removeprefix("hold#")] = {
                "status": item["status"]["S"],
                "captured": int(item.get("captured", {}).get("N", "0")),
            }
        assert stored == {
            hold: {"status": state["status"], "captured": state["captured"]}
            for hold, state in self.holds.items()
        }

    def teardown(self) -> None:
        # The product's own reader of a hold agrees with the model at the end of each run.
        for hold, state in self.holds.items():
            assert self.ledger.hold(ACCOUNT, hold) == state


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


# A thousand interleavings against moto take about three minutes on two cores; the default
# five-minute timeout left no room on a loaded machine.
@pytest.mark.timeout(900)
def test_ledger_invariants_hold_over_a_thousand_random_interleavings(dynamodb: Any) -> None:
    LedgerMachine.db = dynamodb
    RUNS.update(examples=0, steps=0)
    test = LedgerMachine.TestCase
    test.settings = settings(
        max_examples=1000,
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    test().runTest()
    print(f"\nledger invariants: {RUNS['examples']} interleavings, {RUNS['steps']} operations")
    assert RUNS["examples"] >= 1000


def test_history_lists_each_operation_once_newest_first(dynamodb: Any) -> None:
    ledger = Ledger(dynamodb, make_table(dynamodb))
    ledger.grant("acme", 100, "grant:2026-11")
    ledger.grant("acme", 100, "grant:2026-11")  # the schedule fired twice: one grant
    ledger.reserve("acme", "wf-1", 30, "wf-1:reserve")
    ledger.capture("acme", "wf-1", 12, "wf-1:capture")
    history = ledger.history("acme")
    assert [e["op"] for e in history] == ["capture", "reserve", "grant"]
    assert history[0]["released"] == 18
    assert ledger.balance("acme").balance == 88
