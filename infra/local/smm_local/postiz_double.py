"""A local double of Postiz's public API, on loopback, that behaves as Postiz does.

The behaviour lives in ``postiz_model`` (each rule names the upstream file it reproduces);
this module is its HTTP face: routes, multipart parsing, and the test controls that make
faults happen (``force_429``, ``create_delay_s``: the create commits after the delay whether
or not the caller is still there; ``fail_after_commit``: commit, then answer 500). It records
every request so tests can assert exactly what was sent. It exists only because Postiz cannot
run here; production code never uses it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from smm_local.http_double import DoubleHandler, serve
from smm_local.postiz_model import PostizError, PostizState

DEFAULT_INTEGRATIONS = {
    "x-1": "x",
    "li-2": "linkedin",
    "instagram-demo": "instagram",
    "tiktok-demo": "tiktok",
}


@dataclass
class PostizDouble:
    model: PostizState
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[dict[str, Any]] = field(default_factory=list)
    controls: dict[str, Any] = field(default_factory=dict)

    def state(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "uploads": [{k: v for k, v in u.items()} for u in self.model.uploads.values()],
            "posts": [p for p in self.model.posts if p["deletedAt"] is None],
            "all_posts": self.model.posts,
        }


def parse_multipart(content_type: str, body: bytes) -> list[dict[str, Any]]:
    match = re.search(r"boundary=([^;]+)", content_type)
    if not content_type.startswith("multipart/form-data") or not match:
        return []
    parts = []
    for chunk in body.split(b"--" + match.group(1).encode())[1:-1]:
        head, _, data = chunk.strip(b"\r\n").partition(b"\r\n\r\n")
        headers = head.decode(errors="replace")
        name = re.search(r'name="([^"]*)"', headers)
        filename = re.search(r'filename="([^"]*)"', headers)
        ctype = re.search(r"Content-Type: (\S+)", headers, re.I)
        parts.append(
            {
                "name": name.group(1) if name else None,
                "filename": filename.group(1) if filename else None,
                "content_type": ctype.group(1) if ctype else None,
                "size": len(data),
                "data": data,
            }
        )
    return parts


class Handler(DoubleHandler):
    double: PostizDouble

    def handle_api(self) -> None:
        if self.control():
            return
        path, query = self.route()
        body = self.body()
        d = self.double
        record: dict[str, Any] = {
            "method": self.command,
            "path": path,
            "authorization": self.headers.get("Authorization"),
            "content_type": self.headers.get("Content-Type"),
        }
        if self.command == "POST" and path == "/public/v1/posts":
            with contextlib.suppress(ValueError):  # recorded even when refused, for tests
                record["json"] = json.loads(body)
        try:
            with d.lock:
                d.requests.append(record)
                d.model.forced_429 += int(d.controls.pop("force_429", 0) or 0)
                d.model.authenticate(self.headers.get("Authorization"))
                d.model.throttle(self.command, path)
                delay = float(d.controls.get("create_delay_s", 0))
                fail_after = (
                    bool(d.controls.pop("fail_after_commit", False))
                    if self.command == "POST" and path == "/public/v1/posts"
                    else False
                )
            if self.command == "POST" and path == "/public/v1/upload":
                parts = parse_multipart(self.headers.get("Content-Type", ""), body)
                record["parts"] = [{k: v for k, v in p.items() if k != "data"} for p in parts]
                files = [p for p in parts if p["name"] == "file"]
                with d.lock:
                    media = d.model.upload(
                        files[0]["filename"] if files else None, files[0]["data"] if files else b""
                    )
                self.send_json(201, media)
            elif self.command == "POST" and path == "/public/v1/posts":
                payload = json.loads(body) if body else None
                # The create runs to its end even when the caller has gone (a slow
                # Postiz, a killed worker): the delay is before the commit, not after.
                if delay:
                    time.sleep(delay)
                with d.lock:
                    created = d.model.create(payload, datetime.now(UTC))
                if fail_after:
                    self.send_json(500, {"statusCode": 500, "message": "Internal server error"})
                else:
                    self.send_json(201, created)
            elif self.command == "GET" and path == "/public/v1/posts":
                if "startDate" not in query or "endDate" not in query:
                    self.send_json(
                        400, {"message": ["startDate and endDate are required"], "statusCode": 400}
                    )
                    return
                with d.lock:
                    listed = d.model.listed(
                        query["startDate"][0], query["endDate"][0], query.get("customer", [None])[0]
                    )
                self.send_json(200, {"posts": listed})
            elif self.command == "DELETE" and path.startswith("/public/v1/posts/"):
                with d.lock:
                    self.send_json(200, d.model.delete(path.rsplit("/", 1)[-1], datetime.now(UTC)))
            else:
                self.send_json(
                    404,
                    {
                        "message": f"Cannot {self.command} {path}",
                        "error": "Not Found",
                        "statusCode": 404,
                    },
                )
        except PostizError as err:
            self.send_json(err.status, err.body)
        except json.JSONDecodeError:
            self.send_json(400, {"message": "Unexpected token in JSON", "statusCode": 400})

    do_GET = do_POST = do_PATCH = do_DELETE = handle_api


def main() -> None:
    parser = argparse.ArgumentParser(description="local Postiz public API double (loopback)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=90,
        help="POST /posts per hour per organization (Postiz's API_LIMIT)",
    )
    args = parser.parse_args()
    model = PostizState(args.api_key, dict(DEFAULT_INTEGRATIONS), rate_limit=args.rate_limit)
    serve(PostizDouble(model), Handler, args.port)
    print(f"postiz double on http://127.0.0.1:{args.port}/public/v1", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
