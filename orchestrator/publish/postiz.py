"""Create the Postiz posts, exactly once, against what Postiz actually stores.

Postiz's public API has no idempotency key, picks its own post ids, rotates any ``group``
it is sent, and rewrites the text before storing it (sanitised, links shortened or
stripped), so neither ids, groups nor text can find a post again after a lost answer.
What it does store as sent, and lists back, is each post's ``settings`` object: keys its
provider settings DTO does not declare are kept (``mapTypeToPost`` validates without a
whitelist and ``createOrUpdatePost`` stores ``JSON.stringify(settings)``; see
docs/publishing.md for the lines). So every post carries ``smm_publish_key``.

A key alone still cannot stop a duplicate when a create commits after we have looked and
found nothing. So posts go out in two steps:

1. **Draft.** Create each channel's post as a Postiz *draft* (Postiz never publishes a
   draft). An ambiguous answer is resolved by listing and matching the key; a draft that
   commits late is only an extra draft. The draft chosen for a channel is claimed in S3
   with a conditional write, so two attempts racing each other agree on one.
2. **Promote.** Save the chosen draft again as ``schedule``, naming its id: Postiz upserts
   that row (it never creates a second one), and refuses to do it to a post already
   ``PUBLISHED``. Before promoting again after an ambiguous answer, the row's state is
   read: anything but ``DRAFT`` means the promotion landed.

Unchosen drafts carrying our key are deleted at the end (and by the follower later), so a
late draft does not linger in the editor's calendar.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from orchestrator.executors import on_http
from orchestrator.http_json import RATE_LIMITED, call
from smm_runtime.contract.channels import media_for
from smm_runtime.contract.errors import INVALID_REQUEST
from smm_runtime.contract.publish_io import CreatePostRequest, CreatePostResult

KEY_FIELD = "smm_publish_key"
# Listing is by publish date; ours is the one we sent, so a narrow window finds it.
LOOKUP_MARGIN = timedelta(minutes=2)
CLAIM_ATTEMPTS = 5  # a claim's conditional write, when S3 answers 409
DRAFT_GONE = "PostizDraftGone"
PARTIAL_POST = "PostizPartialPost"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def publish_key(workflow_id: str, generation: int = 0) -> str:
    """The key each post carries: derived from the business id (never the run id), and
    from the retry generation, so a retried channel gets a post of its own."""
    return hashlib.sha256(f"{workflow_id}#{generation}".encode()).hexdigest()[:32]


def channel_settings(request: CreatePostRequest, integration: str) -> dict[str, Any]:
    post = request.post
    settings = dict(post.channel_settings.get(integration, post.settings or {}))
    settings[KEY_FIELD] = publish_key(request.workflow_id, request.generation)
    return settings


def channel_media(
    request: CreatePostRequest, integration: str, provider: str
) -> list[dict[str, Any]]:
    """The media this channel's post carries: the preflight's choice when the workflow made
    one, else by kind (smm_runtime.contract.channels): Postiz names an upload by the type it
    detected, so the path's extension is the media's kind."""
    chosen = request.channel_media.get(integration)
    if chosen is not None:
        return [request.media[i].model_dump() for i in chosen if i < len(request.media)]
    kinds = [
        "video/mp4" if m.path.split("?")[0].endswith(".mp4") else "image/*" for m in request.media
    ]
    return [request.media[i].model_dump() for i in media_for(provider, kinds)]


def _post(
    request: CreatePostRequest, integration: str, provider: str, post_id: str | None
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "content": request.post.content,
        "image": channel_media(request, integration, provider),
    }
    if post_id:
        value["id"] = post_id
    return {
        "integration": {"id": integration},
        "value": [value],
        "settings": channel_settings(request, integration),
    }


def draft_body(
    request: CreatePostRequest, integrations: list[str], providers: dict[str, str], date: str
) -> dict[str, Any]:
    """Drafts for these channels; no ``group`` (Postiz would not keep it)."""
    return {
        "type": "draft",
        "date": date,
        "shortLink": request.post.short_link,
        "tags": [t.model_dump() for t in request.post.tags],
        "posts": [_post(request, i, providers.get(i, ""), None) for i in integrations],
    }


def promote_body(
    request: CreatePostRequest, chosen: dict[str, str], providers: dict[str, str], date: str
) -> dict[str, Any]:
    """The same posts again as ``schedule``, each naming its draft's row. The date is the
    one the drafts were made with: the workflow's durable timer has already waited for it,
    and Postiz publishes a due post at once."""
    return {
        "type": "schedule",
        "date": date,
        "shortLink": request.post.short_link,
        "tags": [t.model_dump() for t in request.post.tags],
        "posts": [
            _post(request, i, providers.get(i, ""), post_id) for i, post_id in chosen.items()
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

    def record_key(self, request: CreatePostRequest) -> str:
        suffix = f"#{request.generation}" if request.generation else ""
        return f"publish-records/{self._digest(request.workflow_id + suffix)}.json"

    def read(self, key: str) -> dict[str, Any] | None:
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

    def _claim(self, key: str, integration: str, post_id: str, workflow_id: str) -> str:
        """The draft this channel publishes: ours if we are first, else the one already
        claimed (a concurrent attempt of the same workflow got there before us)."""
        claim = f"publish-claims/{self._digest(key + '/' + integration)}.json"
        for _ in range(CLAIM_ATTEMPTS):
            try:
                self._s3.put_object(
                    Bucket=self._bucket,
                    Key=claim,
                    IfNoneMatch="*",
                    Body=json.dumps({"workflow_id": workflow_id, "post_id": post_id}).encode(),
                )
                return post_id
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
            holder = self.read(claim) or {}
            return str(holder.get("post_id") or post_id)
        raise RuntimeError(f"{claim}: conditional writes kept conflicting; the activity retries")

    # --- Postiz --------------------------------------------------------------------------

    def providers(self) -> dict[str, str]:
        """Integration id -> provider (CTRL listIntegration L307-329; not throttled)."""
        listed = call("GET", f"{self._base}/integrations", self._headers) or []
        return {str(i.get("id")): str(i.get("identifier")) for i in listed if isinstance(i, dict)}

    def listed(self, date: str) -> list[dict[str, Any]]:
        """Posts around the date we sent (Postiz lists by publish date only)."""
        moment = datetime.fromisoformat(date.replace("Z", "+00:00"))
        start, end = iso(moment - LOOKUP_MARGIN), iso(moment + LOOKUP_MARGIN)
        answer = call(
            "GET",
            f"{self._base}/posts?startDate={quote(start)}&endDate={quote(end)}",
            self._headers,
        )
        return list((answer or {}).get("posts", []))

    @staticmethod
    def key_of(post: dict[str, Any]) -> str | None:
        raw = post.get("settings")
        try:
            settings = json.loads(raw) if isinstance(raw, str) else (raw or {})
        except json.JSONDecodeError:
            return None
        return settings.get(KEY_FIELD) if isinstance(settings, dict) else None

    def ours(self, request: CreatePostRequest, date: str) -> list[dict[str, Any]]:
        key = publish_key(request.workflow_id, request.generation)
        return [p for p in self.listed(date) if self.key_of(p) == key]

    def _send(self, body: dict[str, Any], request: CreatePostRequest) -> Any:
        try:
            return call(
                "POST", f"{self._base}/posts", self._headers, body, timeout=request.http_timeout_s
            )
        except ApplicationError as err:
            if err.type == RATE_LIMITED and err.next_retry_delay is None:
                raise ApplicationError(
                    str(err),
                    type=RATE_LIMITED,
                    next_retry_delay=timedelta(seconds=request.rate_limited_wait_s),
                ) from None
            raise

    # --- the create ----------------------------------------------------------------------

    def _drafts(self, request: CreatePostRequest, record: dict[str, Any], rkey: str) -> None:
        chosen: dict[str, str] = record["chosen"]
        missing = [i for i in request.post.integrations if i not in chosen]
        if missing and record.get("drafting"):
            # An earlier draft create got no answer: whatever it made is listed by key.
            found: dict[str, list[str]] = {}
            for post in self.ours(request, record["date"]):
                found.setdefault((post.get("integration") or {}).get("id", ""), []).append(
                    post["id"]
                )
            for integration in missing:
                if found.get(integration):
                    chosen[integration] = self._claim(
                        record["key"], integration, min(found[integration]), request.workflow_id
                    )
            missing = [i for i in request.post.integrations if i not in chosen]
        if not missing:
            return
        self._write(rkey, {**record, "drafting": True})
        try:
            body = draft_body(request, missing, record["providers"], record["date"])
            created = self._send(body, request) or []
        except ApplicationError as err:
            if err.type in (RATE_LIMITED, INVALID_REQUEST):  # answered: nothing was created
                self._write(rkey, {**record, "drafting": False})
            raise
        for item in created:
            integration = item.get("integration")
            if integration in missing:
                chosen[integration] = self._claim(
                    record["key"], integration, item["postId"], request.workflow_id
                )
        record["drafting"] = False
        self._write(rkey, record)

    def _settle_promotions(self, request: CreatePostRequest, record: dict[str, Any]) -> None:
        """Mark promoted every chosen row Postiz no longer holds as a draft."""
        rows = {p["id"]: p for p in self.ours(request, record["date"])}
        for integration in request.post.integrations:
            if integration in record["promoted"]:
                continue
            row = rows.get(record["chosen"][integration])
            if row is None:
                raise ApplicationError(
                    f"the Postiz draft for {integration} ({record['chosen'][integration]}) "
                    "was deleted in Postiz before it was published; publish again",
                    type=DRAFT_GONE,
                    non_retryable=True,
                )
            if row.get("state") != "DRAFT":
                record["promoted"].append(integration)

    def _promote(self, request: CreatePostRequest, record: dict[str, Any], rkey: str) -> None:
        """One create promotes every chosen draft. Postiz saves the posts of a create one
        after another and its republish guard stops at a PUBLISHED one, so after an
        ambiguous answer or that refusal the rows' states say which were promoted."""
        if record.get("promoting"):
            self._settle_promotions(request, record)
        for _ in range(len(request.post.integrations) + 1):
            todo = [i for i in request.post.integrations if i not in record["promoted"]]
            if not todo:
                break
            self._write(rkey, {**record, "promoting": True})
            chosen = {i: record["chosen"][i] for i in todo}
            body = promote_body(request, chosen, record["providers"], record["date"])
            try:
                self._send(body, request)
            except ApplicationError as err:
                # Postiz's republish guard: one of them is PUBLISHED already, so it is live.
                if not (err.type == INVALID_REQUEST and "already published" in str(err)):
                    raise
                self._settle_promotions(request, record)
                continue
            record["promoted"] += todo
        record["promoting"] = False
        self._write(rkey, record)

    def _sweep(self, request: CreatePostRequest, record: dict[str, Any]) -> None:
        """Delete our drafts that were not chosen (late commits, lost races): best effort."""
        chosen = set(record["chosen"].values())
        try:
            for post in self.ours(request, record["date"]):
                if post["id"] not in chosen and post.get("state") == "DRAFT":
                    call("DELETE", f"{self._base}/posts/{quote(post['id'])}", self._headers)
        except ApplicationError:
            pass  # the follower sweeps again

    @staticmethod
    def _old_record(request: CreatePostRequest, rkey: str, post_ids: list[str]) -> CreatePostResult:
        """A record of the first releases lists the ids Postiz answered, not which channel
        each is for: fewer ids than channels was a partial post, which that release reported
        as a success. Posting again could double the channels that did get one."""
        wanted = request.post.integrations
        if len(post_ids) != len(wanted):
            raise ApplicationError(
                f"post.integrations: the publish record {rkey} (from an earlier release) holds "
                f"{len(post_ids)} Postiz post(s) {post_ids} for {len(wanted)} channel(s) "
                f"{wanted}; find in Postiz which channels have no post, post to those there, "
                "and end this publish",
                type=PARTIAL_POST,
                non_retryable=True,
            )
        return CreatePostResult(post_ids=post_ids, reused=True)

    def create_sync(
        self, request: CreatePostRequest, now: datetime | None = None
    ) -> CreatePostResult:
        now = now or datetime.now(UTC)
        rkey = self.record_key(request)
        record = self.read(rkey) or {"workflow_id": request.workflow_id}
        if record.get("post_ids"):  # written by an earlier release: the post exists
            return self._old_record(request, rkey, list(record["post_ids"]))
        if "posts" in record and "chosen" not in record:
            # Written by the release before drafts: its posts went out as 'now' and are
            # live; they are this run's chosen and promoted posts.
            record["chosen"] = dict(record.pop("posts"))
            record["promoted"] = list(record["chosen"])
        fresh = "chosen" not in record or not record["chosen"]
        record.setdefault("key", publish_key(request.workflow_id, request.generation))
        record.setdefault("date", iso(request.post.publish_at or now))
        record.setdefault("chosen", {})
        record.setdefault("promoted", [])
        if "providers" not in record:
            record["providers"] = self.providers()
        unknown = [i for i in request.post.integrations if i not in record["providers"]]
        if unknown:
            raise ApplicationError(
                f"post.integrations: {unknown} are not channels of this Postiz organisation "
                f"(it has {sorted(record['providers'])}); connect them in Postiz or fix the list",
                type=INVALID_REQUEST,
                non_retryable=True,
            )
        self._drafts(request, record, rkey)
        if request.post.type != "draft":
            self._promote(request, record, rkey)
        self._sweep(request, record)
        wanted = request.post.integrations
        return CreatePostResult(
            post_ids=[record["chosen"][i] for i in wanted],
            by_channel={i: record["chosen"][i] for i in wanted},
            date=record["date"],
            reused=not fresh,
        )

    @activity.defn(name="postiz_channels")
    async def postiz_channels(self) -> dict[str, str]:
        """The organisation's channels: integration id -> provider (for the preflight)."""
        return await on_http("postiz", self.providers)

    @activity.defn(name="create_postiz_post")
    async def create_postiz_post(self, request: CreatePostRequest) -> CreatePostResult:
        return await on_http("postiz", self.create_sync, request)
