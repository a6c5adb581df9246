"""A local double of Postiz's public API, on loopback, that behaves as Postiz does.

The behaviour lives in ``postiz_model`` (each rule names the upstream file and lines it
reproduces, at the commit ``postiz_rules.UPSTREAM``); this module is its HTTP face: routes,
multipart parsing, and the test controls that make faults happen:

- ``force_429``: the next N throttled requests answer 429 (``Retry-After: 1``);
- ``create_delay_s``: a slow commit: the create commits after the delay whether or not the
  caller is still there;
- ``fail_after_commit``: commit, then answer 500; ``drop_answer``: commit, then close the
  connection with no answer (an answer lost on the way back);
- ``stick_next``: the next N posts due stay ``QUEUE`` forever (Postiz's workers down);
- ``fail_next``: a list of reasons: the next posts due end ``ERROR`` with them;
- ``publish_delay_s``: how long Postiz takes to publish a due post;
- ``stuck_for_s``: how long a stuck post stays stuck (None: until ``unstick``);
- ``unstick``: Postiz's workers are back: stuck posts are published.

It records every request so tests can assert exactly what was sent, and counts the faults
that hit a request. It exists only because Postiz cannot run here; production code never
uses it.
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
from smm_local.postiz_model import PostizState
from smm_local.postiz_validation import PostizError

DEFAULT_INTEGRATIONS = {
    "x-1": "x",
    "li-2": "linkedin",
    "instagram-demo": "instagram",
    "tiktok-demo": "tiktok",
    "fb-3": "facebook",
}
# Settings each of those channels' providers accept (the demo, tests and the soak send them).
CHANNEL_SETTINGS: dict[str, dict[str, Any]] = {
    "x-1": {"who_can_reply_post": "everyone"},
    "li-2": {},
    "instagram-demo": {"post_type": "post"},
    "fb-3": {},
    "tiktok-demo": {
        "privacy_level": "PUBLIC_TO_EVERYONE",
        "duet": False,
        "stitch": False,
        "comment": True,
        "autoAddMusic": "no",
        "brand_content_toggle": False,
        "brand_organic_toggle": False,
        "content_posting_method": "DIRECT_POST",
    },
}


@dataclass
class PostizDouble:
    model: PostizState
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[dict[str, Any]] = field(default_factory=list)
    controls: dict[str, Any] = field(default_factory=dict)
    faults_hit: dict[str, int] = field(default_factory=dict)

    def hit(self, fault: str) -> None:
        self.faults_hit[fault] = self.faults_hit.get(fault, 0) + 1

    def apply_controls(self) -> None:
        """Controls that set the model's state (the rest are read per request)."""
        self.model.forced_429 += int(self.controls.pop("force_429", 0) or 0)
        self.model.stick_next += int(self.controls.pop("stick_next", 0) or 0)
        self.model.fail_next += list(self.controls.pop("fail_next", []) or [])
        if "stuck_for_s" in self.controls:
            self.model.stuck_for_s = self.controls.pop("stuck_for_s")
        if self.controls.pop("unstick", False):
            self.model.unstick()
        if "publish_delay_s" in self.controls:
            self.model.publish_delay_s = float(self.controls.pop("publish_delay_s"))

    def state(self) -> dict[str, Any]:
        self.apply_controls()
        self.model.advance(datetime.now(UTC))
        return {
            "requests": self.requests,
            "uploads": [{k: v for k, v in u.items()} for u in self.model.uploads.values()],
            "posts": [p for p in self.model.posts if p["deletedAt"] is None],
            "all_posts": self.model.posts,
            "faults_hit": {**self.faults_hit, **self.model.publish_faults},
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
        creating = self.command == "POST" and path == "/public/v1/posts"
        record: dict[str, Any] = {
            "method": self.command,
            "path": path,
            "query": {k: v[0] for k, v in query.items()},
            "authorization": self.headers.get("Authorization"),
            "content_type": self.headers.get("Content-Type"),
        }
        if creating:
            with contextlib.suppress(ValueError):  # recorded even when refused, for tests
                record["json"] = json.loads(body)
        try:
            with d.lock:
                d.requests.append(record)
                d.apply_controls()
                d.model.advance(datetime.now(UTC))
                d.model.authenticate(self.headers.get("Authorization"))
                forced = d.model.forced_429 > 0
                try:
                    rate_headers = d.model.check_rate(self.command, self.path)
                except PostizError:
                    d.hit("rate_limited_forced" if forced else "rate_limited")
                    raise
                delay = float(d.controls.get("create_delay_s", 0)) if creating else 0.0
                lost = None
                if creating and d.controls.pop("drop_answer", False):
                    lost = "drop_answer"
                elif creating and d.controls.pop("fail_after_commit", False):
                    lost = "fail_after_commit"
            if self.command == "POST" and path == "/public/v1/upload":
                parts = parse_multipart(self.headers.get("Content-Type", ""), body)
                record["parts"] = [{k: v for k, v in p.items() if k != "data"} for p in parts]
                files = [p for p in parts if p["name"] == "file"]
                with d.lock:
                    media = d.model.upload(
                        files[0]["filename"] if files else None, files[0]["data"] if files else b""
                    )
                self.send_json(201, media)
            elif creating:
                try:
                    payload = json.loads(body) if body else None
                except (json.JSONDecodeError, UnicodeDecodeError):
                    # Express's json parser refuses the body before any handler runs.
                    self.send_json(400, {"message": "Unexpected token in JSON", "statusCode": 400})
                    return
                # The create runs to its end even when the caller has gone (a slow
                # Postiz, a killed worker): the delay is before the commit, not after.
                if delay:
                    with d.lock:
                        d.hit("slow_commit")
                    time.sleep(delay)
                with d.lock:
                    created = d.model.create(payload, datetime.now(UTC))
                    if lost:
                        d.hit(lost)
                if lost == "drop_answer":
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(2)
                    return
                if lost == "fail_after_commit":
                    self.send_json(500, {"statusCode": 500, "message": "Internal server error"})
                else:
                    self.send_json(201, created, rate_headers)
            elif self.command == "GET" and path == "/public/v1/posts":
                with d.lock:
                    listed = d.model.listed(
                        query.get("startDate", [None])[0],
                        query.get("endDate", [None])[0],
                        query.get("customer", [None])[0],
                    )
                self.send_json(200, {"posts": listed})
            elif self.command == "GET" and path == "/public/v1/integrations":
                with d.lock:
                    self.send_json(200, d.model.integrations_list())
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
            self.send_json(err.status, err.body, err.headers)

    do_GET = do_POST = do_PATCH = do_DELETE = handle_api


def main() -> None:
    parser = argparse.ArgumentParser(description="local Postiz public API double (loopback)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=90,
        help="POST /posts per window per organization (Postiz's API_LIMIT)",
    )
    parser.add_argument(
        "--rate-window-s", type=float, default=3600.0, help="the throttler's ttl (upstream: 1 h)"
    )
    parser.add_argument(
        "--publish-delay-s",
        type=float,
        default=1.0,
        help="how long Postiz's own workflow takes to publish a due post",
    )
    args = parser.parse_args()
    model = PostizState(
        args.api_key,
        dict(DEFAULT_INTEGRATIONS),
        rate_limit=args.rate_limit,
        rate_window_s=args.rate_window_s,
        publish_delay_s=args.publish_delay_s,
    )
    serve(PostizDouble(model), Handler, args.port)
    print(f"postiz double on http://127.0.0.1:{args.port}/public/v1", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
