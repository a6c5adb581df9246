"""The payload codec: AES-256-GCM with the key id in the metadata; Python and Node agree."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes

from smm_runtime.codec import (
    ENCODING,
    KEY_ID,
    AesGcmCodec,
    PayloadKeyError,
    PayloadKeys,
    PlaintextPayloadError,
    data_converter,
)

ROOT = Path(__file__).resolve().parents[2]
NODE_FN = ROOT / "functions" / "render_image"


def keys_json(active: str = "k1", **keys: bytes) -> str:
    keys = keys or {"k1": os.urandom(32)}
    return json.dumps(
        {"active": active, "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()}}
    )


def plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(text).encode())


async def test_sealed_payloads_hide_the_data_and_name_their_key() -> None:
    codec = AesGcmCodec(PayloadKeys.parse(keys_json(), "test"))
    (sealed,) = await codec.encode([plain("brand kit acme, client secret plan")])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"k1"
    assert b"acme" not in sealed.SerializeToString()
    (opened,) = await codec.decode([sealed])
    assert opened == plain("brand kit acme, client secret plan")


async def test_keys_rotate_old_payloads_still_open_new_ones_use_the_new_key() -> None:
    k1, k2 = os.urandom(32), os.urandom(32)
    old = AesGcmCodec(PayloadKeys.parse(keys_json("k1", k1=k1), "test"))
    new = AesGcmCodec(PayloadKeys.parse(keys_json("k2", k1=k1, k2=k2), "test"))
    (sealed_old,) = await old.encode([plain("v1")])
    (sealed_new,) = await new.encode([plain("v2")])
    assert sealed_new.metadata[KEY_ID] == b"k2"
    assert await new.decode([sealed_old, sealed_new]) == [plain("v1"), plain("v2")]
    with pytest.raises(PayloadKeyError, match="key 'k2', which is not configured"):
        await old.decode([sealed_new])


async def test_tampering_or_relabelling_the_key_id_fails_authentication() -> None:
    k1 = os.urandom(32)
    codec = AesGcmCodec(PayloadKeys.parse(keys_json("k1", k1=k1, k2=k1), "test"))
    (sealed,) = await codec.encode([plain("x")])
    tampered = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    flipped = Payload(metadata=sealed.metadata, data=tampered)
    with pytest.raises(PayloadKeyError, match="failed authentication"):
        await codec.decode([flipped])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"k2"}, data=sealed.data)
    with pytest.raises(PayloadKeyError, match="failed authentication"):
        await codec.decode([relabelled])


async def test_a_plaintext_payload_is_refused_naming_the_senders_mistake() -> None:
    codec = data_converter({"SMM_PAYLOAD_KEYS": keys_json()}).payload_codec
    assert codec is not None
    with pytest.raises(PlaintextPayloadError, match=r"unencrypted .*its sender has none") as err:
        await codec.decode([plain("leaked")])
    assert "SMM_PAYLOAD_PLAINTEXT=accept" in str(err.value) and "leaked" not in str(err.value)


async def test_while_switching_encryption_on_plaintext_can_be_accepted() -> None:
    converter = data_converter({"SMM_PAYLOAD_KEYS": keys_json(), "SMM_PAYLOAD_PLAINTEXT": "accept"})
    assert converter.payload_codec is not None
    assert await converter.payload_codec.decode([plain("old")]) == [plain("old")]
    with pytest.raises(PayloadKeyError, match="SMM_PAYLOAD_PLAINTEXT: 'yes' is neither"):
        data_converter({"SMM_PAYLOAD_KEYS": keys_json(), "SMM_PAYLOAD_PLAINTEXT": "yes"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope", "SMM_PAYLOAD_KEYS: not JSON"),
        ('{"active": "k1"}', "needs an object with 'active' and 'keys'"),
        ('{"active": "k1", "keys": {"k1": "!!"}}', "keys.k1 is not base64"),
        ('{"active": "k1", "keys": {"k1": "c2hvcnQ="}}', "keys.k1 is 5 bytes; AES-256 needs 32"),
        (keys_json("k9"), "active key 'k9' is not one of keys"),
    ],
)
def test_bad_key_configuration_names_what_to_fix(text: str, message: str) -> None:
    with pytest.raises(PayloadKeyError, match=message):
        data_converter({"SMM_PAYLOAD_KEYS": text})


def test_without_keys_payloads_stay_plain_and_with_keys_failures_are_encoded_too() -> None:
    assert data_converter({}).payload_codec is None
    converter = data_converter({"SMM_PAYLOAD_KEYS": keys_json()})
    assert isinstance(converter.payload_codec, AesGcmCodec)
    assert isinstance(converter.failure_converter, DefaultFailureConverterWithEncodedAttributes)


NODE_ROUND_TRIP = """
import { AesGcmCodec, parseKeys } from './dist/codec.mjs';
const input = JSON.parse(await new Promise((ok) => {
  let s = ''; process.stdin.on('data', (d) => { s += d; }).on('end', () => ok(s)); }));
const codec = new AesGcmCodec(parseKeys(input.keys, 'test'));
const b = (x) => Buffer.from(x, 'base64');
const opened = await codec.decode(input.sealed.map((p) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, b(v)])),
  data: b(p.data) })));
const sealed = await codec.encode([{ metadata: { encoding: Buffer.from('json/plain') },
                                     data: Buffer.from(JSON.stringify('from node')) }]);
const b64 = (v) => Buffer.from(v).toString('base64');
const out = (p) => ({ data: b64(p.data), metadata: Object.fromEntries(
  Object.entries(p.metadata).map(([k, v]) => [k, b64(v)])) });
console.log(JSON.stringify({ opened: opened.map(out), sealed: sealed.map(out) }));
"""


async def test_python_and_node_open_each_others_payloads() -> None:
    keys = keys_json()
    codec = AesGcmCodec(PayloadKeys.parse(keys, "test"))
    (sealed,) = await codec.encode([plain("from python")])

    def wire(p: Payload) -> dict[str, object]:
        return {
            "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
            "data": base64.b64encode(p.data).decode(),
        }

    def unwire(d: dict[str, object]) -> Payload:
        meta = d["metadata"]
        assert isinstance(meta, dict)
        return Payload(
            metadata={k: base64.b64decode(v) for k, v in meta.items()},
            data=base64.b64decode(str(d["data"])),
        )

    done = subprocess.run(
        ["node", "--input-type=module", "-e", NODE_ROUND_TRIP],
        input=json.dumps({"keys": keys, "sealed": [wire(sealed)]}),
        capture_output=True,
        text=True,
        cwd=NODE_FN,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert unwire(answer["opened"][0]) == plain("from python")
    from_node = unwire(answer["sealed"][0])
    assert from_node.metadata["encoding"] == ENCODING
    assert await codec.decode([from_node]) == [plain("from node")]
