"""What Postiz does with the public-API calls the engine makes, as a state machine.

Every behaviour names the upstream file it reproduces, in gitroomhq/postiz-app, at the commit
of the stored copy that was read (the copies come from different commits; docs/publishing.md
names them as the supported version):

- CTRL  apps/backend/src/public-api/routes/v1/public.integrations.controller.ts @00b59ec2
- REPO  libraries/nestjs-libraries/src/database/prisma/posts/posts.repository.ts @01219ef9
- DTO   libraries/nestjs-libraries/src/dtos/posts/create.post.dto.ts @0508adbc
- PIPE  libraries/nestjs-libraries/src/upload/custom.upload.validation.ts @00b59ec2
- EXT   libraries/helpers/src/utils/has.extension.ts @b84d606b
- THR   libraries/nestjs-libraries/src/throttler/throttler.provider.ts @0d486f75
- AUTH  apps/backend/src/services/auth/public.auth.middleware.ts @0508adbc
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# EXT: the media the public API accepts, detected from the bytes (PIPE uses file-type).
IMAGE_LIMIT = 10 * 1024 * 1024  # PIPE.getMaxSize: images 10 MB
VIDEO_LIMIT = 1024 * 1024 * 1024  # PIPE.getMaxSize: videos 1 GB
VALID_EXTENSIONS = "Valid extensions: .png, .jpg, .jpeg, .gif, .webp, .mp4"
# Not in the stored upstream copies: ARCHITECTURE.md records that current Postiz refuses
# schedule dates in the past; the double refuses any older than a minute.
PAST_GRACE = timedelta(minutes=1)


class PostizError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body


def sniff(data: bytes) -> tuple[str, str] | None:
    """(mime, ext) from magic bytes, for the types EXT allows; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif", "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"isom", b"iso2", b"mp41", b"mp42", b"avc1"):
        return "video/mp4", "mp4"
    return None


def _bad_request(messages: list[str]) -> PostizError:
    # NestJS ValidationPipe's answer shape.
    return PostizError(400, {"message": messages, "error": "Bad Request", "statusCode": 400})


def validate_create(body: Any) -> list[str]:
    """DTO: CreatePostDto's class-validator rules, as NestJS words them."""
    if not isinstance(body, dict):
        return ["body must be an object"]
    problems = []
    if body.get("type") not in ("draft", "schedule", "now"):
        problems.append("type must be one of the following values: draft, schedule, now")
    if not isinstance(body.get("shortLink"), bool):
        problems.append("shortLink must be a boolean value")
    date = body.get("date")
    try:
        datetime.fromisoformat(str(date).replace("Z", "+00:00"))
    except ValueError:
        problems.append("date must be a valid ISO 8601 date string")
    tags = body.get("tags")
    if not isinstance(tags, list):
        problems.append("tags must be an array")
    else:
        for i, tag in enumerate(tags):
            if not isinstance(tag, dict) or not all(
                isinstance(tag.get(k), str) for k in ("value", "label")
            ):
                problems.append(f"tags.{i}.value and label must be strings")
    posts = body.get("posts")
    if body.get("type") != "draft" or posts is not None:
        if not isinstance(posts, list) or not posts:
            problems.append("posts must contain at least 1 elements")
        for i, post in enumerate(posts if isinstance(posts, list) else []):
            values = post.get("value") if isinstance(post, dict) else None
            if not isinstance(values, list) or not values:
                problems.append(f"posts.{i}.value must contain at least 1 elements")
                continue
            for j, value in enumerate(values):
                content = value.get("content") if isinstance(value, dict) else None
                if not isinstance(content, str) or len(content) < 6:
                    problems.append(
                        f"posts.{i}.value.{j}.content must be longer than or equal to 6 characters"
                    )
    return problems


@dataclass
class PostizState:
    api_key: str
    integrations: dict[str, str]  # id -> providerIdentifier
    rate_limit: int = 90
    refuse_past_schedule: bool = True
    org: str = "org-local"
    posts: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    hits: list[float] = field(default_factory=list)
    forced_429: int = 0

    def authenticate(self, header: str | None) -> None:
        # AUTH: the bare key in Authorization (no "Bearer"); 401 with these words.
        if not header:
            raise PostizError(401, {"msg": "No API Key found"})
        if header != self.api_key:
            raise PostizError(401, {"msg": "Invalid API key"})

    def throttle(self, method: str, path: str) -> None:
        # THR: only POST /public/v1/posts is throttled, per organization, over an hour;
        # @nestjs/throttler's 429 with no rate headers (none are documented or relied on).
        if not (method == "POST" and "/public/v1/posts" in path):
            return
        if self.forced_429 > 0:
            self.forced_429 -= 1
            raise PostizError(
                429, {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}
            )
        now = time.monotonic()
        self.hits = [t for t in self.hits if now - t < 3600]
        if len(self.hits) >= self.rate_limit:
            raise PostizError(
                429, {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}
            )
        self.hits.append(now)

    def upload(self, filename: str | None, data: bytes) -> dict[str, Any]:
        # CTRL.uploadSimple + PIPE: a 'file' part is required; the type comes from the
        # bytes, not the name or the declared type; per-type size limits; the stored name
        # gets the detected extension.
        if filename is None:
            raise PostizError(400, {"msg": "No file provided"})
        detected = sniff(data)
        if detected is None:
            raise _bad_request([f"Unsupported file type. {VALID_EXTENSIONS}"])
        mime, ext = detected
        limit = IMAGE_LIMIT if mime.startswith("image/") else VIDEO_LIMIT
        if len(data) > limit:
            raise _bad_request([f"File size exceeds the maximum allowed size of {limit} bytes."])
        base = (filename.rsplit(".", 1)[0] if "." in filename else filename) or "upload"
        media_id = str(uuid.uuid4())
        now = datetime.now(UTC).isoformat()
        media = {
            "id": media_id,
            "name": f"{base[:100]}.{ext}",
            "path": f"https://uploads.postiz.local/{media_id}.{ext}",
            "organizationId": self.org,
            "createdAt": now,
            "updatedAt": now,
        }
        self.uploads[media_id] = {**media, "mime": mime, "size": len(data)}
        return media

    def create(self, body: Any, now: datetime) -> list[dict[str, Any]]:
        problems = validate_create(body)
        if problems:
            raise _bad_request(problems)
        posts = body.get("posts") or []
        # CTRL→mapTypeToPost: every post needs a known integration, checked before any write.
        for post in posts:
            integration = (post.get("integration") or {}).get("id")
            if not integration:
                raise PostizError(
                    400,
                    {
                        "message": "All posts must have an integration id",
                        "error": "Bad Request",
                        "statusCode": 400,
                    },
                )
            if integration not in self.integrations:
                raise PostizError(
                    400,
                    {
                        "message": f"Integration with id {integration} not found",
                        "error": "Bad Request",
                        "statusCode": 400,
                    },
                )
        date = datetime.fromisoformat(body["date"].replace("Z", "+00:00"))
        if body["type"] == "schedule" and self.refuse_past_schedule and date < now - PAST_GRACE:
            raise _bad_request(["date must not be in the past"])
        created = []
        for post in posts:
            rows = self._create_or_update(body, post, now)
            created.append({"postId": rows[0]["id"], "integration": post["integration"]["id"]})
        return created

    def _create_or_update(
        self, body: dict[str, Any], post: dict[str, Any], now: datetime
    ) -> list[dict[str, Any]]:
        # The service passes 'now' posts the server's minute, others the body's date.
        publish = (
            now.replace(second=0, microsecond=0)
            if body["type"] == "now"
            else datetime.fromisoformat(body["date"].replace("Z", "+00:00"))
        )
        # REPO.createOrUpdatePost on the public path (keepGroup false): a fresh group for
        # every call; a sent 'group' is never stored.
        group = str(uuid.uuid4())
        rows: list[dict[str, Any]] = []
        for value in post["value"]:
            # REPO: upsert where id = value.id: an existing row is updated in place; a new
            # row gets an id of the database's choosing (the create data has no id).
            existing = next(
                (p for p in self.posts if value.get("id") and p["id"] == value["id"]), None
            )
            row: dict[str, Any] = (
                existing
                if existing is not None
                else {"id": str(uuid.uuid4()), "createdAt": now.isoformat()}
            )
            row.update(
                {
                    "content": value["content"],
                    "publishDate": publish.isoformat().replace("+00:00", "Z"),
                    "group": group,
                    "state": "DRAFT" if body["type"] == "draft" else "QUEUE",
                    "image": value.get("image") or [],
                    "settings": post.get("settings") or {},
                    "creationMethod": "API",
                    "releaseURL": None,
                    "releaseId": None,
                    "parentPostId": rows[-1]["id"] if rows else None,
                    "deletedAt": None,
                    "integration": {
                        "id": post["integration"]["id"],
                        "providerIdentifier": self.integrations[post["integration"]["id"]],
                        "name": post["integration"]["id"],
                        "picture": None,
                    },
                    "tags": [{"tag": {"name": t["label"]}} for t in body.get("tags", [])],
                }
            )
            if existing is None:
                self.posts.append(row)
            rows.append(row)
        # REPO: with a 'group' in the body (and keepGroup false), every other post of that
        # group is soft-deleted: sending a group twice deletes the first posts.
        if post.get("group"):
            kept = {r["id"] for r in rows}
            for other in self.posts:
                if (
                    other["group"] == post["group"]
                    and other["id"] not in kept
                    and other["deletedAt"] is None
                ):
                    other.update(deletedAt=now.isoformat(), parentPostId=None)
        return rows

    def listed(self, start: str, end: str, customer: str | None) -> list[dict[str, Any]]:
        # REPO.getPosts: publishDate within [startDate, endDate], not deleted, top-level
        # posts only, with these fields (no image, no deletedAt); `customer` keeps the posts
        # of integrations of that customer, and the double's integrations have none.
        if customer:
            return []
        low = datetime.fromisoformat(start.replace("Z", "+00:00"))
        high = datetime.fromisoformat(end.replace("Z", "+00:00"))
        fields = (
            "id",
            "content",
            "publishDate",
            "releaseURL",
            "releaseId",
            "state",
            "group",
            "creationMethod",
            "settings",
            "tags",
            "integration",
        )
        return [
            {k: p[k] for k in fields} | {"intervalInDays": None}
            for p in self.posts
            if p["deletedAt"] is None
            and p["parentPostId"] is None
            and low <= datetime.fromisoformat(p["publishDate"].replace("Z", "+00:00")) <= high
        ]

    def delete(self, post_id: str, now: datetime) -> dict[str, Any]:
        # CTRL.deletePost: find the post, then soft-delete its whole group.
        post = next((p for p in self.posts if p["id"] == post_id and p["deletedAt"] is None), None)
        if post is None:
            raise PostizError(400, {"message": "Post not found", "statusCode": 400})
        for other in self.posts:
            if other["group"] == post["group"] and other["deletedAt"] is None:
                other["deletedAt"] = now.isoformat()
        return {"error": True}  # REPO/service answer shape as upstream returns it
