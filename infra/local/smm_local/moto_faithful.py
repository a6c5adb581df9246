"""moto, made faithful where the engine depends on it: S3 conditional writes are atomic, and
DynamoDB requests are isolated from each other.

moto (5.x, `moto/s3/responses.py` `S3Response.put_object`) checks `If-None-Match: *` and then
writes, with nothing between the two: two PUTs at the same moment both succeed. Real S3
guarantees one wins (the claim objects that make concurrent deliveries render once rely on
it). moto's DynamoDB (`moto/dynamodb/responses.py` `DynamoHandler`, `models/table.py`)
applies a TransactWriteItems or an UpdateItem as Python reads and writes on shared dicts with
no lock: under concurrent requests updates are lost (``balance = balance - :a`` from two
transactions at once) and a scan can fail with "dictionary changed size during iteration".
Real DynamoDB transactions are serializable. That was why the chaos soak reported "ledger
invariants BROKEN": the product's transactions were right, the emulated table was not
(tests/unit/test_moto_faithful.py shows both). ``install()`` serializes object PUTs and
DELETEs and every DynamoDB request; the local stack's moto server and the in-process tests
run with it.

    python -m smm_local.moto_faithful -H 127.0.0.1 -p 5000   # moto_server, with the fixes
"""

from __future__ import annotations

import sys
import threading
from typing import Any

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.s3.responses import S3Response

    lock = threading.Lock()
    original = S3Response.put_object

    def put_object(self: Any) -> Any:
        with lock:  # check-and-write as one step, as S3 does
            return original(self)

    S3Response.put_object = put_object  # type: ignore[method-assign]
    # A conditional DELETE (If-Match, `S3Response.delete_object`) checks and deletes the
    # same way: under the same lock, so a delete never removes a claim written in between.
    original_delete = S3Response.delete_object

    def delete_object(self: Any) -> Any:
        with lock:
            return original_delete(self)

    S3Response.delete_object = delete_object  # type: ignore[method-assign]

    from moto.dynamodb.responses import DynamoHandler

    table_lock = threading.RLock()
    dispatch = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with table_lock:  # one request at a time: isolated, as DynamoDB's are
            return dispatch(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    _installed = True


if __name__ == "__main__":
    install()
    from moto.server import main

    main(sys.argv[1:])
