"""What Postiz does with the public-API calls the engine makes, as a state machine.

Every behaviour names what it reproduces in gitroomhq/postiz-app at one commit,
``postiz_rules.UPSTREAM`` (74b01ada154a177242d558bedc646fcfed100adf), file and lines:

- CTRL  apps/backend/src/public-api/routes/v1/public.integrations.controller.ts
        (upload L85-103, list L178-189, create L191-269, delete L271-279)
- SVC   libraries/nestjs-libraries/src/database/prisma/posts/posts.service.ts
        (mapTypeToPost L248-297, validatePosts L763-875, republish guard L880-898,
        createPost L900-970)
- REPO  libraries/nestjs-libraries/src/database/prisma/posts/posts.repository.ts
        (getPosts L129-216, deletePost L318-339, updatePost L387-398, changeState L413-448,
        createOrUpdatePost L508-674)
- DTO   libraries/nestjs-libraries/src/dtos/posts/create.post.dto.ts L25-131,
        dtos/media/media.dto.ts L4-22, dtos/posts/get.posts.dto.ts L7-17
- PVE   apps/backend/src/api/routes/posts.validation.exception.ts L24-39 (400 shape)
- PIPE  libraries/nestjs-libraries/src/upload/custom.upload.validation.ts L9-68
- FLOW  apps/orchestrator/src/workflows/post-workflows/post.workflow.v1.0.9.ts L138-160,
        L446-451 (publishing happens later, in Postiz's own workflow)
- AUTH  apps/backend/src/services/auth/public.auth.middleware.ts
- PRISMA libraries/nestjs-libraries/src/database/prisma/schema.prisma (Post.settings is a
        String: listed back as JSON text)

Rules of the text and settings per provider are in ``postiz_rules``, the rate limit in
``postiz_throttle``.
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from smm_local import postiz_rules as rules
from smm_local.postiz_throttle import Throttle
from smm_local.postiz_validation import (
    PostizError,
    bad_request,
    iso_date,
    validate_create,
    validate_posts,
)

IMAGE_LIMIT = 10 * 1024 * 1024  # PIPE.getMaxSize: images 10 MB
VIDEO_LIMIT = 1024 * 1024 * 1024  # PIPE.getMaxSize: videos 1 GB


def sniff(data: bytes) -> tuple[str, str] | None:
    """(mime, ext) from magic bytes, for the types PIPE allows (file-type's detection)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif", "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    if data[:2] == b"BM":
        return "image/bmp", "bmp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff", "tif"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "image/avif", "avif"
    if data[4:8] == b"ftyp" and data[8:12] in (b"isom", b"iso2", b"mp41", b"mp42", b"avc1"):
        return "video/mp4", "mp4"
    return None


def _parse(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _zulu(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class PostizState:
    api_key: str
    integrations: dict[str, str]  # id -> providerIdentifier
    rate_limit: int = 90
    rate_window_s: float = 3600.0
    org: str = "org-local"
    short_link_domain: str | None = None  # a short-link provider configured (DUB_TOKEN, ...)
    strip_x_links: bool = False  # STRIP_LINKS_FROM_X_POSTS
    publish_delay_s: float = 1.0  # how long Postiz's workflow takes to post a due post
    posts: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    forced_429: int = 0
    stick_next: int = 0  # the next N posts to go live stay QUEUE (Postiz's workers down)
    stuck_for_s: float | None = None  # how long they stay (None: until unstick)
    fail_next: list[str] = field(default_factory=list)  # reasons: the next posts end ERROR
    publish_faults: dict[str, int] = field(default_factory=dict)  # stuck / errored, as hit
    throttle: Throttle = field(init=False)
    _links: itertools.count[int] = field(default_factory=itertools.count, init=False)

    def __post_init__(self) -> None:
        self.throttle = Throttle(limit=self.rate_limit, ttl_s=self.rate_window_s)

    def authenticate(self, header: str | None) -> None:
        # AUTH: the bare key in Authorization (no "Bearer"); 401 with these words.
        if not header:
            raise PostizError(401, {"msg": "No API Key found"})
        if header != self.api_key:
            raise PostizError(401, {"msg": "Invalid API key"})

    def check_rate(self, method: str, url: str) -> dict[str, str]:
        """postiz_throttle: the headers to answer with; a 429 when blocked."""
        if not Throttle.applies(method, url):
            return {}
        if self.forced_429 > 0:  # a test's fault: a 429 as the guard words it
            self.forced_429 -= 1
            raise PostizError(
                429,
                {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"},
                {"Retry-After": "1"},
            )
        verdict = self.throttle.hit(f"{self.org}_posts")
        if not verdict.allowed:
            raise PostizError(
                429,
                {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"},
                verdict.headers,
            )
        return verdict.headers

    def upload(self, filename: str | None, data: bytes) -> dict[str, Any]:
        # CTRL.uploadSimple L93-95: a 'file' part is required. PIPE L36-53: the type comes
        # from the bytes; per-type limits; the stored name is the sent base name (last
        # extension removed, slashes replaced, 100 characters) with the detected extension.
        if filename is None:
            raise PostizError(400, {"msg": "No file provided"})
        detected = sniff(data)
        if detected is None:
            raise bad_request("Unsupported file type.")
        mime, ext = detected
        limit = IMAGE_LIMIT if mime.startswith("image/") else VIDEO_LIMIT
        if len(data) > limit:
            raise bad_request(f"File size exceeds the maximum allowed size of {limit} bytes.")
        base = filename.rsplit(".", 1)[0] if "." in filename.rsplit("/", 1)[-1] else filename
        base = base.replace("/", "_").replace("\\", "_")[:100] or "upload"
        media_id = str(uuid.uuid4())
        now = datetime.now(UTC).isoformat()
        media = {
            "id": media_id,
            "name": f"{base}.{ext}",
            "path": f"https://uploads.postiz.local/{media_id}.{ext}",
            "organizationId": self.org,
            "createdAt": now,
            "updatedAt": now,
        }
        self.uploads[media_id] = {**media, "mime": mime, "size": len(data)}
        return media

    # --- create --------------------------------------------------------------------------

    def create(self, body: Any, now: datetime) -> list[dict[str, Any]]:
        body = body if isinstance(body, dict) else {}
        posts = body.get("posts")
        # SVC.mapTypeToPost L253-255: checked first; a missing 'posts' fails here too.
        if not isinstance(posts, list) or not all(
            isinstance(p, dict)
            and isinstance(p.get("integration"), dict)
            and p["integration"].get("id")
            for p in posts
        ):
            raise bad_request("All posts must have an integration id")
        for post in posts:  # SVC L262-271
            if post["integration"]["id"] not in self.integrations:
                raise bad_request(f"Integration with id {post['integration']['id']} not found")
        problems = validate_create(body, self.integrations)
        if not posts:
            problems.append("posts must contain at least 1 elements")
        if problems:
            raise bad_request(problems)
        for post in posts:  # DTO L35: the content as stored is the sanitised content
            for value in post["value"]:
                value["content"] = rules.sanitize(value.get("content"))
        validate_posts(body, self.integrations)
        created = []
        for post in posts:
            rows = self._create_post(body, post, now)
            created.append({"postId": rows[0]["id"], "integration": post["integration"]["id"]})
        return created

    def _create_post(
        self, body: dict[str, Any], post: dict[str, Any], now: datetime
    ) -> list[dict[str, Any]]:
        kind = body["type"]
        first_id = post["value"][0].get("id")
        # SVC L908-917: saving a PUBLISHED post again as schedule/now is refused.
        if kind in ("schedule", "now") and not body.get("republish") and first_id:
            existing = next((p for p in self.posts if p["id"] == first_id), None)
            if existing is not None and existing["state"] == "PUBLISHED":
                raise bad_request(
                    f"This post was already published on "
                    f"{_parse(existing['publishDate']).strftime('%Y-%m-%d %H:%M')} UTC. Saving "
                    f"it this way would publish it again to "
                    f"{existing['integration']['providerIdentifier']}. To edit without "
                    "republishing, use type 'update'. To intentionally publish again, pass "
                    "republish: true."
                )
        identifier = self.integrations[post["integration"]["id"]]
        # SVC L921-936: links stripped for providers that strip them (X, when configured),
        # else shortened when asked and a short-link provider is configured.
        strip = identifier == "x" and self.strip_x_links
        for value in post["value"]:
            text = value["content"]
            if body["shortLink"] and not strip and self.short_link_domain:
                text = rules.short_links(text, self.short_link_domain, self._short_link)
            value["content"] = rules.strip_links(text) if strip else text
        # SVC L941: 'now' posts at the server's minute, others at the body's date.
        publish = now.replace(second=0, microsecond=0) if kind == "now" else _parse(body["date"])
        return self._create_or_update(body, post, publish, now)

    def _create_or_update(
        self, body: dict[str, Any], post: dict[str, Any], publish: datetime, now: datetime
    ) -> list[dict[str, Any]]:
        # REPO.createOrUpdatePost L521-523: the public path rotates the group (keepGroup
        # false): a fresh group for every call; a sent 'group' is never stored.
        group = str(uuid.uuid4())
        identifier = self.integrations[post["integration"]["id"]]
        settings = {**(post.get("settings") or {}), "__type": identifier}  # SVC L276-279
        rows: list[dict[str, Any]] = []
        for value in post["value"]:
            # REPO L570-586: upsert where id = value.id: an existing row is updated in
            # place; a new row gets an id of the database's choosing (the create data has
            # no id), so a sent id never names a new row.
            existing = next(
                (p for p in self.posts if value.get("id") and p["id"] == value["id"]), None
            )
            row: dict[str, Any] = (
                existing
                if existing is not None
                else {
                    "id": str(uuid.uuid4()),
                    "createdAt": now.isoformat(),
                    "creationMethod": "API",
                    "releaseURL": None,
                    "releaseId": None,
                    "error": None,
                    "deletedAt": None,
                }
            )
            row.update(
                {
                    "content": value["content"],
                    "publishDate": _zulu(publish),
                    "group": group,
                    "image": json.dumps(value.get("image") or []),
                    "settings": json.dumps(settings),
                    "parentPostId": rows[-1]["id"] if rows else None,
                    "integration": {
                        "id": post["integration"]["id"],
                        "providerIdentifier": identifier,
                        "name": post["integration"]["id"],
                        "picture": None,
                    },
                    # Only tags the organisation already has are attached (REPO L597-622);
                    # the double's organisation has none.
                    "tags": [],
                    "intervalInDays": None,
                }
            )
            if body["type"] != "update":  # REPO L555-560
                row["state"] = "DRAFT" if body["type"] == "draft" else "QUEUE"
            if existing is None:
                self.posts.append(row)
            rows.append(row)
        if post.get("group"):  # REPO L642-653: the sent group's posts are soft-deleted
            kept = {r["id"] for r in rows}
            for other in self.posts:
                if (
                    other["group"] == post["group"]
                    and other["id"] not in kept
                    and other["deletedAt"] is None
                ):
                    other.update(deletedAt=now.isoformat(), parentPostId=None)
        if body["type"] not in ("update", "draft"):  # SVC L953-960, startWorkflow L723-751
            rows[0]["queuedAt"] = now.isoformat()
        return rows

    def _short_link(self, url: str) -> str:
        return f"https://{self.short_link_domain}/{next(self._links):06x}"

    # --- Postiz's own publishing, later ----------------------------------------------------

    def advance(self, now: datetime) -> None:
        """FLOW: a queued post is published once due (L155-160): PUBLISHED with its
        releaseURL and releaseId (REPO.updatePost), or ERROR with the reason kept in the
        row's ``error`` (REPO.changeState), which the public list does not return."""
        for post in self.posts:
            if post["state"] != "QUEUE" or post["deletedAt"] or not post.get("queuedAt"):
                continue
            due = max(
                _parse(post["publishDate"]),
                datetime.fromisoformat(post["queuedAt"]) + timedelta(seconds=self.publish_delay_s),
            )
            held = post.get("stuck")
            if held and (held is True or now < datetime.fromisoformat(held)):
                continue
            if now < due:
                continue
            if self.stick_next > 0:
                self.stick_next -= 1
                post["stuck"] = (
                    True
                    if self.stuck_for_s is None
                    else (now + timedelta(seconds=self.stuck_for_s)).isoformat()
                )
                self.publish_faults["stuck"] = self.publish_faults.get("stuck", 0) + 1
                continue
            if self.fail_next:
                post.update(state="ERROR", error=self.fail_next.pop(0))
                self.publish_faults["errored"] = self.publish_faults.get("errored", 0) + 1
                continue
            release = uuid.uuid4().hex[:12]
            identifier = post["integration"]["providerIdentifier"]
            post.update(
                state="PUBLISHED",
                releaseId=release,
                releaseURL=f"https://{identifier}.example/{post['integration']['id']}/{release}",
            )

    def integrations_list(self) -> list[dict[str, Any]]:
        # CTRL.listIntegration L307-329: these fields; no customer on the double's channels.
        return [
            {
                "id": integration,
                "name": integration,
                "identifier": identifier,
                "picture": None,
                "disabled": False,
                "profile": integration,
            }
            for integration, identifier in self.integrations.items()
        ]

    def unstick(self) -> None:
        """Postiz's workers are back: every stuck post is published when next looked at."""
        self.stick_next = 0
        for post in self.posts:
            post.pop("stuck", None)

    # --- list and delete -----------------------------------------------------------------

    def listed(self, start: Any, end: Any, customer: str | None) -> list[dict[str, Any]]:
        # GetPostsDto: both dates ISO 8601 (ValidationPipe 400 otherwise).
        problems = [
            f"{name} must be a valid ISO 8601 date string"
            for name, value in (("startDate", start), ("endDate", end))
            if not iso_date(value)
        ]
        if problems:
            raise bad_request(problems)
        # REPO.getPosts L134-193: publishDate within [startDate, endDate], not deleted,
        # top-level posts only, these fields (no image, no error, no deletedAt); `customer`
        # keeps the posts of that customer's integrations (the double's have none).
        if customer:
            return []
        low, high = _parse(start), _parse(end)
        fields = (
            "id",
            "content",
            "publishDate",
            "releaseURL",
            "releaseId",
            "state",
            "intervalInDays",
            "group",
            "creationMethod",
            "settings",
            "tags",
            "integration",
        )
        return [
            {k: p[k] for k in fields}
            for p in self.posts
            if p["deletedAt"] is None
            and p["parentPostId"] is None
            and low <= _parse(p["publishDate"]) <= high
        ]

    def delete(self, post_id: str, now: datetime) -> dict[str, Any]:
        # CTRL.deletePost L277-278 then REPO.deletePost L318-339: the post's whole group is
        # soft-deleted. A post that does not exist (or is deleted) makes SVC.getPost read
        # posts[0] of an empty list: an unhandled TypeError, answered 500 by NestJS.
        post = next((p for p in self.posts if p["id"] == post_id and p["deletedAt"] is None), None)
        if post is None:
            raise PostizError(500, {"statusCode": 500, "message": "Internal server error"})
        for other in self.posts:
            if other["group"] == post["group"] and other["deletedAt"] is None:
                other["deletedAt"] = now.isoformat()
        return {"error": True}  # SVC.deletePost L684: the answer as upstream returns it
