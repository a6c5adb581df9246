"""How Postiz refuses a create: the DTO's ValidationPipe, then ``validatePosts``.

gitroomhq/postiz-app@74b01ada (``postiz_rules.UPSTREAM``):

- DTO  libraries/nestjs-libraries/src/dtos/posts/create.post.dto.ts L25-131,
       dtos/media/media.dto.ts L4-22, helpers/src/utils/valid.images.ts L8-27,
       helpers/src/utils/valid.url.path.ts L7-26; run by posts.service.ts mapTypeToPost
       L285-296 (NestJS ValidationPipe: messages flattened, nested ones prefixed by path)
- SVC  libraries/nestjs-libraries/src/database/prisma/posts/posts.service.ts validatePosts
       L763-875, called by the controller L225-259
- PVE  apps/backend/src/api/routes/posts.validation.exception.ts L24-39 (the 400 shape)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from smm_local import postiz_rules as rules


class PostizError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body
        self.headers = headers or {}


def bad_request(message: Any) -> PostizError:
    # NestJS's BadRequestException / ValidationPipe answer shape.
    return PostizError(400, {"message": message, "error": "Bad Request", "statusCode": 400})


def iso_date(value: Any) -> bool:
    # class-validator IsDateString (ISO 8601).
    try:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return isinstance(value, str)


def validate_create(body: dict[str, Any], identifiers: dict[str, str]) -> list[str]:
    """DTO through SVC.mapTypeToPost's ValidationPipe: the messages NestJS flattens, each
    nested one prefixed with its path. The pipe sees every post as type 'schedule' (SVC
    L273-274), so settings are validated even for drafts."""
    problems: list[str] = []
    if body.get("type") not in ("draft", "schedule", "now", "update"):
        problems.append("type must be one of the following values: draft, schedule, now, update")
    if not isinstance(body.get("shortLink"), bool):
        problems.append("shortLink must be a boolean value")
    if not iso_date(body.get("date")):
        problems.append("date must be a valid ISO 8601 date string")
    tags = body.get("tags")
    if not isinstance(tags, list):
        problems.append("tags must be an array")
    else:
        for i, tag in enumerate(tags):
            for prop in ("value", "label"):
                if not isinstance(tag, dict) or not isinstance(tag.get(prop), str):
                    problems.append(f"tags.{i}.{prop} must be a string")
    for i, post in enumerate(body.get("posts") or []):
        values = post.get("value")
        if not isinstance(values, list) or not values:
            problems.append(f"posts.{i}.value must contain at least 1 elements")
            continue
        for j, value in enumerate(values):
            where = f"posts.{i}.value.{j}"
            image = value.get("image") if isinstance(value, dict) else None
            if not isinstance(image, list):
                problems.append(f"{where}.image must be an array")
                image = []
            content = value.get("content") if isinstance(value, dict) else None
            if not rules.plain(content or "").strip() and not image:
                problems.append(
                    f"{where}. If images do not exist, content must be a non-empty string."
                )
            for k, media in enumerate(image):
                if not isinstance(media, dict) or not isinstance(media.get("id"), str):
                    problems.append(f"{where}.image.{k}.id must be a string")
                path = media.get("path") if isinstance(media, dict) else None
                if not isinstance(path, str) or not path.split("?")[0].endswith(
                    (".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4")
                ):
                    problems.append(
                        f"{where}.image.{k}.File must have a valid extension: "
                        ".png, .jpg, .jpeg, .gif, .webp, or .mp4"
                    )
        check = rules.provider(identifiers[post["integration"]["id"]]).settings
        if check is not None:
            settings = post.get("settings") or {}
            problems += [f"posts.{i}.settings.{m}" for m in check(settings)]
    return problems


def validate_posts(body: dict[str, Any], integrations: dict[str, str]) -> None:
    """SVC.validatePosts L763-859 and CTRL L238-259: the first failing post, worded by
    PVE as {statusCode, provider, name, message}."""
    for post in body["posts"]:
        identifier = integrations[post["integration"]["id"]]
        prov = rules.provider(identifier)
        settings = post.get("settings") or {}
        media = [v.get("image") or [] for v in post["value"]]

        def fail(message: str, prov: rules.Provider = prov) -> PostizError:
            return PostizError(
                400,
                {
                    "statusCode": 400,
                    "provider": prov.identifier,
                    "name": prov.name,
                    "message": message,
                },
            )

        texts = [rules.plain(v.get("content") or "") for v in post["value"]]
        lengths = [
            max(rules.weighted_length(t), len(t)) if identifier == "x" else len(t) for t in texts
        ]
        if any(n == 0 and not v.get("image") for n, v in zip(lengths, post["value"], strict=True)):
            raise fail("Your post should have at least one character or one image.")
        if body["type"] == "draft":
            continue
        errors = prov.settings(settings) if prov.settings else []
        if errors:
            raise fail(errors[0])
        validity = prov.validity(media, settings)
        if validity is not True:
            raise fail(str(validity))
        if any(n > prov.max_length(settings) for n in lengths):
            raise fail("post is too long, please fix it")
