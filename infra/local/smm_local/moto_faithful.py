"""moto, made faithful where the engine depends on it: S3 conditional writes are atomic.

moto (5.x, `moto/s3/responses.py` `S3Response.put_object`) checks `If-None-Match: *` and then
writes, with nothing between the two: two PUTs at the same moment both succeed. Real S3
guarantees one wins (the claim objects that make concurrent deliveries render once rely on
it). ``install()`` serializes object PUTs; the local stack's moto server and the in-process
tests both run with it.

    python -m smm_local.moto_faithful -H 127.0.0.1 -p 5000   # moto_server, with the fix
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
    _installed = True


if __name__ == "__main__":
    install()
    from moto.server import main

    main(sys.argv[1:])
