"""A local double of Payload CMS's REST API (loopback), for the workflow's write-back.

It checks the API-key header Payload expects (``<users slug> API-Key <key>``) and the
``PATCH /api/<collection>/<id>`` shape, records every update, and can be taken "down"
(answers 503) on demand. A test double at the boundary; production never uses it.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from smm_local.http_double import DoubleHandler, serve

DOC_PATH = re.compile(r"^/api/([a-z0-9][a-z0-9_-]*)/([A-Za-z0-9_-]+)$")


@dataclass
class PayloadDouble:
    user_slug: str
    api_key: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    updates: list[dict[str, Any]] = field(default_factory=list)
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    controls: dict[str, Any] = field(default_factory=dict)

    def state(self) -> dict[str, Any]:
        return {"updates": self.updates, "docs": self.docs}


class Handler(DoubleHandler):
    double: PayloadDouble

    def handle_api(self) -> None:
        if self.control():
            return
        path, _ = self.route()
        body = self.body()
        d = self.double
        with d.lock:
            if d.controls.get("down"):
                self.send_json(503, {"errors": [{"message": "Service Unavailable"}]})
                return
            expected = f"{d.user_slug} API-Key {d.api_key}"
            if self.headers.get("Authorization") != expected:
                self.send_json(401, {"errors": [{"message": "Unauthorized"}]})
                return
            match = DOC_PATH.match(path)
            if self.command != "PATCH" or not match:
                self.send_json(404, {"errors": [{"message": "Not Found"}]})
                return
            try:
                data = json.loads(body)
            except json.JSONDecodeError:
                self.send_json(400, {"errors": [{"message": "body is not JSON"}]})
                return
            key = f"{match.group(1)}/{match.group(2)}"
            d.updates.append({"doc": key, "data": data})
            doc = d.docs.setdefault(key, {"id": match.group(2)})
            doc.update(data)
            self.send_json(200, {"doc": doc, "message": "Updated successfully."})

    do_GET = do_POST = do_PATCH = handle_api


def main() -> None:
    parser = argparse.ArgumentParser(description="local Payload REST double (loopback)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user-slug", default="users")
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args()
    serve(PayloadDouble(args.user_slug, args.api_key), Handler, args.port)
    print(f"payload double on http://127.0.0.1:{args.port}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
