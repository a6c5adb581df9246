"""The holds still held, read from the ledger table's sparse OpenHolds index.

A hold carries ``open_hold`` from its reserve until it is settled (``smm_runtime.ledger``
sets and removes it in the same transactions that change its status), so the index holds
the open holds alone and the hold sweeper reads those instead of scanning every entry of
every account. Holds reserved by an earlier release lack the attribute, and during a rolling
deploy its workers still reserve such holds: so reads index them in a scan, and keep doing so
for ``ROLLOUT`` after the first pass (recorded in ``INDEXED``), time for every old worker to
be drained; then they never scan again. Several workers doing a pass at once write the same
values.

During that rollout an old worker also settles holds the pass has indexed, without removing
the attribute: a read drops such settled entries from the index (``_unlist``) and lists only
holds whose status is held.

The index is eventually consistent: a hold settled a moment ago may still be listed (the
sweeper's release of a settled hold is a no-op) and one reserved a moment ago may not yet
be (the sweeper leaves young holds alone anyway).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

INDEX = "OpenHolds"
ATTRIBUTE = "open_hold"
HELD = {"S": "held"}
INDEXED = {"pk": {"S": "ledger#meta"}, "sk": {"S": "open-holds-indexed"}}
ROLLOUT = timedelta(days=1)  # docs/operations.md: a rolling deploy ends well within it


def _pages(call: Any, **kwargs: Any) -> Any:
    while True:
        page = call(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def index_old_holds(db: Any, table: str, now: datetime | None = None) -> int | None:
    """Give every held hold without ``open_hold`` the attribute; returns how many it gave, or
    None once the rollout window after the first pass has passed (no scan then)."""
    now = now or datetime.now(UTC)
    first = db.get_item(TableName=table, Key=INDEXED, ConsistentRead=True).get("Item")
    if first and now - datetime.fromisoformat(first["at"]["S"]) > ROLLOUT:
        return None
    given = 0
    for item in _pages(
        db.scan,
        TableName=table,
        ConsistentRead=True,
        FilterExpression="begins_with(sk, :hold) AND #s = :held AND attribute_not_exists(#o)",
        ExpressionAttributeNames={"#s": "status", "#o": ATTRIBUTE},
        ExpressionAttributeValues={":hold": {"S": "hold#"}, ":held": HELD},
    ):
        try:
            db.update_item(
                TableName=table,
                Key={"pk": item["pk"], "sk": item["sk"]},
                UpdateExpression="SET #o = :held",
                ConditionExpression="#s = :held",  # settled since the scan: leave it out
                ExpressionAttributeNames={"#s": "status", "#o": ATTRIBUTE},
                ExpressionAttributeValues={":held": HELD},
            )
            given += 1
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
    if first is None:  # the window counts from the first pass: never moved by later ones
        db.put_item(TableName=table, Item={**INDEXED, "at": {"S": now.isoformat()}})
    return given


def _unlist(db: Any, table: str, item: dict[str, Any]) -> None:
    """Drop a settled hold from the index (an old worker settled it after the pass)."""
    try:
        db.update_item(
            TableName=table,
            Key={"pk": item["pk"], "sk": item["sk"]},
            UpdateExpression="REMOVE #o",
            ConditionExpression="#s <> :held",
            ExpressionAttributeNames={"#s": "status", "#o": ATTRIBUTE},
            ExpressionAttributeValues={":held": HELD},
        )
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def open_holds(db: Any, table: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every hold still held, with its owner."""
    index_old_holds(db, table, now)
    holds = []
    for item in _pages(
        db.query,
        TableName=table,
        IndexName=INDEX,
        KeyConditionExpression="#o = :held",
        ExpressionAttributeNames={"#o": ATTRIBUTE},
        ExpressionAttributeValues={":held": HELD},
    ):
        if item.get("status") != HELD:
            _unlist(db, table, item)
            continue
        holds.append(
            {
                "account": item["pk"]["S"].removeprefix("account#"),
                "hold_id": item["sk"]["S"].removeprefix("hold#"),
                "amount": int(item["amount"]["N"]),
                "at": item.get("at", {}).get("S"),
                "workflow_id": item.get("owner_workflow_id", {}).get("S"),
                "run_id": item.get("owner_run_id", {}).get("S"),
            }
        )
    return holds
