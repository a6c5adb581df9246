"""A contract-faithful local double of Postiz's public API, on loopback.

It checks what the real API requires — the bare API key in ``Authorization`` (no "Bearer"),
a multipart ``file`` upload, the exact post body shape — refuses anything else with 400/401,
enforces the 30-requests-an-hour limit with 429 (and answers 429 on demand), and records
every request so tests can assert exactly what was sent. It is a test double at the
boundary of a service we cannot run here; production code never uses it.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from smm_local.http_double import DoubleHandler, serve

POST_KEYS = {"type", "date", "shortLink", "tags", "posts", "order", "inter"}
ITEM_KEYS = {"integration", "value", "group", "settings"}
VALUE_KEYS = {"content", "image", "id"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@dataclass
class PostizDouble:
    api_key: str
    rate_limit: int = 30
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    posts: list[dict[str, Any]] = field(default_factory=list)
    controls: dict[str, Any] = field(default_factory=dict)
    window: list[float] = field(default_factory=list)

    def state(self) -> dict[str, Any]:
        return {"requests": self.requests, "uploads": list(self.uploads.values()),
                "posts": self.posts}

    def rate_limited(self) -> bool:
        now = time.monotonic()
        self.window = [t for t in self.window if now - t < 3600]
        if self.controls.get("force_429", 0) > 0:
            self.controls["force_429"] -= 1
            return True
        if len(self.window) >= self.rate_limit:
            return True
        self.window.append(now)
        return False


def check_post(body: Any, uploads: dict[str, Any]) -> str | None:
    """The first way ``body`` departs from the documented shape, or None."""
    if not isinstance(body, dict):
        return "body must be an object"
    if extra := set(body) - POST_KEYS:
        return f"unknown fields {sorted(extra)}"
    if body.get("type") not in {"draft", "schedule", "now"}:
        return "type must be draft, schedule or now"
    for key, kind in (("date", str), ("shortLink", bool), ("tags", list)):
        if not isinstance(body.get(key), kind):
            return f"{key} is required ({kind.__name__})"
    if not ISO.match(body["date"]):
        return "date must be an ISO-8601 UTC date"
    for tag in body["tags"]:
        if not isinstance(tag, dict) or set(tag) != {"value", "label"}:
            return "tags are {value, label}"
    posts = body.get("posts")
    if body["type"] != "draft" and not posts:
        return "posts are required unless type is draft"
    for item in posts or []:
        if not isinstance(item, dict) or set(item) - ITEM_KEYS:
            return "each post is {integration, value, group?, settings?}"
        if not isinstance(item.get("integration"), dict) or not item["integration"].get("id"):
            return "integration.id is required"
        if not isinstance(item.get("value"), list) or not item["value"]:
            return "value must be a non-empty list"
        for value in item["value"]:
            if set(value) - VALUE_KEYS or not isinstance(value.get("content"), str):
                return "value items are {content, image?, id?}"
            for image in value.get("image", []):
                if set(image) != {"id", "path"} or image["id"] not in uploads:
                    return "image items are {id, path} of an uploaded file"
    return None


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
        parts.append({"name": name.group(1) if name else None,
                      "filename": filename.group(1) if filename else None,
                      "content_type": ctype.group(1) if ctype else None, "size": len(data)})
    return parts


class Handler(DoubleHandler):
    double: PostizDouble

    def handle_api(self) -> None:
        if self.control():
            return
        path, query = self.route()
        body = self.body()
        d = self.double
        with d.lock:
            record: dict[str, Any] = {"method": self.command, "path": path,
                      "authorization": self.headers.get("Authorization"),
                      "content_type": self.headers.get("Content-Type")}
            d.requests.append(record)
            if self.headers.get("Authorization") != d.api_key:
                self.send_json(401, {"msg": "Invalid API key"})
                return
            if d.rate_limited():
                self.send_json(429, {"msg": "Too many requests"}, {"Retry-After": "1"})
                return
            if self.command == "POST" and path == "/public/v1/upload":
                parts = parse_multipart(self.headers.get("Content-Type", ""), body)
                record["parts"] = parts
                files = [p for p in parts if p["name"] == "file" and p["filename"]]
                if len(parts) != 1 or not files:
                    self.send_json(400, {"msg": "expected one multipart field 'file'"})
                    return
                upload_id = str(uuid.uuid4())
                upload = {"id": upload_id, "name": files[0]["filename"],
                          "path": f"https://uploads.postiz.local/{upload_id}",
                          "organizationId": "org-local", "size": files[0]["size"],
                          "createdAt": datetime.now(UTC).isoformat(),
                          "updatedAt": datetime.now(UTC).isoformat()}
                d.uploads[upload_id] = upload
                self.send_json(200, {k: v for k, v in upload.items() if k != "size"})
                return
            if self.command == "POST" and path == "/public/v1/posts":
                try:
                    payload = json.loads(body)
                except json.JSONDecodeError:
                    self.send_json(400, {"msg": "body is not JSON"})
                    return
                record["json"] = payload
                problem = check_post(payload, d.uploads)
                if problem:
                    self.send_json(400, {"msg": problem})
                    return
                delay = float(d.controls.get("create_delay_s", 0))
            elif self.command == "GET" and path == "/public/v1/posts":
                if "startDate" not in query or "endDate" not in query:
                    self.send_json(400, {"msg": "startDate and endDate are required"})
                    return
                self.send_json(200, {"posts": list(d.posts)})
                return
            else:
                self.send_json(404, {"msg": "not found"})
                return
        # Create, outside the lock: a slow answer lets a test kill the caller mid-request.
        if delay:
            time.sleep(delay)
        created = []
        with d.lock:
            for item in payload.get("posts", []):
                post_id = str(uuid.uuid4())
                d.posts.append({"id": post_id, "content": item["value"][0]["content"],
                                "publishDate": payload["date"], "group": item.get("group"),
                                "state": "QUEUE", "integration": {"id": item["integration"]["id"]},
                                "image": item["value"][0].get("image", [])})
                created.append({"postId": post_id, "integration": item["integration"]["id"]})
        self.send_json(200, created)

    do_GET = do_POST = do_PATCH = do_DELETE = handle_api


def main() -> None:
    parser = argparse.ArgumentParser(description="local Postiz public API double (loopback)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--rate-limit", type=int, default=30)
    args = parser.parse_args()
    serve(PostizDouble(args.api_key, args.rate_limit), Handler, args.port)
    print(f"postiz double on http://127.0.0.1:{args.port}/public/v1", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
