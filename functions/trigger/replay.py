"""Each signed request id is accepted once, across every instance of the function.

A conditional put into the idempotency table (DynamoDB) either claims the id or finds it
taken; the item expires by TTL once the signature window has passed anyway.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from functions.trigger.signing import WINDOW_S


class ReplayGuard:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._db = dynamodb
        self._table = table

    def seen(self, request_id: str) -> bool:
        """Whether ``first_use`` already took this id (and it has not expired)."""
        item = self._db.get_item(TableName=self._table, ConsistentRead=True,
                                 Key={"pk": {"S": f"trigger-request#{request_id}"}}).get("Item")
        return bool(item) and int(item["expires_at"]["N"]) > time.time()

    def first_use(self, request_id: str, until: float | None = None) -> bool:
        """Take ``request_id`` once. It stays taken for twice the signature window, or until
        ``until`` (epoch seconds) when that is later: a review link is single-use for as
        long as it is valid."""
        expires = max(int(time.time()) + 2 * WINDOW_S, int(until or 0) + 1)
        try:
            self._db.put_item(
                TableName=self._table,
                Item={"pk": {"S": f"trigger-request#{request_id}"},
                      "expires_at": {"N": str(expires)}},
                ConditionExpression="attribute_not_exists(pk)")
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
