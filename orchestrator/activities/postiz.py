"""Create the Postiz post, exactly once.

Postiz's API has no idempotency key, so this activity keeps its own record in S3, keyed by
the workflow id (a business id, never the run id): the intent is written before the call and
the post ids right after. A retry finds the ids and returns them. If a crash fell between the
call and the record (the intent is there, the ids are not), the post may exist: it is looked
up in Postiz by its group id (which we set) before anything is created again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from temporalio import activity

from orchestrator.activities.http_json import call
from smm_runtime.contract.publish_io import CreatePostRequest, CreatePostResult


def group_id(workflow_id: str) -> str:
    return "smm-" + hashlib.sha256(workflow_id.encode()).hexdigest()[:24]


def post_body(request: CreatePostRequest, now: datetime) -> dict[str, Any]:
    post = request.post
    date = (post.publish_at or now).astimezone(UTC)
    return {
        "type": post.type,
        "date": date.isoformat().replace("+00:00", "Z"),
        "shortLink": post.short_link,
        "tags": [t.model_dump() for t in post.tags],
        "posts": [{
            "integration": {"id": integration},
            "value": [{"content": post.content,
                       "image": [m.model_dump() for m in request.media]}],
            "group": group_id(request.workflow_id),
            **({"settings": post.settings} if post.settings else {}),
        } for integration in post.integrations],
    }


class PostizPublisher:
    def __init__(self, s3: Any, bucket: str, base_url: str, api_key: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": api_key}  # Postiz wants the bare key, no "Bearer"

    def _record_key(self, workflow_id: str) -> str:
        return f"publish-records/{hashlib.sha256(workflow_id.encode()).hexdigest()}.json"

    def _read(self, key: str) -> dict[str, Any] | None:
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise
        record: dict[str, Any] = json.loads(body)
        return record

    def _write(self, key: str, record: dict[str, Any]) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=json.dumps(record).encode(),
                            ContentType="application/json")

    def _find_existing(self, request: CreatePostRequest, body: dict[str, Any]) -> list[str]:
        """Posts of our group around the post's date (after a crash mid-create)."""
        date = datetime.fromisoformat(body["date"].replace("Z", "+00:00"))
        start = (date - timedelta(days=1)).isoformat().replace("+00:00", "Z")
        end = (date + timedelta(days=1)).isoformat().replace("+00:00", "Z")
        listed = call("GET", f"{self._base}/posts?startDate={start}&endDate={end}",
                      self._headers) or {}
        group = group_id(request.workflow_id)
        return [p["id"] for p in listed.get("posts", []) if p.get("group") == group]

    def create_sync(self, request: CreatePostRequest) -> CreatePostResult:
        key = self._record_key(request.workflow_id)
        record = self._read(key)
        if record and record.get("post_ids"):
            return CreatePostResult(post_ids=record["post_ids"], reused=True)
        body = post_body(request, datetime.now(UTC))
        if record and record.get("state") == "creating":
            found = self._find_existing(request, body)
            if found:
                self._write(key, {**record, "state": "created", "post_ids": found})
                return CreatePostResult(post_ids=found, reused=True)
        self._write(key, {"state": "creating", "workflow_id": request.workflow_id,
                          "group": group_id(request.workflow_id)})
        created = call("POST", f"{self._base}/posts", self._headers, body)
        post_ids = [item["postId"] for item in created]
        self._write(key, {"state": "created", "workflow_id": request.workflow_id,
                          "group": group_id(request.workflow_id), "post_ids": post_ids})
        return CreatePostResult(post_ids=post_ids, reused=False)

    @activity.defn(name="create_postiz_post")
    async def create_postiz_post(self, request: CreatePostRequest) -> CreatePostResult:
        return await asyncio.to_thread(self.create_sync, request)
