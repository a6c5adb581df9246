"""DynamoDB's and S3's answers to concurrent writes, in front of moto (which serializes them
and so never conflicts): the conflicts the product must treat as transient happen here too.

DynamoDB (Developer Guide, "Amazon DynamoDB Transactions: How it works", section
"Transaction conflict handling in DynamoDB",
docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html): a
TransactWriteItems whose item is part of another ongoing TransactWriteItems is cancelled
(``TransactionCanceledException``, that item's reason ``TransactionConflict``); a PutItem,
UpdateItem or DeleteItem on an item of an ongoing TransactWriteItems is refused with
``TransactionConflictException``. Reads (GetItem, Query, Scan) do not conflict. A transaction
is "ongoing" here for ``window_s`` before it applies: the time its items are held, as
DynamoDB's two-phase protocol holds them.

S3 (User Guide, "Add preconditions to S3 operations with conditional requests", conditional
writes): "You can also receive a 409 Conflict response in the case of concurrent requests if a
delete request to an object succeeds before a conditional write operation on that object
completes", and such an upload may be retried. A conditional PUT (If-None-Match / If-Match)
is in progress here for ``window_s``; a DELETE of its key that succeeds meanwhile makes it
answer ``409 ConditionalRequestConflict`` without writing.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]
KeyOf = Callable[[str, dict[str, Any]], str]  # (table, item or key) -> the item's identity


def _json_error(
    start_response: StartResponse, kind: str, message: str, **extra: Any
) -> Iterable[bytes]:
    data = json.dumps(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{kind}", "message": message, **extra}
    ).encode()
    start_response(
        "400 Bad Request",
        [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(data)))],
    )
    return [data]


def moto_key_of(table: str, item: dict[str, Any]) -> str:
    """An item's primary key, by the table's key schema in moto's backend."""
    from moto.dynamodb.models import dynamodb_backends

    from smm_local.iam import ACCOUNT, REGION

    found = dynamodb_backends[ACCOUNT][REGION].get_table(table)
    names = [found.hash_key_attr, *([found.range_key_attr] if found.range_key_attr else [])]
    return json.dumps([table, *(item.get(n) for n in names)], sort_keys=True)


@dataclass
class Contention:
    """WSGI middleware: conflicts as DynamoDB and S3 produce them, counted."""

    app: App
    window_s: float = 0.02
    key_of: KeyOf = moto_key_of
    held: dict[str, int] = field(default_factory=dict)  # item -> transactions holding it
    writing: dict[str, set[object]] = field(default_factory=dict)  # S3 key -> its writes
    deleted: set[object] = field(default_factory=set)  # writes whose key was deleted meanwhile
    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/_contention":
            with self.lock:
                data = json.dumps(dict(self.counts)).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [data]
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if target.startswith("DynamoDB_"):
            return self._dynamodb(target.rpartition(".")[2], environ, start_response)
        method = environ.get("REQUEST_METHOD")
        conditional = "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MATCH" in environ
        if method == "PUT" and conditional and "HTTP_X_AMZ_COPY_SOURCE" not in environ:
            return self._conditional_put(environ, start_response)
        if method == "DELETE":
            return self._delete(environ, start_response)
        return self.app(environ, start_response)

    # --- DynamoDB ---------------------------------------------------------------------------

    def _dynamodb(
        self, operation: str, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        if operation not in ("TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem"):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b"{}"
        environ["wsgi.input"] = io.BytesIO(body)
        request = json.loads(body or b"{}")
        if operation != "TransactWriteItems":
            item = request.get("Item") or request.get("Key") or {}
            with self.lock:
                busy = self.key_of(request["TableName"], item) in self.held
                if busy:
                    self.counts["dynamodb_item_conflicts"] += 1
            if busy:
                return _json_error(
                    start_response,
                    "TransactionConflictException",
                    "Transaction is ongoing for the item",
                )
            return self.app(environ, start_response)
        keys = []
        for entry in request.get("TransactItems", []):
            ((_, body_of),) = entry.items()
            keys.append(self.key_of(body_of["TableName"], body_of.get("Item") or body_of["Key"]))
        with self.lock:
            conflicts = [key in self.held for key in keys]
            if any(conflicts):
                self.counts["dynamodb_transaction_conflicts"] += 1
            else:
                for key in keys:
                    self.held[key] = self.held.get(key, 0) + 1
        if any(conflicts):
            reasons = [
                {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
                if hit
                else {"Code": "None"}
                for hit in conflicts
            ]
            codes = ", ".join(r["Code"] for r in reasons)
            message = "Transaction cancelled, please refer cancellation reasons for specific "
            message += f"reasons [{codes}]"
            return _json_error(
                start_response, "TransactionCanceledException", message, CancellationReasons=reasons
            )
        try:
            time.sleep(self.window_s)  # ongoing: its items held
            return list(self.app(environ, start_response))
        finally:
            with self.lock:
                for key in keys:
                    self.held[key] -= 1
                    if not self.held[key]:
                        del self.held[key]

    # --- S3 ---------------------------------------------------------------------------------

    def _conditional_put(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        key = str(environ.get("PATH_INFO"))
        mine = object()
        with self.lock:
            self.writing.setdefault(key, set()).add(mine)
        try:
            time.sleep(self.window_s)  # the upload in progress
        finally:
            with self.lock:
                self.writing[key].discard(mine)
                if not self.writing[key]:
                    del self.writing[key]
                lost = mine in self.deleted
                self.deleted.discard(mine)
                if lost:
                    self.counts["s3_conditional_write_conflicts"] += 1
        if lost:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length:
                environ["wsgi.input"].read(length)  # drain what the client sent
            data = (
                b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ConditionalRequestConflict'
                b"</Code><Message>A conflicting operation occurred. If using PutObject you can "
                b"retry the request.</Message></Error>"
            )
            start_response(
                "409 Conflict",
                [("Content-Type", "application/xml"), ("Content-Length", str(len(data)))],
            )
            return [data]
        return self.app(environ, start_response)

    def _delete(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        status: list[str] = []

        def seen(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(code)
            return start_response(code, headers, exc_info)

        answer = list(self.app(environ, seen))
        if status and status[0].startswith("204"):
            key = str(environ.get("PATH_INFO"))
            with self.lock:
                self.deleted |= self.writing.get(key, set())
        return answer
