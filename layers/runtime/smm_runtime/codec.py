"""Payload encryption: what the shared Temporal server (and Postiz beside us) stores is
ciphertext.

Every payload is serialized and sealed with AES-256-GCM. The key id travels in the payload's
metadata, so keys rotate without a flag day: encrypt with the active key, decrypt with any
configured one. Failure messages and stack traces are moved into an encoded attribute so they
are encrypted too (Temporal's "encode common attributes").

Keys come from one place per process:
- SMM_PAYLOAD_KEYS_SECRET_ARN: a Secrets Manager secret holding
  {"active": "k2", "keys": {"k1": "<base64 32 bytes>", "k2": "<base64 32 bytes>"}}
  (read once per cold start), or
- SMM_PAYLOAD_KEYS: the same JSON inline (local runs, tests).
Neither set: payloads stay plain. With keys, a plaintext payload is refused (the sender has
no keys: it would leak what it sends to the shared server, silently) unless
SMM_PAYLOAD_PLAINTEXT=accept, for the time it takes to switch encryption on under running
executions. The Node package (functions/render_image/payload-codec/, @smm-hub/payload-codec)
implements the same format, for the image function and for Node clients such as Payload.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import os
from collections.abc import Mapping, Sequence

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.converter import PayloadCodec as PayloadCodecBase

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class PayloadKeyError(Exception):
    """The payload keys are unusable or a payload cannot be opened; the message says why."""


@dataclasses.dataclass(frozen=True)
class PayloadKeys:
    active: str
    keys: Mapping[str, bytes]

    @classmethod
    def parse(cls, text: str, source: str) -> PayloadKeys:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise PayloadKeyError(
                f'{source}: not JSON; expected {{"active": "k1", "keys": '
                '{"k1": "<base64 of 32 random bytes>"}}'
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
            raise PayloadKeyError(f"{source}: needs an object with 'active' and 'keys'")
        keys: dict[str, bytes] = {}
        for key_id, encoded in data["keys"].items():
            try:
                raw = base64.b64decode(str(encoded), validate=True)
            except binascii.Error:
                raise PayloadKeyError(f"{source}: keys.{key_id} is not base64") from None
            if len(raw) != 32:
                raise PayloadKeyError(
                    f"{source}: keys.{key_id} is {len(raw)} bytes; AES-256 needs 32 "
                    "(e.g. `openssl rand -base64 32`)"
                )
            keys[str(key_id)] = raw
        active = data.get("active")
        if active not in keys:
            raise PayloadKeyError(f"{source}: active key {active!r} is not one of keys")
        return cls(active=str(active), keys=keys)


class PlaintextPayloadError(PayloadKeyError):
    """An unencrypted payload reached a process that has keys: its sender has none."""


class AesGcmCodec(PayloadCodecBase):
    def __init__(self, keys: PayloadKeys, *, accept_plaintext: bool = False) -> None:
        """``accept_plaintext``: open unencrypted payloads as they are (the codec server, which
        shows old histories; a deployment switching encryption on)."""
        self._accept_plaintext = accept_plaintext
        # Imported here, not at module level: Temporal's workflow sandbox re-imports the
        # modules a workflow file pulls in, and cryptography's native module cannot load twice.
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._active = keys.active
        self._ciphers = {key_id: AESGCM(raw) for key_id, raw in keys.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        # The key id is authenticated data: moving a payload to another key id fails to open.
        sealed = self._ciphers[self._active].encrypt(
            nonce, payload.SerializeToString(), self._active.encode()
        )
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: self._active.encode()}, data=nonce + sealed
        )

    def open(self, payload: Payload) -> Payload:
        encoding = payload.metadata.get("encoding", b"")
        if encoding != ENCODING:
            if self._accept_plaintext:
                return payload
            raise PlaintextPayloadError(
                f"a payload arrived unencrypted (encoding {encoding.decode(errors='replace')!r})"
                " but this process has payload keys: its sender has none, and what it sent is "
                "readable on the shared server. Give every client of the namespace the same "
                "SMM_PAYLOAD_KEYS (a Node client: @smm-hub/payload-codec); while switching "
                "encryption on under running executions, set SMM_PAYLOAD_PLAINTEXT=accept"
            )
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyError(
                f"payload sealed with key {key_id!r}, which is not configured: add it to "
                "SMM_PAYLOAD_KEYS (keep retired keys until no history needs them)"
            )
        from cryptography.exceptions import InvalidTag

        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, key_id.encode())
        except InvalidTag:
            raise PayloadKeyError(
                f"payload under key {key_id!r} failed authentication "
                "(tampered, or a different key with the same id)"
            ) from None
        return Payload.FromString(plain)


def load_keys(environ: Mapping[str, str] | None = None) -> PayloadKeys | None:
    env = os.environ if environ is None else environ
    arn = env.get("SMM_PAYLOAD_KEYS_SECRET_ARN")
    if arn:
        from aws_lambda_powertools.utilities import parameters

        value = parameters.get_secret(arn, max_age=3600)
        return PayloadKeys.parse(str(value), "SMM_PAYLOAD_KEYS_SECRET_ARN")
    inline = env.get("SMM_PAYLOAD_KEYS")
    return PayloadKeys.parse(inline, "SMM_PAYLOAD_KEYS") if inline else None


def data_converter(environ: Mapping[str, str] | None = None) -> DataConverter:
    """The one data converter: pydantic models, sealed payloads and failures when keys are
    configured."""
    keys = load_keys(environ)
    if keys is None:
        return pydantic_data_converter
    env = os.environ if environ is None else environ
    plaintext = env.get("SMM_PAYLOAD_PLAINTEXT", "refuse")
    if plaintext not in {"refuse", "accept"}:
        raise PayloadKeyError(
            f"SMM_PAYLOAD_PLAINTEXT: {plaintext!r} is neither 'refuse' (the default) nor 'accept'"
        )
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=AesGcmCodec(keys, accept_plaintext=plaintext == "accept"),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
