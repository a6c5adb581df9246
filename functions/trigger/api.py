"""The trigger as one Powertools app (LambdaFunctionUrlResolver), built once per process.

The resolver routes, validates each body against the contract's models (a bad one is a 400
naming the field, in our error shape), answers 404 and 405, and generates the OpenAPI
description from these same routes. The review pages are a Router of their own (review.py),
the optional API docs another (api_docs.py). What must happen before any route is looked at
— the body limit, the signature, request-id replay — is the gate around the resolver
(gate.py); ``serve`` puts the two together for one request. What a request brings (the
Temporal service, the key that signed it, the review settings) travels in the resolver's
context, which Powertools clears after every request, so nothing of one caller's request can
reach another's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Annotated, Any, cast

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver
from aws_lambda_powertools.event_handler import Response as HttpResponse
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel

from functions.trigger.api_docs import DOCS_JSON_PATH, DOCS_PATH
from functions.trigger.api_docs import router as docs_router
from functions.trigger.gate import SignedOnce
from functions.trigger.review import PREFIX as REVIEW_PREFIX
from functions.trigger.review import ReviewDeps, review_answer
from functions.trigger.review import router as review_router
from functions.trigger.service import DocumentTaken, Service
from functions.trigger.signing import Key
from smm_runtime.account_channels import channel_refusal
from smm_runtime.contract.ownership import ACCOUNT_PATTERN
from smm_runtime.contract.preflight import facts_of, preflight
from smm_runtime.contract.publish_io import ApprovalDecision
from smm_runtime.contract.trigger_io import (
    AcceptedResponse,
    ChannelEntry,
    ChannelsResponse,
    ErrorResponse,
    PublishRequest,
)
from smm_runtime.contract.validation import ContractError

ACCOUNT = re.compile(ACCOUNT_PATTERN)
WORKFLOW_ID = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")
# Every route's path and method, for telling a wrong method (405) from no route (404).
METHODS = (
    (re.compile(r"^/v1/publish$"), "POST"),
    (re.compile(r"^/v1/credits/[^/]+$"), "GET"),
    (re.compile(r"^/v1/channels/[^/]+$"), "GET"),
    (re.compile(r"^/v1/workflows/[^/]+/approval$"), "POST"),
    (re.compile(r"^/v1/workflows/[^/]+/retry$"), "POST"),
    (re.compile(r"^/v1/workflows/[^/]+$"), "GET"),
)
LIMIT = 5  # validation errors named in one answer


def answer(status: int, body: BaseModel | dict[str, Any]) -> HttpResponse[str]:
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return HttpResponse(status_code=status, content_type="application/json", body=json.dumps(data))


def error(status: int, message: str, field: str | None = None) -> HttpResponse[str]:
    return answer(status, ErrorResponse(error=message, field=field))


def _validation_answer(err: RequestValidationError) -> HttpResponse[str]:
    """Our 400: 'post.integrations: List should have at least 1 item; ...', field named."""
    items = list(err.errors())
    if items and items[0].get("type") == "json_invalid":
        reason = (items[0].get("ctx") or {}).get("error", "JSON decode error")
        return error(400, f"body: not valid JSON ({reason})", "body")
    parts, first = [], None
    for item in items[:LIMIT]:
        loc = [str(p) for p in item.get("loc", ()) if p != "body"]
        path = ".".join(loc) or "(root)"
        first = first or (".".join(loc) or "body")
        parts.append(f"{path}: {item.get('msg')}")
    if len(items) > LIMIT:
        parts.append(f"(+{len(items) - LIMIT} more)")
    return error(400, "; ".join(parts) or "body: invalid", first or "body")


app = LambdaFunctionUrlResolver(enable_validation=True)
app.include_router(review_router)
app.include_router(docs_router)


def _service() -> Service:
    return cast(Service, app.context["service"])


def _key() -> Key:
    key = app.context.get("key")
    assert isinstance(key, Key), "the gate admits every API request with the key that signed it"
    return key


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def bad_input(err: RequestValidationError) -> HttpResponse[str]:
    return _validation_answer(err)


@app.not_found
async def no_route(_: NotFoundError) -> HttpResponse[str]:
    path, method = app.current_event.path, app.current_event.http_method.upper()
    if path.startswith(REVIEW_PREFIX):  # a review link the routes cannot take (a method, a /)
        deps = cast(ReviewDeps, app.context["review"])
        return await review_answer(method, path[len(REVIEW_PREFIX) :], b"", deps)
    if any(pattern.match(path) and method != allowed for pattern, allowed in METHODS):
        allowed = next(m for p, m in METHODS if p.match(path))
        return error(405, f"use {allowed}")
    return error(404, f"no route for {path}")


@app.post("/v1/publish", summary="Start publishing a document (idempotent per collection + doc id)")
async def publish(request: Annotated[PublishRequest, Body()]) -> HttpResponse[str]:
    key = _key()
    if request.account is None and not key.may_act_for(None):
        return error(
            403,
            "account: the key that signed this request acts only for "
            f"{sorted(key.accounts or ())}; name the account to bill",
            "account",
        )
    if not key.may_act_for(request.account):
        return error(
            403,
            f"account: the key that signed this request may not act for {request.account!r}",
            "account",
        )
    if request.account is not None:
        allowed = await _service().allowed_channels(request.account)
        denied = channel_refusal(request.account, request.post.integrations, allowed)
        if denied is not None:
            return error(403, denied[1], denied[0])
    refused = refusal(request)
    if refused is not None:
        return refused
    try:
        started = await _service().start_publish(request)
    except DocumentTaken:
        return error(
            409,
            f"doc_id: {request.collection}/{request.doc_id} is published for another account; "
            "a document belongs to one account (use that account, or a document of your own)",
            "doc_id",
        )
    return answer(200 if started.existing else 202, started)


def refusal(request: PublishRequest) -> HttpResponse[str] | None:
    """The creative parsed as the workflow will parse it, and every channel's preflight:
    a 400 naming the field now, not a failed workflow after the render."""
    try:
        facts = facts_of(request.creative.kind, request.creative.spec)
    except ContractError as err:
        return error(400, str(err), f"creative.{err.field}" if err.field else "creative.spec")
    channels = cast(Callable[[], "dict[str, str] | None"], app.context["channels"])
    checked = preflight(request.post, facts, channels())
    if checked.refusals:
        return error(400, "; ".join(str(r) for r in checked.refusals), checked.refusals[0].field)
    return None


def account_refusal(route: str, account: str) -> HttpResponse[str] | None:
    """The answer to a read of ``/v1/<route>/<account>`` the caller may not make: 404 for a
    name that is no account id, 403 naming ``account`` when the signing key may not act for
    it; None when it may."""
    if not ACCOUNT.match(account):
        return error(404, f"no route for /v1/{route}/{account}")
    if not _key().may_act_for(account):
        return error(
            403,
            f"account: the key that signed this request may not read {account!r}",
            "account",
        )
    return None


@app.get(
    "/v1/credits/<account>", summary="An account's credit balance (and held, granted, captured)"
)
async def credits(account: str) -> HttpResponse[str]:
    refused = account_refusal("credits", account)
    if refused is not None:
        return refused
    return answer(200, await _service().read_balance(account))


@app.get(
    "/v1/channels/<account>",
    summary="The Postiz channels an account may post to, with their providers (for composers)",
)
async def list_channels(account: str) -> HttpResponse[str]:
    refused = account_refusal("channels", account)
    if refused is not None:
        return refused
    allowed = await _service().allowed_channels(account) or frozenset()
    listed = cast(Callable[[], "dict[str, str] | None"], app.context["channels"])()
    names = cast(Callable[[], "dict[str, str]"], app.context["channel_names"])()
    # What a composer may offer: allowed here and known to Postiz (a channel deleted there
    # would be refused by the preflight anyway). Unasked Postiz: the allowed ids as they are.
    entries = [
        ChannelEntry(
            id=channel,
            provider=None if listed is None else listed[channel],
            name=names.get(channel),
        )
        for channel in sorted(allowed)
        if listed is None or channel in listed
    ]
    return answer(
        200,
        ChannelsResponse(account=account, channels=entries, postiz_listed=listed is not None),
    )


@app.post("/v1/workflows/<workflow_id>/approval", summary="Send the agent_approval signal")
async def approval(
    workflow_id: str, decision: Annotated[ApprovalDecision, Body()]
) -> HttpResponse[str]:
    if not WORKFLOW_ID.match(workflow_id):
        return error(404, f"no route for /v1/workflows/{workflow_id}/approval")
    if not await _service().send_approval(workflow_id, decision, _key()):
        return error(
            404,
            f"workflow {workflow_id!r}: no publish started through this API has this id",
            "workflow_id",
        )
    return answer(202, AcceptedResponse(workflow_id=workflow_id))


@app.post(
    "/v1/workflows/<workflow_id>/retry",
    summary="Post again on the channels Postiz failed to publish (publish_failed only)",
)
async def retry(workflow_id: str) -> HttpResponse[str]:
    if not WORKFLOW_ID.match(workflow_id):
        return error(404, f"no route for /v1/workflows/{workflow_id}/retry")
    accepted, why = await _service().retry_publish(workflow_id, _key())
    if accepted:
        return answer(202, AcceptedResponse(workflow_id=workflow_id))
    if why is None:
        return error(
            404,
            f"workflow {workflow_id!r}: no publish started through this API has this id",
            "workflow_id",
        )
    return error(409, why, "workflow_id")


@app.get("/v1/workflows/<workflow_id>", summary="Stage, outputs, approvals and Postiz ids")
async def status(workflow_id: str) -> HttpResponse[str]:
    if not WORKFLOW_ID.match(workflow_id):
        return error(404, f"no route for /v1/workflows/{workflow_id}")
    found = await _service().read_status(workflow_id, _key())
    if found is None:
        return error(404, f"workflow {workflow_id!r} does not exist", "workflow_id")
    return answer(200, found)


def unsigned(method: str, path: str, docs: bool) -> bool:
    """Requests the gate lets through: review links (their signed link is the credential)
    and, when the stage serves them, the API docs."""
    return path.startswith(REVIEW_PREFIX) or (
        docs and method == "GET" and path in (DOCS_PATH, DOCS_JSON_PATH)
    )


async def serve(
    event: dict[str, Any],
    context: Any,
    *,
    gate: SignedOnce,
    service: Service,
    review: ReviewDeps | None = None,
    docs: bool = False,
    channels: Callable[[], dict[str, str] | None] | None = None,
    channel_names: Callable[[], dict[str, str]] | None = None,
) -> dict[str, Any]:
    """One request: through the gate, then the resolver with what the request brings."""

    async def resolve(admitted: dict[str, Any], key: Key | None) -> dict[str, Any]:
        app.context.update(
            service=service,
            key=key,
            review=review or ReviewDeps(),
            docs=docs,
            channels=channels or (lambda: None),
            channel_names=channel_names or dict,
        )
        return await app.resolve_async(admitted, context)

    return await gate(event, resolve, unsigned=lambda method, path: unsigned(method, path, docs))
