"""Each signed request id is acted on once, across every instance of the function.

A conditional put into the idempotency table (DynamoDB) either claims the id or finds it
taken. A request is remembered with a fingerprint of what it asked and, once answered, the
answer: the same id again with the same request gets that answer again (a client retrying
after a lost response learns what happened); with a different request, a 409; while the
first is still being worked on, a 409 saying so. A request that failed on our side (5xx, or
an exception) is forgotten, so the caller's retry with the same id runs for real. Review
links use the plain once-only form (``first_use``). Items expire by TTL.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from functions.trigger.signing import WINDOW_S


class ReplayGuard:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._db = dynamodb
        self._table = table

    def seen(self, request_id: str) -> bool:
        """Whether ``first_use`` already took this id (and it has not expired)."""
        item = self._db.get_item(
            TableName=self._table,
            ConsistentRead=True,
            Key={"pk": {"S": f"trigger-request#{request_id}"}},
        ).get("Item")
        return bool(item) and int(item["expires_at"]["N"]) > time.time()

    def first_use(self, request_id: str, until: float | None = None) -> bool:
        """Take ``request_id`` once. It stays taken for twice the signature window, or until
        ``until`` (epoch seconds) when that is later: a review link is single-use for as
        long as it is valid."""
        expires = max(int(time.time()) + 2 * WINDOW_S, int(until or 0) + 1)
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": f"trigger-request#{request_id}"},
                    "expires_at": {"N": str(expires)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


@dataclass(frozen=True)
class Earlier:
    """What a request id already stands for: an answer to repeat, or why it cannot run."""

    status: int
    body: dict[str, Any]


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(f"{method.upper()} {path}\n".encode() + body).hexdigest()


class RequestLog(ReplayGuard):
    """Signed requests by id: begin, then finish with the answer (or forget on failure)."""

    def _key(self, request_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"trigger-request#{request_id}"}}

    def begin(self, request_id: str, print_: str) -> Earlier | None:
        """None: this request is the first with its id and may run. Else what to answer."""
        now = int(time.time())
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    **self._key(request_id),
                    "fingerprint": {"S": print_},
                    "state": {"S": "running"},
                    "expires_at": {"N": str(now + 2 * WINDOW_S)},
                },
                # An expired record (TTL deletes lazily) counts as absent.
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
            return None
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        item = self._db.get_item(
            TableName=self._table, Key=self._key(request_id), ConsistentRead=True
        ).get("Item", {})
        if item.get("fingerprint", {}).get("S") != print_:
            return Earlier(
                409,
                {
                    "error": "x-smm-request-id: already used for a different "
                    "request; use a new id for a new request",
                    "field": "x-smm-request-id",
                },
            )
        if item.get("state", {}).get("S") == "done":
            return Earlier(int(item["status"]["N"]), json.loads(item["answer"]["S"]))
        return Earlier(
            409,
            {
                "error": "x-smm-request-id: this request is still being worked "
                "on; retry in a few seconds",
                "field": "x-smm-request-id",
            },
        )

    def finish(self, request_id: str, status: int, body: dict[str, Any]) -> None:
        """Remember the answer; a 5xx is forgotten instead, so a retry runs again."""
        if status >= 500:
            self.forget(request_id)
            return
        self._db.update_item(
            TableName=self._table,
            Key=self._key(request_id),
            UpdateExpression="SET #s = :done, #st = :status, answer = :answer",
            ExpressionAttributeNames={"#s": "state", "#st": "status"},
            ExpressionAttributeValues={
                ":done": {"S": "done"},
                ":status": {"N": str(status)},
                ":answer": {"S": json.dumps(body)},
            },
        )

    def forget(self, request_id: str) -> None:
        self._db.delete_item(TableName=self._table, Key=self._key(request_id))
