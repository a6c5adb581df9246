"""Lambda handler of the trigger API (a Function URL): Payload's way in.

The Function URL event -> the gate (gate.py: body limit, signature, request-id replay) -> the
one Powertools app (api.py: the API's routes, the review pages, the docs) -> Temporal
(service.py). This module only wires them to the deployment's settings and clients.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from botocore.config import Config
from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from functions.trigger.api import serve
from functions.trigger.gate import SignedOnce
from functions.trigger.postiz_channels import PostizChannels
from functions.trigger.replay import RequestLog
from functions.trigger.review import PREFIX as REVIEW_PREFIX
from functions.trigger.review import ReviewDeps
from functions.trigger.service import TemporalService
from functions.trigger.signing import Key, keyring
from smm_runtime.account_channels import AccountChannels
from smm_runtime.contract import TASK_QUEUE
from smm_runtime.lambda_entry import lambda_entry
from smm_runtime.ledger import Ledger
from smm_runtime.temporal_conn import CachedClient

logger = Logger(service="trigger")
PRESIGN_SECONDS = 300
tracer = Tracer(service="trigger")  # X-Ray; off locally (POWERTOOLS_TRACE_DISABLED)


class TriggerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMM_")

    idempotency_table: str
    ledger_table: str | None = None
    output_bucket: str
    assets_bucket: str | None = None
    task_queue: str = TASK_QUEUE
    # On AWS the HMAC secret lives in Secrets Manager; locally, in the env.
    trigger_secret: SecretStr | None = None
    # Postiz, for the preflight of each publish's channels (optional: without it the
    # workflow alone checks what needs the channels' providers).
    postiz_url: str | None = None
    postiz_api_key_secret_arn: str | None = None
    postiz_api_key: SecretStr | None = None
    trigger_secret_arn: str | None = None
    # Review links (optional): their own secret, never the API's.
    review_link_secret: SecretStr | None = None
    review_link_secret_arn: str | None = None
    # Swagger UI of the API at GET /docs, unsigned (api_docs.py): for a development stage.
    api_docs: bool = False

    @field_validator("trigger_secret")
    @classmethod
    def _a_keyring(cls, value: SecretStr | None) -> SecretStr | None:
        """A secret that is no keyring stops the function at cold start, naming it."""
        if value is not None:
            keyring(value.get_secret_value())
        return value

    def review_secret(self) -> bytes | None:
        if self.review_link_secret is not None:
            return self.review_link_secret.get_secret_value().encode()
        if self.review_link_secret_arn:
            from aws_lambda_powertools.utilities import parameters

            return str(parameters.get_secret(self.review_link_secret_arn, max_age=3600)).encode()
        return None

    def keys(self) -> dict[str, Key]:
        """The keyring senders may sign with: {"<key id>": "<secret>"} or one plain secret
        (read again within the hour, so a key added for rotation is accepted without a
        deploy)."""
        if self.trigger_secret is not None:
            return keyring(self.trigger_secret.get_secret_value())
        if self.trigger_secret_arn:
            from aws_lambda_powertools.utilities import parameters

            return keyring(str(parameters.get_secret(self.trigger_secret_arn, max_age=3600)))
        raise ValueError("set SMM_TRIGGER_SECRET_ARN (or SMM_TRIGGER_SECRET locally)")


settings = TriggerSettings()  # a misconfigured function fails at cold start
_loop = asyncio.new_event_loop()  # kept across warm invocations, with the Temporal client
_clients = CachedClient(service="smm-trigger")


@cache
def account_channels() -> AccountChannels | None:
    if not settings.ledger_table:
        return None
    return AccountChannels(boto3.client("dynamodb"), settings.ledger_table)


@cache
def ledger() -> Ledger | None:
    return (
        Ledger(boto3.client("dynamodb"), settings.ledger_table) if settings.ledger_table else None
    )


@cache
def replay_guard() -> RequestLog:
    return RequestLog(boto3.client("dynamodb"), settings.idempotency_table)


@cache
def s3() -> Any:
    # SigV4 presigned URLs carry their own lifetime (X-Amz-Expires).
    return boto3.client("s3", config=Config(signature_version="s3v4"))


def presign(uri: str) -> str:
    """A five-minute GET URL for a rendered output (the review page's media)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    url: str = s3().generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=PRESIGN_SECONDS
    )
    return url


def presign_if_present(uri: str) -> str | None:
    """The review page's contact sheet: renders from before them have none."""
    from botocore.exceptions import ClientError

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        s3().head_object(Bucket=bucket, Key=key)
    except ClientError:
        return None
    return presign(uri)


@cache
def postiz_key() -> str:
    if settings.postiz_api_key is not None:
        return settings.postiz_api_key.get_secret_value()
    if settings.postiz_api_key_secret_arn:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_secret(settings.postiz_api_key_secret_arn, max_age=3600))
    raise ValueError("set SMM_POSTIZ_API_KEY_SECRET_ARN (or SMM_POSTIZ_API_KEY locally)")


channels = PostizChannels(settings.postiz_url, postiz_key)


def gate() -> SignedOnce:
    # The keyring is read per request (Secrets Manager, cached for the hour), so a key
    # added for rotation is accepted without a deploy.
    return SignedOnce(settings.keys, replay_guard())


async def _serve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    client = await _clients.get()
    service = TemporalService(
        client,
        settings.task_queue,
        settings.output_bucket,
        settings.assets_bucket,
        ledger(),
        account_channels(),
    )
    review = None
    if str(event.get("rawPath", "")).startswith(REVIEW_PREFIX):
        review = ReviewDeps(
            secret=settings.review_secret(),
            replay=replay_guard(),
            presign=presign,
            present=presign_if_present,
        )
    return await serve(
        event,
        context,
        gate=gate(),
        service=service,
        review=review,
        docs=settings.api_docs,
        channels=channels,
        channel_names=channels.names,
    )


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    answer = _loop.run_until_complete(_serve(event, context))
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "GET")).upper()
    path = str(event.get("rawPath", "/"))
    # A review path holds the signed link, a credential: it is never logged.
    path = REVIEW_PREFIX + "[link]" if path.startswith(REVIEW_PREFIX) else path
    logger.info("request", extra={"method": method, "path": path, "status": answer["statusCode"]})
    return answer


lambda_handler = lambda_entry(logger, tracer, _handle)  # bodies may hold secrets: never logged
