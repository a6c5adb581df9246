"""The OpenAPI 3.1 description of the trigger API, generated from the same models the code
validates with; the committed openapi.json is checked against this by the tests.
Regenerate with `make schema`
(python -m functions.trigger.openapi_doc > functions/trigger/openapi.json).
"""

from __future__ import annotations

import json
from typing import Any

from smm_runtime.contract.ownership import ACCOUNT_PATTERN
from smm_runtime.contract.trigger_io import api_schemas

AUTH_HEADERS = [
    {"name": "x-smm-timestamp", "in": "header", "required": True,
     "schema": {"type": "string", "pattern": "^[0-9]+$"},
     "description": "Unix time in seconds; refused outside a 300 s window."},
    {"name": "x-smm-request-id", "in": "header", "required": True,
     "schema": {"type": "string", "minLength": 8, "maxLength": 128},
     "description": "Unique per request. The same id with the same request again gets the "
                    "first answer again (or runs, if that failed with a 5xx); with a "
                    "different request, 409."},
    {"name": "x-smm-signature", "in": "header", "required": True,
     "schema": {"type": "string",
                "pattern": "^v2=[A-Za-z0-9_.-]+:[0-9a-f]{64}( v2=[A-Za-z0-9_.-]+:[0-9a-f]{64})*$"},
     "description": "'v2=<key id>:' + hex HMAC-SHA256(key, "
                    "'v2.<request id>.<timestamp>.<METHOD> <path>.<body>'); several, "
                    "space-separated, while a sender rotates keys."},
]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _responses(ok: dict[int, tuple[str, str]], *errors: int) -> dict[str, Any]:
    described = {400: "Bad input (the field is named)", 401: "Not authenticated",
                 404: "Unknown workflow or route", 409: "Replayed request id",
                 413: "Body over 64 KiB"}
    out: dict[str, Any] = {
        str(code): {"description": text,
                    "content": {"application/json": {"schema": _ref(model)}}}
        for code, (model, text) in ok.items()}
    for code in errors:
        out[str(code)] = {"description": described[code],
                          "content": {"application/json": {"schema": _ref("ErrorResponse")}}}
    return out


def build() -> dict[str, Any]:
    defs = api_schemas("#/components/schemas/{model}")
    body = {"required": True, "content": {"application/json": {"schema": _ref("PublishRequest")}}}
    approval = {"required": True,
                "content": {"application/json": {"schema": _ref("ApprovalDecision")}}}
    workflow_id = {"name": "workflow_id", "in": "path", "required": True,
                   "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,200}$"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "SMM Hub creative engine trigger API", "version": "1.0.0",
                 "description": "Called by Payload CMS hooks. Every request is signed."},
        "paths": {
            "/v1/publish": {"post": {
                "operationId": "startPublish", "parameters": AUTH_HEADERS, "requestBody": body,
                "summary": "Start publishing a document (idempotent per collection + doc id)",
                "responses": _responses({202: ("StartedResponse", "Started"),
                                         200: ("StartedResponse", "Already started")},
                                        400, 401, 409, 413)}},
            "/v1/workflows/{workflow_id}/approval": {"post": {
                "operationId": "sendApproval", "parameters": [*AUTH_HEADERS, workflow_id],
                "requestBody": approval, "summary": "Send the agent_approval signal",
                "responses": _responses({202: ("AcceptedResponse", "Delivered")},
                                        400, 401, 404, 409, 413)}},
            "/v1/workflows/{workflow_id}": {"get": {
                "operationId": "readStatus", "parameters": [*AUTH_HEADERS, workflow_id],
                "summary": "Stage, outputs, approvals and Postiz ids",
                "responses": _responses({200: ("StatusResponse", "The status")},
                                        401, 404, 409)}},
            "/v1/credits/{account}": {"get": {
                "operationId": "readBalance",
                "parameters": [*AUTH_HEADERS, {"name": "account", "in": "path", "required": True,
                                               "schema": {"type": "string",
                                                          "pattern": ACCOUNT_PATTERN}}],
                "summary": "An account's credit balance (and held, granted, captured)",
                "responses": _responses({200: ("BalanceResponse", "The balance")},
                                        401, 404, 409)}},
        },
        "components": {"schemas": defs},
    }


if __name__ == "__main__":
    print(json.dumps(build(), indent=2, sort_keys=True))
