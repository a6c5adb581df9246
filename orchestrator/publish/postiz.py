"""Create the Postiz post, exactly once, from what Postiz actually stores.

Postiz's public API has no idempotency key, assigns its own post ids and does not keep a
``group`` we send (it makes a fresh one, and soft-deletes the other posts of a group it is
given), so none of that can find a post again. What it does keep, and lists back through
``GET /public/v1/posts``, is each post's channel, text and publish date. So:

- a record in S3, keyed by the workflow id (a business id, never the run id), holds the
  intent (when we sent, to which channels) before the call and the post ids after it;
- an answered refusal (4xx, 429) means nothing was created; no answer, or a 5xx, is
  ambiguous: the post may exist, now or once Postiz finishes the request;
- after an ambiguous create, the next attempt waits until the request has settled
  (``settle_s``: longer than our HTTP timeout plus Postiz's own work), then looks the posts
  up by channel, text and date window; it creates only what is still missing;
- each Postiz post id found or created is claimed with a conditional S3 write, so two
  workflows with the same text on the same channel can never both take one post.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from orchestrator.executors import on_http
from orchestrator.http_json import RATE_LIMITED, call
from smm_runtime.contract.errors import INVALID_REQUEST
from smm_runtime.contract.publish_io import CreatePostRequest, CreatePostResult

UNSETTLED = "PostizCreateUnsettled"
# Postiz stores a 'now' post at the server's minute: allow for that and for clock skew.
LOOKUP_MARGIN = timedelta(minutes=3)
CLAIM_ATTEMPTS = 5  # a posting claim's conditional write, when S3 answers 409


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def post_body(request: CreatePostRequest, integrations: list[str], now: datetime) -> dict[str, Any]:
    """The create body. The workflow's own durable timer waited for ``publish_at``, so by
    now the post is due: it goes as ``now`` (a past ``schedule`` date is refused by
    Postiz); a draft keeps its date. No ``group``: Postiz would not keep it."""
    post = request.post
    draft = post.type == "draft"
    return {
        "type": "draft" if draft else "now",
        "date": iso((post.publish_at or now) if draft else now),
        "shortLink": post.short_link,
        "tags": [t.model_dump() for t in post.tags],
        "posts": [
            {
                "integration": {"id": integration},
                "value": [
                    {"content": post.content, "image": [m.model_dump() for m in request.media]}
                ],
                **({"settings": post.settings} if post.settings else {}),
            }
            for integration in integrations
        ],
    }


class PostizPublisher:
    def __init__(self, s3: Any, bucket: str, base_url: str, api_key: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": api_key}  # Postiz wants the bare key, no "Bearer"

    # --- records and claims in S3 --------------------------------------------------------

    @staticmethod
    def _digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

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
        self._s3.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=json.dumps(record).encode(),
            ContentType="application/json",
        )

    def _claim(self, post_id: str, workflow_id: str) -> bool:
        """Take a Postiz post for this workflow; False when another workflow has it."""
        key = f"publish-claims/{self._digest(post_id)}.json"
        for _ in range(CLAIM_ATTEMPTS):
            try:
                self._s3.put_object(
                    Bucket=self._bucket,
                    Key=key,
                    IfNoneMatch="*",
                    Body=json.dumps({"workflow_id": workflow_id}).encode(),
                )
                return True
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code")
                if code in {"ConditionalRequestConflict", "409"}:
                    # S3's answer when a delete of the key raced this write: nothing was
                    # written and the upload may be retried (S3 User Guide, conditional
                    # writes). Transient: ask again after a jittered pause.
                    time.sleep(random.uniform(0.05, 0.25))
                    continue
                if code not in {"PreconditionFailed", "412"}:
                    raise
            holder = self._read(key) or {}
            return bool(holder.get("workflow_id") == workflow_id)
        raise RuntimeError(f"{key}: conditional writes kept conflicting; the activity retries")

    # --- the create ----------------------------------------------------------------------

    def _lookup(
        self, request: CreatePostRequest, record: dict[str, Any], missing: list[str], now: datetime
    ) -> dict[str, str]:
        """Our posts that Postiz stored after an ambiguous create: same channel, same text,
        published since we first sent; each claimed for this workflow."""
        start = datetime.fromisoformat(record["first_sent_at"]) - LOOKUP_MARGIN
        listed = (
            call(
                "GET",
                f"{self._base}/posts?startDate={iso(start)}&endDate={iso(now + LOOKUP_MARGIN)}",
                self._headers,
            )
            or {}
        )
        candidates = sorted(
            (p for p in listed.get("posts", []) if p.get("content") == request.post.content),
            key=lambda p: str(p.get("publishDate")),
        )
        found: dict[str, str] = {}
        for integration in missing:
            for post in candidates:
                if (
                    (post.get("integration") or {}).get("id") == integration
                    and post["id"] not in found.values()
                    and self._claim(post["id"], request.workflow_id)
                ):
                    found[integration] = post["id"]
                    break
        return found

    def create_sync(
        self, request: CreatePostRequest, now: datetime | None = None
    ) -> CreatePostResult:
        now = now or datetime.now(UTC)
        key = f"publish-records/{self._digest(request.workflow_id)}.json"
        record = self._read(key) or {"workflow_id": request.workflow_id, "posts": {}}
        if record.get("post_ids"):  # written by an earlier release: the post exists
            return CreatePostResult(post_ids=list(record["post_ids"]), reused=True)
        done: dict[str, str] = dict(record.get("posts", {}))
        wanted = request.post.integrations
        missing = [i for i in wanted if i not in done]
        if missing and record.get("state") == "ambiguous":
            done.update(self._lookup(request, record, missing, now))
            missing = [i for i in wanted if i not in done]
            if missing:
                waited = (now - datetime.fromisoformat(record["last_sent_at"])).total_seconds()
                if waited < request.settle_s:
                    self._write(key, {**record, "posts": done})
                    raise ApplicationError(
                        f"Postiz may still be creating the post for {missing}; looking "
                        "again once that request has settled",
                        type=UNSETTLED,
                        next_retry_delay=timedelta(seconds=request.settle_s - waited),
                    )
        if not missing:
            self._write(key, {**record, "state": "created", "posts": done})
            return CreatePostResult(post_ids=[done[i] for i in wanted], reused=True)
        sent = {
            **record,
            "state": "ambiguous",
            "posts": done,
            "last_sent_at": now.isoformat(),
            "first_sent_at": record.get("first_sent_at", now.isoformat()),
        }
        self._write(key, sent)
        try:
            created = call(
                "POST",
                f"{self._base}/posts",
                self._headers,
                post_body(request, missing, now),
                timeout=request.http_timeout_s,
            )
        except ApplicationError as err:
            if err.type in (RATE_LIMITED, INVALID_REQUEST):  # answered: nothing was created
                self._write(key, {**record, "posts": done})
                if err.type == RATE_LIMITED:
                    raise ApplicationError(
                        str(err),
                        type=RATE_LIMITED,
                        next_retry_delay=(timedelta(seconds=request.rate_limited_wait_s)),
                    ) from None
            raise
        for item in created or []:
            if item.get("integration") in missing and self._claim(
                item["postId"], request.workflow_id
            ):
                done[item["integration"]] = item["postId"]
        self._write(key, {**sent, "state": "created", "posts": done})
        return CreatePostResult(post_ids=[done[i] for i in wanted if i in done], reused=False)

    @activity.defn(name="create_postiz_post")
    async def create_postiz_post(self, request: CreatePostRequest) -> CreatePostResult:
        return await on_http(self.create_sync, request)
