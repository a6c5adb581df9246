"""The codec server the Web UI calls: Temporal's remote codec protocol, bearer tokens, CORS
for the UI's origin only, our namespace only."""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload

from orchestrator.codec_server import CodecServer, CodecServerConfig
from smm_runtime.codec import AesGcmCodec, PayloadKeys

TOKEN = "t" * 32
UI = "http://localhost:8233"
KEYS = json.dumps({"active": "k1", "keys": {"k1": base64.b64encode(os.urandom(32)).decode()}})
CODEC = AesGcmCodec(PayloadKeys.parse(KEYS, "test"))


@pytest.fixture(scope="module")
def server() -> Iterator[CodecServer]:
    running = CodecServer("127.0.0.1", 0, CodecServerConfig(
        codec=CODEC, tokens=[TOKEN], namespace="smm-hub-core", cors_origins=[UI]))
    running.start()
    yield running
    running.stop()


def call(server: CodecServer, path: str, body: Any, headers: dict[str, str] | None = None,
         method: str = "POST") -> tuple[int, dict[str, str], Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", data=data,
                                     method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            raw = answer.read()
            return answer.status, dict(answer.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"null")


def sealed_wire() -> dict[str, Any]:
    sealed = CODEC.seal(Payload(metadata={"encoding": b"json/plain"}, data=b'"hello"'))
    return {"metadata": {k: base64.b64encode(v).decode() for k, v in sealed.metadata.items()},
            "data": base64.b64encode(sealed.data).decode()}


def auth(**extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", **extra}


def test_an_authorised_ui_gets_the_decoded_payloads(server: CodecServer) -> None:
    status, headers, body = call(server, "/decode", {"payloads": [sealed_wire()]},
                                 auth(Origin=UI, **{"X-Namespace": "smm-hub-core"}))
    assert status == 200
    (payload,) = body["payloads"]
    assert base64.b64decode(payload["data"]) == b'"hello"'
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"json/plain"
    assert headers["Access-Control-Allow-Origin"] == UI


def test_encode_then_decode_round_trips(server: CodecServer) -> None:
    wire = {"metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
            "data": base64.b64encode(b"42").decode()}
    _, _, encoded = call(server, "/encode", {"payloads": [wire]}, auth())
    assert base64.b64decode(encoded["payloads"][0]["metadata"]["encoding"]) == \
        b"binary/encrypted"
    _, _, decoded = call(server, "/decode", encoded, auth())
    assert decoded["payloads"] == [wire]


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong-token-wrong-token-wrong"}, {"Authorization": TOKEN},
])
def test_no_valid_bearer_token_no_payloads(server: CodecServer, headers: dict[str, str]) -> None:
    status, _, body = call(server, "/decode", {"payloads": [sealed_wire()]}, headers)
    assert status == 401 and "payloads" not in body and "Bearer" in body["error"]


def test_other_namespaces_are_refused(server: CodecServer) -> None:
    status, _, body = call(server, "/decode", {"payloads": [sealed_wire()]},
                           auth(**{"X-Namespace": "default"}))
    assert status == 403 and "X-Namespace" in body["error"]


def test_bad_bodies_are_clear_errors(server: CodecServer) -> None:
    status, _, body = call(server, "/decode", b"{not json", auth())
    assert status == 400 and body["error"].startswith("payloads:")
    status, _, body = call(server, "/decode", {"payloads": [{"data": 5}]}, auth())
    assert status == 400
    other = AesGcmCodec(PayloadKeys.parse(json.dumps({"active": "k9", "keys": {
        "k9": base64.b64encode(os.urandom(32)).decode()}}), "test"))
    foreign = other.seal(Payload(metadata={"encoding": b"json/plain"}, data=b"1"))
    wire = {"metadata": {k: base64.b64encode(v).decode() for k, v in foreign.metadata.items()},
            "data": base64.b64encode(foreign.data).decode()}
    status, _, body = call(server, "/decode", {"payloads": [wire]}, auth())
    assert status == 422 and "'k9'" in body["error"]


def test_cors_answers_only_the_configured_ui(server: CodecServer) -> None:
    status, headers, _ = call(server, "/decode", b"", {"Origin": UI}, method="OPTIONS")
    assert status == 204 and headers["Access-Control-Allow-Origin"] == UI
    assert "Authorization" in headers["Access-Control-Allow-Headers"]
    status, headers, _ = call(server, "/decode", b"", {"Origin": "https://evil.example"},
                              method="OPTIONS")
    assert "Access-Control-Allow-Origin" not in headers
