"""The trigger API's routes on Powertools' event handler (LambdaFunctionUrlResolver).

The resolver routes, validates each body against the contract's models (a bad one is a 400
naming the field, in our error shape), answers 404 and 405, and generates the OpenAPI
description from these same routes. What must happen before any route is looked at — the
body limit, the signature, request-id replay — stays in routes.handle: an unsigned request
learns nothing about the routes, not even which exist.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver
from aws_lambda_powertools.event_handler import Response as HttpResponse
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel

from functions.trigger.signing import Key
from smm_runtime.contract.ownership import ACCOUNT_PATTERN
from smm_runtime.contract.publish_io import ApprovalDecision
from smm_runtime.contract.trigger_io import AcceptedResponse, ErrorResponse, PublishRequest

ACCOUNT = re.compile(ACCOUNT_PATTERN)
WORKFLOW_ID = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")
# Every route's path and method, for telling a wrong method (405) from no route (404).
METHODS = (
    (re.compile(r"^/v1/publish$"), "POST"),
    (re.compile(r"^/v1/credits/[^/]+$"), "GET"),
    (re.compile(r"^/v1/workflows/[^/]+/approval$"), "POST"),
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


def build_app(service: Any = None, key: Key | None = None) -> LambdaFunctionUrlResolver:
    """The routes bound to one request's service and signing key (a new resolver per
    request: nothing of one caller's request can leak into another's)."""
    app = LambdaFunctionUrlResolver(enable_validation=True)

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def bad_input(err: RequestValidationError) -> HttpResponse[str]:
        return _validation_answer(err)

    @app.not_found
    def no_route(_: NotFoundError) -> HttpResponse[str]:
        path, method = app.current_event.path, app.current_event.http_method.upper()
        if any(pattern.match(path) and method != allowed for pattern, allowed in METHODS):
            allowed = next(m for p, m in METHODS if p.match(path))
            return error(405, f"use {allowed}")
        return error(404, f"no route for {path}")

    @app.post(
        "/v1/publish", summary="Start publishing a document (idempotent per collection + doc id)"
    )
    async def publish(request: Annotated[PublishRequest, Body()]) -> HttpResponse[str]:
        assert key is not None
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
        started = await service.start_publish(request)
        return answer(200 if started.existing else 202, started)

    @app.get(
        "/v1/credits/<account>", summary="An account's credit balance (and held, granted, captured)"
    )
    async def credits(account: str) -> HttpResponse[str]:
        assert key is not None
        if not ACCOUNT.match(account):
            return error(404, f"no route for /v1/credits/{account}")
        if not key.may_act_for(account):
            return error(
                403,
                f"account: the key that signed this request may not read {account!r}",
                "account",
            )
        return answer(200, await service.read_balance(account))

    @app.post("/v1/workflows/<workflow_id>/approval", summary="Send the agent_approval signal")
    async def approval(
        workflow_id: str, decision: Annotated[ApprovalDecision, Body()]
    ) -> HttpResponse[str]:
        if not WORKFLOW_ID.match(workflow_id):
            return error(404, f"no route for /v1/workflows/{workflow_id}/approval")
        if not await service.send_approval(workflow_id, decision, key):
            return error(
                404,
                f"workflow {workflow_id!r}: no publish started through this API has this id",
                "workflow_id",
            )
        return answer(202, AcceptedResponse(workflow_id=workflow_id))

    @app.get("/v1/workflows/<workflow_id>", summary="Stage, outputs, approvals and Postiz ids")
    async def status(workflow_id: str) -> HttpResponse[str]:
        if not WORKFLOW_ID.match(workflow_id):
            return error(404, f"no route for /v1/workflows/{workflow_id}")
        found = await service.read_status(workflow_id, key)
        if found is None:
            return error(404, f"workflow {workflow_id!r} does not exist", "workflow_id")
        return answer(200, found)

    return app
