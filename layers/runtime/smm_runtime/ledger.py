"""The credit ledger in DynamoDB: money-like state, so every write is one transaction.

One table. Per account a state item (balance, held, granted, captured) and per hold an item
(amount, status, owner); per operation an entry keyed by its idempotency key. A hold's id is
the business id (workflow id + round) and the run that reserved it: a retried or replayed
operation of that run finds its key and is a no-op, while a reset or a re-run under the same
workflow id holds anew instead of reusing (and then failing to capture) the last run's hold.
Each write puts its entry with ``attribute_not_exists``: a repeated operation cancels as a
whole and returns the entry the first one wrote. So at every moment: granted = balance +
captured + held, balance >= 0, and a hold is captured or released at most once. A hold whose
owning run has closed without settling it is released by the sweeper (``open_holds``, read
from the sparse OpenHolds index).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from smm_runtime.open_holds import ATTRIBUTE as OPEN_ATTRIBUTE
from smm_runtime.open_holds import HELD as OPEN
from smm_runtime.open_holds import open_holds

STATE = "state"


class InsufficientCreditsError(Exception):
    def __init__(self, account: str, needed: int, balance: int) -> None:
        super().__init__(
            f"account {account!r} has {balance} credits; this needs {needed} "
            "(grant more credits or lower the estimate)"
        )
        self.needed = needed
        self.balance = balance


class LedgerConflictError(Exception):
    """An operation that contradicts the ledger (e.g. capturing a released hold)."""


class LedgerBusyError(Exception):
    """The account's items stayed in other transactions through every retry: transient (the
    caller's own retries, an activity's, will get through)."""


# DynamoDB cancels a transaction whose item another ongoing transaction holds
# (TransactionConflict) and refuses a single write to it (TransactionConflictException):
# both transient, retried here with full jitter (AWS Architecture Blog, "Exponential Backoff
# And Jitter"). Nothing of a cancelled transaction was applied, so a retry cannot double.
CONFLICT_ATTEMPTS = 10
CONFLICT_BASE_S = 0.025
CONFLICT_CAP_S = 2.0


@dataclass(frozen=True)
class Balance:
    account: str
    balance: int
    held: int
    granted: int
    captured: int


def _n(value: int) -> dict[str, str]:
    return {"N": str(int(value))}


class Ledger:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._db = dynamodb
        self._table = table
        self.conflicts = 0  # transaction conflicts met and retried (the soak reports them)

    # --- reads ------------------------------------------------------------------------------

    def balance(self, account: str) -> Balance:
        item = self._db.get_item(
            TableName=self._table, ConsistentRead=True, Key=self._key(account, STATE)
        ).get("Item", {})

        def num(name: str) -> int:
            return int(item.get(name, {}).get("N", "0"))

        return Balance(account, num("balance"), num("held"), num("granted"), num("captured"))

    def history(self, account: str, limit: int = 50) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :op)",
            "ExpressionAttributeValues": {":pk": {"S": f"account#{account}"}, ":op": {"S": "op#"}},
        }
        while True:
            page = self._db.query(**kwargs)
            entries += [json.loads(i["result"]["S"]) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(entries, key=lambda e: e["at"], reverse=True)[:limit]

    def hold(self, account: str, hold_id: str) -> dict[str, Any] | None:
        item = self._db.get_item(
            TableName=self._table, ConsistentRead=True, Key=self._key(account, f"hold#{hold_id}")
        ).get("Item")
        if item is None:
            return None
        return {
            "amount": int(item["amount"]["N"]),
            "status": item["status"]["S"],
            "captured": int(item.get("captured", {}).get("N", "0")),
        }

    def open_holds(self) -> list[dict[str, Any]]:
        """Every hold still held, with its owner (the sparse OpenHolds index)."""
        return open_holds(self._db, self._table)

    # --- writes -----------------------------------------------------------------------------

    def grant(self, account: str, amount: int, key: str) -> dict[str, Any]:
        if amount <= 0:
            raise ValueError("amount: a grant is positive")
        entry = self._entry("grant", account, key, amount=amount)
        return self._transact(
            account,
            key,
            entry,
            [
                self._update_state(
                    account,
                    "SET balance = if_not_exists(balance, :z) + :a, "
                    "granted = if_not_exists(granted, :z) + :a, "
                    "held = if_not_exists(held, :z), captured = if_not_exists(captured, :z)",
                    {":a": _n(amount), ":z": _n(0)},
                )
            ],
        )

    def reserve(
        self, account: str, hold_id: str, amount: int, key: str, owner: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Hold ``amount``; ``owner`` (workflow_id, run_id) lets the sweeper find a hold
        whose run closed without settling it."""
        if amount < 0:
            raise ValueError("amount: a reservation is not negative")
        entry = self._entry("reserve", account, key, hold=hold_id, amount=amount)
        item = {
            **self._key(account, f"hold#{hold_id}"),
            "amount": _n(amount),
            "status": {"S": "held"},
            "at": {"S": entry["at"]},
            OPEN_ATTRIBUTE: OPEN,  # listed in OpenHolds until it is settled
        }
        item.update({f"owner_{k}": {"S": v} for k, v in (owner or {}).items()})
        hold = {
            "Put": {
                "TableName": self._table,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(sk)",
            }
        }
        state = self._update_state(
            account,
            "SET balance = if_not_exists(balance, :z) - :a, "
            "held = if_not_exists(held, :z) + :a, "
            "granted = if_not_exists(granted, :z), captured = if_not_exists(captured, :z)",
            {":a": _n(amount), ":z": _n(0)},
            condition="balance >= :a OR (attribute_not_exists(balance) AND :a = :z)",
        )
        try:
            return self._transact(account, key, entry, [hold, state])
        except LedgerConflictError as err:
            current = self.balance(account)
            if "state" in str(err):
                raise InsufficientCreditsError(account, amount, current.balance) from None
            raise

    def capture(self, account: str, hold_id: str, actual: int, key: str) -> dict[str, Any]:
        """Charge ``actual`` (at most what is held) and give back the rest."""
        existing = self._existing(account, key)
        if existing is not None:
            return existing
        hold = self.hold(account, hold_id)
        if hold is None or hold["status"] != "held":
            raise LedgerConflictError(
                f"hold {hold_id!r} is not held (it is {hold['status'] if hold else 'missing'})"
            )
        charged = max(0, min(actual, hold["amount"]))
        entry = self._entry(
            "capture",
            account,
            key,
            hold=hold_id,
            amount=charged,
            requested=actual,
            released=hold["amount"] - charged,
        )
        return self._transact(
            account,
            key,
            entry,
            [
                self._settle_hold(account, hold_id, hold["amount"], "captured", charged),
                self._update_state(
                    account,
                    "SET held = held - :h, balance = balance + :r, captured = captured + :c",
                    {
                        ":h": _n(hold["amount"]),
                        ":r": _n(hold["amount"] - charged),
                        ":c": _n(charged),
                    },
                ),
            ],
        )

    def release(self, account: str, hold_id: str, key: str) -> dict[str, Any]:
        existing = self._existing(account, key)
        if existing is not None:
            return existing
        hold = self.hold(account, hold_id)
        if hold is None or hold["status"] != "held":
            # Nothing held (never reserved, or already settled): releasing is then a no-op.
            return {
                "op": "release",
                "account": account,
                "key": key,
                "hold": hold_id,
                "amount": 0,
                "noop": True,
            }
        entry = self._entry("release", account, key, hold=hold_id, amount=hold["amount"])
        return self._transact(
            account,
            key,
            entry,
            [
                self._settle_hold(account, hold_id, hold["amount"], "released", 0),
                self._update_state(
                    account,
                    "SET held = held - :h, balance = balance + :h",
                    {":h": _n(hold["amount"])},
                ),
            ],
        )

    # --- plumbing ---------------------------------------------------------------------------

    def _key(self, account: str, sk: str) -> dict[str, dict[str, str]]:
        return {"pk": {"S": f"account#{account}"}, "sk": {"S": sk}}

    def _entry(self, op: str, account: str, key: str, **fields: Any) -> dict[str, Any]:
        return {
            "op": op,
            "account": account,
            "key": key,
            "at": datetime.now(UTC).isoformat(),
            **fields,
        }

    def _update_state(
        self, account: str, expression: str, values: dict[str, Any], condition: str | None = None
    ) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(account, STATE),
            "UpdateExpression": expression,
            "ExpressionAttributeValues": values,
        }
        if condition:
            update["ConditionExpression"] = condition
        return {"Update": update}

    def _settle_hold(
        self, account: str, hold_id: str, amount: int, status: str, captured: int
    ) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": self._key(account, f"hold#{hold_id}"),
                "UpdateExpression": f"SET #s = :new, captured = :c REMOVE {OPEN_ATTRIBUTE}",
                "ConditionExpression": "#s = :held AND amount = :amt",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {
                    ":new": {"S": status},
                    ":held": {"S": "held"},
                    ":amt": _n(amount),
                    ":c": _n(captured),
                },
            }
        }

    def _existing(self, account: str, key: str) -> dict[str, Any] | None:
        item = self._db.get_item(
            TableName=self._table, ConsistentRead=True, Key=self._key(account, f"op#{key}")
        ).get("Item")
        return json.loads(item["result"]["S"]) if item else None

    def _transact(
        self, account: str, key: str, entry: dict[str, Any], writes: list[dict[str, Any]]
    ) -> dict[str, Any]:
        put_entry = {
            "Put": {
                "TableName": self._table,
                "Item": {**self._key(account, f"op#{key}"), "result": {"S": json.dumps(entry)}},
                "ConditionExpression": "attribute_not_exists(sk)",
            }
        }
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self._db.transact_write_items(TransactItems=[put_entry, *writes])
                return entry
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = err.response.get("CancellationReasons") or []
                codes = [r.get("Code", "None") for r in reasons]
            if "TransactionConflict" not in codes or "ConditionalCheckFailed" in codes:
                return self._cancelled(account, key, entry, writes, codes)
            self.conflicts += 1
            time.sleep(random.uniform(0, min(CONFLICT_CAP_S, CONFLICT_BASE_S * 2**attempt)))
        raise LedgerBusyError(
            f"{entry['op']} {key}: the account stayed in other transactions through "
            f"{CONFLICT_ATTEMPTS} attempts; retry"
        )

    def _cancelled(
        self, account: str, key: str, entry: dict[str, Any], writes: list[dict[str, Any]],
        codes: list[str],
    ) -> dict[str, Any]:  # fmt: skip
        """A transaction cancelled by its conditions: a repeat of an applied operation (its
        first answer), or an operation the ledger's state refuses."""
        if codes and codes[0] == "ConditionalCheckFailed":
            first = self._existing(account, key)  # a repeat: answer as the first time
            if first is not None:
                return first
        failed = [i for i, c in enumerate(codes) if c == "ConditionalCheckFailed"]
        where = "state" if failed and failed[-1] == len(writes) else "hold"
        raise LedgerConflictError(f"{entry['op']} {key}: condition failed on {where} ({codes})")
