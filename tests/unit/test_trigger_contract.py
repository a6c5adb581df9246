from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from functions.trigger.openapi_doc import build
from functions.trigger.signing import AuthError, Key, keyring, sign, verify

SPEC = Path(__file__).resolve().parents[2] / "functions" / "trigger" / "openapi.json"
SECRET = b"shared-secret"


def test_the_committed_openapi_description_is_valid_and_matches_the_models() -> None:
    committed = json.loads(SPEC.read_text())
    validate(committed)
    assert committed == json.loads(json.dumps(build())), (
        "functions/trigger/openapi.json drifted: regenerate it with openapi_doc.py"
    )


KEYS = {"default": Key(SECRET)}


def headers(ts: str = "1000", request_id: str = "req-00000001", **extra: str) -> dict[str, str]:
    base = {
        "x-smm-timestamp": ts,
        "x-smm-request-id": request_id,
        "x-smm-signature": sign(SECRET, ts, "POST", "/v1/publish", b"{}", request_id=request_id),
    }
    return {**base, **extra}


def test_a_signed_request_verifies_and_yields_its_id() -> None:
    assert verify(KEYS, headers(), "POST", "/v1/publish", b"{}", now=1100) == "req-00000001"


def test_the_signature_covers_the_request_id() -> None:
    """One signed request sent again under a new id (the replay guard would take it as new)
    is refused: the id is in the MAC."""
    lifted = headers(request_id="original-0001")
    with pytest.raises(AuthError, match="does not match"):
        verify(
            KEYS,
            {**lifted, "x-smm-request-id": "attacker-0002"},
            "POST",
            "/v1/publish",
            b"{}",
            now=1100,
        )


def test_several_keys_are_accepted_at_once_for_rotation() -> None:
    keys = {"2026-10": Key(b"old-secret-old-secret"), "2026-11": Key(b"new-secret-new-secret")}
    for key_id, key in keys.items():
        signed = {
            **headers(),
            "x-smm-signature": sign(
                key.secret,
                "1000",
                "POST",
                "/v1/publish",
                b"{}",
                request_id="req-00000001",
                key_id=key_id,
            ),
        }
        assert verify(keys, signed, "POST", "/v1/publish", b"{}", now=1000) == "req-00000001"
    both = " ".join(
        sign(s, "1000", "POST", "/v1/publish", b"{}", request_id="req-00000001", key_id=k)
        for k, s in {"gone": b"x" * 20, **{i: k.secret for i, k in keys.items()}}.items()
    )
    assert (
        verify(keys, {**headers(), "x-smm-signature": both}, "POST", "/v1/publish", b"{}", now=1000)
        == "req-00000001"
    )
    retired = sign(
        b"x" * 20, "1000", "POST", "/v1/publish", b"{}", request_id="req-00000001", key_id="gone"
    )
    with pytest.raises(AuthError, match="key id this API accepts"):
        verify(
            keys, {**headers(), "x-smm-signature": retired}, "POST", "/v1/publish", b"{}", now=1000
        )


def test_the_v1_scheme_without_the_request_id_is_refused_with_how_to_fix() -> None:
    old = hmac.new(SECRET, b"1000.POST /v1/publish.{}", hashlib.sha256).hexdigest()
    with pytest.raises(AuthError, match="v1 scheme"):
        verify(
            KEYS,
            {**headers(), "x-smm-signature": f"sha256={old}"},
            "POST",
            "/v1/publish",
            b"{}",
            now=1000,
        )


def test_a_keyring_is_json_of_key_ids_or_one_plain_secret() -> None:
    assert keyring("plain-secret") == {"default": Key(b"plain-secret")}
    assert keyring('{"a": "0123456789abcdef"}') == {"a": Key(b"0123456789abcdef")}
    assert keyring('{"a": {"secret": "0123456789abcdef", "accounts": ["x"]}}') == {
        "a": Key(b"0123456789abcdef", frozenset({"x"}))
    }
    for bad in ('{"a": "short"}', "{not json", "{}"):
        with pytest.raises(ValueError, match="trigger secret"):
            keyring(bad)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"body": b'{"x":1}'}, "x-smm-signature: does not match"),
        ({"path": "/v1/workflows/x/approval"}, "x-smm-signature: does not match"),
        ({"method": "GET"}, "x-smm-signature: does not match"),
        ({"now": 1000 + 301}, "x-smm-timestamp: outside the 300 s window"),
        ({"headers": {"x-smm-timestamp": "soon"}}, "x-smm-timestamp: a unix time"),
        ({"headers": {"x-smm-request-id": "x"}}, "x-smm-request-id: 8 to 128"),
    ],
)
def test_anything_tampered_or_late_is_refused(change: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "headers": headers(),
        "method": "POST",
        "path": "/v1/publish",
        "body": b"{}",
        "now": 1000,
    }
    if "headers" in change:
        args["headers"] = {**headers(), **change.pop("headers")}  # type: ignore[dict-item]
    args.update(change)
    with pytest.raises(AuthError, match=message):
        verify(
            KEYS,
            args["headers"],  # type: ignore[arg-type]
            str(args["method"]),
            str(args["path"]),
            args["body"],  # type: ignore[arg-type]
            float(args["now"]),  # type: ignore[arg-type]
        )


def test_a_trigger_secret_that_is_no_keyring_stops_the_function_at_cold_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMM_IDEMPOTENCY_TABLE", "idem")
    monkeypatch.setenv("SMM_OUTPUT_BUCKET", "out")
    monkeypatch.setenv("SMM_TRIGGER_SECRET", "plain-secret-is-fine")
    from functions.trigger.app import TriggerSettings

    monkeypatch.setenv("SMM_TRIGGER_SECRET", '{"k1": "short"}')
    with pytest.raises(ValueError, match="trigger_secret") as err:
        TriggerSettings()
    assert "trigger secret: use" in str(err.value)


def test_the_description_comes_from_the_resolvers_routes() -> None:
    """Every route of the Powertools resolver is described, and nothing else; each answers
    our error shape on 400 (not the resolver's 422) and requires the signature headers."""
    from functions.trigger.api import app

    doc = build()
    routes = {(path, method) for path, methods in doc["paths"].items() for method in methods}
    generated = json.loads(app.get_openapi_json_schema())["paths"]
    assert routes == {(p, m) for p, ms in generated.items() for m in ms}
    for path, method in routes:
        operation = doc["paths"][path][method]
        assert "422" not in operation["responses"]
        required = operation["security"][0]
        assert {doc["components"]["securitySchemes"][name]["name"] for name in required} == {
            "x-smm-signature",
            "x-smm-timestamp",
            "x-smm-request-id",
        }
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_the_swagger_page_is_self_contained() -> None:
    """Its script and stylesheet are inline and it sends nothing to validator.swagger.io."""
    import re

    from functions.trigger.api_docs import docs_page

    page = docs_page()
    assert "startPublish" in page and "SwaggerUIBundle" in page
    assert "validatorUrl: null" in page
    assert not re.search(r"<(script|link)[^>]+(src|href)=", page)
    # "Explore" and the download link point where the trigger serves the JSON.
    assert 'updateUrl("/docs/openapi.json")' in page and "?format=json" not in page
