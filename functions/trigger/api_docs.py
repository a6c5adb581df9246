"""The API's description as a Swagger UI page (GET /docs), off unless SMM_API_DOCS=true.

A Router of the trigger's app (api.py); with the docs off, these paths are unknown routes
like any other (and, unsigned, never get past the gate).

The page is Powertools' own Swagger UI (its bundled script and stylesheet, inline: nothing is
fetched from elsewhere) over our OpenAPI description, the one the tests hold the code to. It
is served without a signature — it shows only what the repository documents anyway — so it is
opt-in, for a team's development stage; "Try it out" cannot sign requests.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import aws_lambda_powertools.event_handler.openapi.swagger_ui as swagger_ui
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

from functions.trigger.openapi_doc import build
from smm_runtime.contract.trigger_io import ErrorResponse

DOCS_PATH = "/docs"
# The description as JSON, where the page's "Explore" bar and download link point.
DOCS_JSON_PATH = "/docs/openapi.json"
router = Router()  # type: ignore[no-untyped-call]


@cache
def docs_page() -> str:
    assets = Path(swagger_ui.__file__).parent
    spec = json.dumps(build()).replace("</", "<\\/")  # no </script> can end the page early
    page = generate_swagger_html(
        spec=spec,
        swagger_js=(assets / "swagger-ui-bundle.min.js").read_text(),
        swagger_css=(assets / "swagger-ui.min.css").read_text(),
        swagger_base_url="",
        oauth2_config=None,
    )
    # Swagger UI would otherwise send the page's address to validator.swagger.io for a badge.
    options = "presets: ["
    if options not in page:
        raise RuntimeError("Powertools' Swagger UI page changed: check api_docs.py")
    page = page.replace(options, "validatorUrl: null,\n    " + options, 1)
    # Powertools serves the JSON at ?format=json; our router takes paths, not queries.
    explore = 'currentUrl.pathname + "?format=json"'
    if explore not in page:
        raise RuntimeError("Powertools' Swagger UI page changed: check api_docs.py")
    return page.replace(explore, f'"{DOCS_JSON_PATH}"', 1)


@cache
def docs_json() -> dict[str, object]:
    return build()


def _off() -> Response[str] | None:
    if router.context.get("docs"):
        return None
    refusal = ErrorResponse(error=f"no route for {router.current_event.path}")
    return Response(
        status_code=404, content_type="application/json", body=refusal.model_dump_json()
    )


@router.get(DOCS_PATH, include_in_schema=False)
def page() -> Response[str]:
    return _off() or Response(
        status_code=200, content_type="text/html; charset=utf-8", body=docs_page()
    )


@router.get(DOCS_JSON_PATH, include_in_schema=False)
def description() -> Response[str]:
    return _off() or Response(
        status_code=200, content_type="application/json", body=json.dumps(docs_json())
    )
