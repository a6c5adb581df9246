"""Accounts are a boundary: the rule in Python and in Node, and every function's event parser
refusing an object outside the request's account before any work."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from smm_runtime.contract.events import build_event, parse_event
from smm_runtime.contract.kinds import (
    FINALIZE_VIDEO,
    IMPORT_ASSET,
    POSTIZ_UPLOAD,
    FinalizeRequest,
    ImportAssetRequest,
    PostizUploadRequest,
)
from smm_runtime.contract.ownership import key_violation, request_violation
from smm_runtime.contract.validation import ContractError
from smm_runtime.contract.workflow_io import BrandKitRef
from tests.unit.test_node_function import image_event

FUNCTION = Path(__file__).resolve().parents[2] / "functions" / "render_image"

# (account, key, writing, allowed)
KEYS: list[tuple[str, str, bool, bool]] = [
    ("acme", "accounts/acme/assets/photo.png", False, True),
    ("acme", "accounts/acme/renders/wf/out.mp4", True, True),
    ("acme", "shared/music/bed.mp3", False, True),
    ("acme", "shared/music/bed.mp3", True, False),  # only the operator writes shared/
    ("acme", "accounts/globex/assets/photo.png", False, False),
    ("acme", "accounts/acme-evil/assets/x.png", False, False),  # a prefix, not a match
    ("acme", "accounts/acme/../globex/x.png", False, False),
    ("acme", "accounts/acme//x.png", False, False),
    ("acme", "accounts/acme/./x.png", False, False),
    ("acme", "assets/demo/photo.jpg", False, False),  # the operator's flat layout
    ("acme", "brand-kits/acme.json", False, False),
    ("acme", "renders/wf/out.mp4", True, False),
    ("acme", "ACCOUNTS/acme/x.png", False, False),  # S3 keys are case-sensitive
    ("a.b@c", "accounts/a.b@c/x.png", False, True),
]


@pytest.mark.parametrize(("account", "key", "writing", "allowed"), KEYS)
def test_the_key_rule(account: str, key: str, writing: bool, allowed: bool) -> None:
    why = key_violation(account, key, writing=writing)
    assert (why is None) == allowed, why
    if why is not None:
        assert "accounts/" in why or "segment" in why  # says what to do instead


def node_rule(cases: list[Any], script: str) -> list[Any]:
    program = (
        "import fs from 'node:fs';"
        "import { keyViolation, requestViolation } from './dist/account_scope.mjs';"
        "const cases = JSON.parse(fs.readFileSync(0, 'utf8'));"
        f"console.log(JSON.stringify(cases.map((c) => {script})));"
    )
    out = subprocess.run(
        ["node", "--input-type=module", "-e", program],
        cwd=FUNCTION,
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
    )
    return list(json.loads(out.stdout))


REQUESTS: list[tuple[str, dict[str, Any]]] = [
    (
        "acme",
        {
            "brand": {"fonts": {"heading": "s3://b/accounts/globex/f.ttf"}},
            "output": {"bucket": "b", "key": "accounts/acme/renders/x.png"},
        },
    ),
    ("acme", {"props": {"photo": "s3://b/shared/p.png", "items": ["s3://b/x/y.png"]}}),
    ("acme", {"output": {"bucket": "b", "key": "shared/x.png"}}),
    (
        "acme",
        {
            "segments": [{"bucket": "b", "key": "accounts/acme/intermediates/s.mp4"}],
            "poster": {"bucket": "b", "key": "accounts/acme/renders/p.jpg"},
        },
    ),
    ("acme", {"props": {"headline": "plain text"}, "account": "acme"}),
    ("acme", {"contact_sheet": {"bucket": "b", "key": "shared/wf/o.scenes.jpg"}}),
]


def test_node_applies_the_same_rule_with_the_same_words() -> None:
    """The image function's parser and the Python one must agree on every case, message
    included (the workflow shows it to the user whichever side refused)."""
    python = [key_violation(a, k, writing=w) for a, k, w, _ in KEYS]
    assert node_rule([[a, k, w] for a, k, w, _ in KEYS], "keyViolation(c[0], c[1], c[2])") == python
    python_requests = [list(v) if (v := request_violation(a, r)) else None for a, r in REQUESTS]
    assert None in python_requests and any(python_requests)
    assert (
        node_rule(
            [list(c) for c in REQUESTS],
            "((v) => v ? [v.field, v.message] : null)(requestViolation(c[0], c[1]))",
        )
        == python_requests
    )


def event(kind: Any, request: BaseModel) -> dict[str, Any]:
    built = build_event(
        kind,
        request,
        task_token=b"t",
        workflow_id="wf",
        run_id="r",
        activity_id="1",
        attempt=1,
        heartbeat_details=None,
    )
    return dict(json.loads(built.model_dump_json()))


def obj(key: str) -> dict[str, str]:
    return {"bucket": "creative", "key": key}


FOREIGN_EVENTS: list[tuple[str, Any, BaseModel, str]] = [
    (
        "upload another account's render",
        POSTIZ_UPLOAD,
        PostizUploadRequest(
            source=obj("accounts/globex/renders/wf/a.mp4"),
            filename="a.mp4",
            content_type="video/mp4",
            account="acme",
        ),
        "request.source",
    ),
    (
        "import into another account",
        IMPORT_ASSET,
        ImportAssetRequest(
            url="https://example.com/a.png",
            target=obj("accounts/globex/assets/a.png"),
            account="acme",
        ),
        "request.target",
    ),
    (
        "import into shared/",
        IMPORT_ASSET,
        ImportAssetRequest(
            url="https://example.com/a.png", target=obj("shared/a.png"), account="acme"
        ),
        "request.target",
    ),
    (
        "join another account's segments",
        FINALIZE_VIDEO,
        FinalizeRequest(
            preset="1:1",
            total_frames=30,
            segments=[obj("accounts/globex/intermediates/s.mp4")],
            segment_frames=[30],
            output=obj("accounts/acme/renders/wf/o.mp4"),
            poster=obj("accounts/acme/renders/wf/o.jpg"),
            account="acme",
        ),
        "request.segments.0",
    ),
    (
        "write a render over the operator's",
        FINALIZE_VIDEO,
        FinalizeRequest(
            preset="1:1",
            total_frames=30,
            segments=[obj("accounts/acme/intermediates/s.mp4")],
            segment_frames=[30],
            output=obj("renders/wf/o.mp4"),
            poster=obj("accounts/acme/renders/wf/o.jpg"),
            account="acme",
        ),
        "request.output",
    ),
    (
        "write the contact sheet into shared/",
        FINALIZE_VIDEO,
        FinalizeRequest(
            preset="1:1",
            total_frames=30,
            segments=[obj("accounts/acme/intermediates/s.mp4")],
            segment_frames=[30],
            output=obj("accounts/acme/renders/wf/o.mp4"),
            poster=obj("accounts/acme/renders/wf/o.jpg"),
            contact_sheet=obj("shared/wf/o.scenes.jpg"),
            account="acme",
        ),
        "request.contact_sheet",
    ),
]


@pytest.mark.parametrize(
    ("name", "kind", "request_", "field"), FOREIGN_EVENTS, ids=[c[0] for c in FOREIGN_EVENTS]
)
def test_a_function_refuses_an_event_naming_another_accounts_object(
    name: str, kind: Any, request_: BaseModel, field: str
) -> None:
    with pytest.raises(ContractError) as refused:
        parse_event(event(kind, request_))
    assert refused.value.field == field
    assert field in str(refused.value) and "acme" in str(refused.value)


def test_the_same_event_without_an_account_is_the_operators_and_parses() -> None:
    request = PostizUploadRequest(
        source=obj("accounts/globex/renders/wf/a.mp4"), filename="a.mp4", content_type="video/mp4"
    )
    assert parse_event(event(POSTIZ_UPLOAD, request)).request == request


def test_the_node_parser_refuses_a_foreign_font_logo_prop_or_output() -> None:
    cases = {
        "request.brand.fonts.heading": image_event(account="acme"),  # factory font: flat key
        "request.brand.logo": image_event(
            account="acme",
            brand={
                "id": "acme",
                "fonts": {"heading": "s3://assets-bucket/shared/f.ttf"},
                "colors": {"primary": "#000000", "accent": "#FFFFFF"},
                "logo": "s3://assets-bucket/accounts/globex/logo.png",
            },
        ),
        "request.output": image_event(
            account="acme",
            output={"bucket": "out-bucket", "key": "accounts/globex/r.png"},
            brand={
                "id": "acme",
                "fonts": {"heading": "s3://assets-bucket/shared/f.ttf"},
                "colors": {"primary": "#000000", "accent": "#FFFFFF"},
            },
        ),
    }
    program = (
        "import fs from 'node:fs'; import { parseEvent } from './dist/contract.mjs';"
        "const cases = JSON.parse(fs.readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(Object.values(cases).map((c) => {"
        " try { parseEvent(c); return null; } catch (e) { return [e.field, e.type]; }"
        "})));"
    )
    out = subprocess.run(
        ["node", "--input-type=module", "-e", program],
        cwd=FUNCTION,
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == [[field, "InvalidRequest"] for field in cases]


def test_an_accounts_brand_kit_is_its_own_then_the_operators_shared_one() -> None:
    assert BrandKitRef(bucket="kits", id="spring", account="acme").candidate_keys() == [
        "accounts/acme/brand-kits/spring.json",
        "shared/brand-kits/spring.json",
    ]
    assert BrandKitRef(bucket="kits", id="spring").candidate_keys() == ["brand-kits/spring.json"]


def test_an_account_cannot_be_a_dot_path_segment() -> None:
    for bad in (".", "..", ".hidden", "a/b", ""):
        with pytest.raises(ValueError, match="account"):
            BrandKitRef(bucket="kits", id="spring", account=bad)
