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
    python -m smm_local.moto_faithful -p 5000 --template template.yaml --ref CreativeBucket=b
                                                            # ... and the template's IAM
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
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


def main(argv: list[str]) -> None:
    """moto's server with the fixes above and, given a template, IAM in front
    (smm_local.iam_gate): each signed request authorised as the template grants its signer."""
    parser = argparse.ArgumentParser(description="moto, faithful, behind the template's IAM")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--template", type=Path, help="enforce this template's IAM")
    parser.add_argument("--ref", action="append", default=[], help="LogicalId=local name")
    parser.add_argument(
        "--conflict-window-ms",
        type=float,
        default=20.0,
        help="how long a transaction or a conditional write is in flight (smm_local.contention)",
    )
    args = parser.parse_args(argv)
    install()
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    os.environ.setdefault("MOTO_PORT", str(args.port))
    from smm_local.contention import Contention

    app: Any = Contention(
        DomainDispatcherApplication(create_backend_app), args.conflict_window_ms / 1000
    )
    if args.template is not None:
        from smm_local.iam_gate import IamGate
        from smm_local.principals import ADMIN_KEY, function_names, principals
        from smm_local.template import Resolver, load_template, parameter_defaults

        template = load_template(args.template)
        refs = dict(item.split("=", 1) for item in args.ref)
        resolver = Resolver(parameter_defaults(template), {**function_names(template), **refs})
        app = IamGate(app, principals(template, resolver), frozenset({ADMIN_KEY}))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main(sys.argv[1:])
