from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from functions.trigger.openapi_doc import build
from functions.trigger.signing import AuthError, sign, verify

SPEC = Path(__file__).resolve().parents[2] / "functions" / "trigger" / "openapi.json"
SECRET = b"shared-secret"


def test_the_committed_openapi_description_is_valid_and_matches_the_models() -> None:
    committed = json.loads(SPEC.read_text())
    validate(committed)
    assert committed == json.loads(json.dumps(build())), (
        "functions/trigger/openapi.json drifted: regenerate it with openapi_doc.py")


def headers(ts: str = "1000", request_id: str = "req-00000001", **extra: str) -> dict[str, str]:
    base = {"x-smm-timestamp": ts, "x-smm-request-id": request_id,
            "x-smm-signature": sign(SECRET, ts, "POST", "/v1/publish", b"{}")}
    return {**base, **extra}


def test_a_signed_request_verifies_and_yields_its_id() -> None:
    assert verify(SECRET, headers(), "POST", "/v1/publish", b"{}", now=1100) == "req-00000001"


@pytest.mark.parametrize(("change", "message"), [
    ({"body": b'{"x":1}'}, "x-smm-signature: does not match"),
    ({"path": "/v1/workflows/x/approval"}, "x-smm-signature: does not match"),
    ({"method": "GET"}, "x-smm-signature: does not match"),
    ({"now": 1000 + 301}, "x-smm-timestamp: outside the 300 s window"),
    ({"headers": {"x-smm-timestamp": "soon"}}, "x-smm-timestamp: a unix time"),
    ({"headers": {"x-smm-request-id": "x"}}, "x-smm-request-id: 8 to 128"),
])
def test_anything_tampered_or_late_is_refused(change: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"headers": headers(), "method": "POST", "path": "/v1/publish",
                               "body": b"{}", "now": 1000}
    if "headers" in change:
        args["headers"] = {**headers(), **change.pop("headers")}  # type: ignore[dict-item]
    args.update(change)
    with pytest.raises(AuthError, match=message):
        verify(SECRET, args["headers"], str(args["method"]), str(args["path"]),  # type: ignore[arg-type]
               args["body"], float(args["now"]))  # type: ignore[arg-type]
