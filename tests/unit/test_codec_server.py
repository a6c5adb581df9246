"""The codec server the Web UI calls: Temporal's remote codec protocol, bearer tokens, CORS
for the UI's origin only, our namespace only."""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from temporalio.api.common.v1 import Payload

from orchestrator.codec_server import (
    BACKLOG,
    WORKERS,
    CodecServer,
    CodecServerConfig,
    tls_context,
)
from smm_runtime.codec import AesGcmCodec, PayloadKeys

TOKEN = "t" * 32
UI = "http://localhost:8233"
KEYS = json.dumps({"active": "k1", "keys": {"k1": base64.b64encode(os.urandom(32)).decode()}})
CODEC = AesGcmCodec(PayloadKeys.parse(KEYS, "test"))


@pytest.fixture(scope="module")
def server() -> Iterator[CodecServer]:
    running = CodecServer(
        "127.0.0.1",
        0,
        CodecServerConfig(codec=CODEC, tokens=[TOKEN], namespace="smm-hub-core", cors_origins=[UI]),
    )
    running.start()
    yield running
    running.stop()


def call(
    server: CodecServer,
    path: str,
    body: Any,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> tuple[int, dict[str, str], Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}{path}", data=data, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            raw = answer.read()
            return answer.status, dict(answer.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"null")


def sealed_wire() -> dict[str, Any]:
    sealed = CODEC.seal(Payload(metadata={"encoding": b"json/plain"}, data=b'"hello"'))
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in sealed.metadata.items()},
        "data": base64.b64encode(sealed.data).decode(),
    }


def auth(**extra: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {TOKEN}",
        "Content-Type": "application/json",
        "X-Namespace": "smm-hub-core",
        **extra,
    }


def test_an_authorised_ui_gets_the_decoded_payloads(server: CodecServer) -> None:
    status, headers, body = call(server, "/decode", {"payloads": [sealed_wire()]}, auth(Origin=UI))
    assert status == 200
    (payload,) = body["payloads"]
    assert base64.b64decode(payload["data"]) == b'"hello"'
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"json/plain"
    assert headers["Access-Control-Allow-Origin"] == UI


def test_encode_then_decode_round_trips(server: CodecServer) -> None:
    wire = {
        "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
        "data": base64.b64encode(b"42").decode(),
    }
    _, _, encoded = call(server, "/encode", {"payloads": [wire]}, auth())
    assert base64.b64decode(encoded["payloads"][0]["metadata"]["encoding"]) == b"binary/encrypted"
    _, _, decoded = call(server, "/decode", encoded, auth())
    assert decoded["payloads"] == [wire]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-wrong-token-wrong"},
        {"Authorization": TOKEN},
    ],
)
def test_no_valid_bearer_token_no_payloads(server: CodecServer, headers: dict[str, str]) -> None:
    status, _, body = call(server, "/decode", {"payloads": [sealed_wire()]}, headers)
    assert status == 401 and "payloads" not in body and "Bearer" in body["error"]


def test_other_namespaces_are_refused_and_one_must_be_named(server: CodecServer) -> None:
    status, _, body = call(
        server, "/decode", {"payloads": [sealed_wire()]}, auth(**{"X-Namespace": "default"})
    )
    assert status == 403 and "X-Namespace" in body["error"]
    unnamed = {k: v for k, v in auth().items() if k != "X-Namespace"}
    status, _, body = call(server, "/decode", {"payloads": [sealed_wire()]}, unnamed)
    assert status == 400 and body["error"].startswith("X-Namespace:")


def test_bad_bodies_are_clear_errors(server: CodecServer) -> None:
    status, _, body = call(server, "/decode", b"{not json", auth())
    assert status == 400 and body["error"].startswith("payloads:")
    status, _, body = call(server, "/decode", {"payloads": [{"data": 5}]}, auth())
    assert status == 400
    other = AesGcmCodec(
        PayloadKeys.parse(
            json.dumps({"active": "k9", "keys": {"k9": base64.b64encode(os.urandom(32)).decode()}}),
            "test",
        )
    )
    foreign = other.seal(Payload(metadata={"encoding": b"json/plain"}, data=b"1"))
    wire = {
        "metadata": {k: base64.b64encode(v).decode() for k, v in foreign.metadata.items()},
        "data": base64.b64encode(foreign.data).decode(),
    }
    status, _, body = call(server, "/decode", {"payloads": [wire]}, auth())
    assert status == 422 and "'k9'" in body["error"]


def test_cors_answers_only_the_configured_ui(server: CodecServer) -> None:
    status, headers, _ = call(server, "/decode", b"", {"Origin": UI}, method="OPTIONS")
    assert status == 204 and headers["Access-Control-Allow-Origin"] == UI
    assert "Authorization" in headers["Access-Control-Allow-Headers"]
    status, headers, _ = call(
        server, "/decode", b"", {"Origin": "https://evil.example"}, method="OPTIONS"
    )
    assert "Access-Control-Allow-Origin" not in headers


def raw(server: CodecServer, head: str, body: bytes = b"", wait_s: float = 3.0) -> str:
    """Send a hand-written request (urllib always sends a valid Content-Length) and return
    the status line the server answers within ``wait_s``, without closing our side first."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait_s) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        return conn.recv(4096).decode(errors="replace").split("\r\n", 1)[0]


def headers_for(length: str | None, token: str = TOKEN) -> str:
    lines = [
        "POST /decode HTTP/1.1",
        "Host: codec",
        f"Authorization: Bearer {token}",
        "X-Namespace: smm-hub-core",
    ]
    lines += [f"Content-Length: {length}"] if length is not None else []
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("length", "status"),
    [(None, "411"), ("-1", "400"), ("1e9", "400"), (str(64 * 1024 * 1024), "413")],
)
def test_the_size_is_checked_from_a_valid_content_length_before_reading(
    server: CodecServer, length: str | None, status: str
) -> None:
    # The body is never sent: a server that read it (rfile.read(-1) reads to EOF) would hang.
    assert raw(server, headers_for(length)).split(" ")[1] == status


def test_an_unauthenticated_body_is_never_read(server: CodecServer) -> None:
    line = raw(server, headers_for("1000000", token="wrong-token-wrong-token-wrong"))
    assert line.split(" ")[1] == "401"  # answered from the headers, the megabyte never sent


def test_a_burst_beyond_the_pool_is_refused_at_once_and_capacity_returns(
    server: CodecServer,
) -> None:
    idle = [
        socket.create_connection(("127.0.0.1", server.port), timeout=5)
        for _ in range(WORKERS + BACKLOG)
    ]
    try:
        time.sleep(0.3)
        assert raw(server, headers_for("2"), b"{}").split(" ")[1] == "503"
    finally:
        for conn in idle:
            conn.close()
    time.sleep(0.5)
    status, _, _ = call(server, "/decode", {"payloads": []}, auth())
    assert status == 200


def test_it_speaks_tls_with_a_certificate_and_key(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    running = CodecServer(
        "127.0.0.1",
        0,
        CodecServerConfig(codec=CODEC, tokens=[TOKEN], namespace="smm-hub-core"),
        tls=tls_context(cert, key),
    )
    running.start()
    try:
        client = ssl.create_default_context(cafile=str(cert))
        request = urllib.request.Request(
            f"https://localhost:{running.port}/decode",
            method="POST",
            data=json.dumps({"payloads": [sealed_wire()]}).encode(),
            headers=auth(),
        )
        with urllib.request.urlopen(request, timeout=5, context=client) as answer:
            assert answer.status == 200
            assert base64.b64decode(json.load(answer)["payloads"][0]["data"]) == b'"hello"'
        assert running.scheme == "https"
    finally:
        running.stop()


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "cert.pem", folder / "key.pem"
