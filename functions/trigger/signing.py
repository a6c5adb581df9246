"""Request authentication: HMAC-SHA256 with secrets shared with Payload (scheme v2).

The signature covers ``"v2.<request id>.<timestamp>.<METHOD> <path>.<body>"``: the request id
(accepted once, see replay.py; a signature lifted from one request cannot be sent again under a
new id), the timestamp (a 300 s window), and the method, path and body (a signature for one
endpoint is worthless at another). The header names the key it was made with,
``x-smm-signature: v2=<key id>:<hex>``, and may carry several (space-separated) while a
sender rotates; the API accepts every key of its keyring, so a new key is added, senders move
to it, and the old one is removed — no downtime. Comparison is constant-time.

Why not Standard Webhooks (``webhook-id``/``webhook-timestamp``/``webhook-signature``): it
signs the id, timestamp and body but not the method and path, and this API serves several
endpoints with one secret; the v2 message is the Standard Webhooks message with the method
and path added, and its key ids play the part of its ``whsec_`` rotation list.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

WINDOW_S = 300
TIMESTAMP = "x-smm-timestamp"
SIGNATURE = "x-smm-signature"
REQUEST_ID = "x-smm-request-id"
DEFAULT_KEY_ID = "default"


class AuthError(Exception):
    """Why a request is not authenticated (said to the caller, never the expected MAC)."""


@dataclass(frozen=True)
class Key:
    """A signing key, and the accounts whoever holds it may act for (None: any)."""

    secret: bytes
    accounts: frozenset[str] | None = None

    def may_act_for(self, account: str | None) -> bool:
        """Whether this key may act for ``account``; unowned work (None) is the operator's,
        so only a key bound to no accounts may start or touch it."""
        if self.accounts is None:
            return True
        return account is not None and account in self.accounts


def keyring(value: str) -> dict[str, Key]:
    """The keys a secret holds: a JSON object of key ids, each ``"<secret>"`` (any account) or
    ``{"secret": "<secret>", "accounts": ["<account>", ...]}`` (only those), several at once
    for rotation or for several callers; or one plain secret, key id ``default``."""
    text = value.strip()
    if not text.startswith("{"):
        return {DEFAULT_KEY_ID: Key(text.encode())}
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"trigger secret: not valid JSON ({err.msg})") from None
    keys: dict[str, Key] = {}
    for key_id, entry in entries.items() if isinstance(entries, dict) else ():
        secret = entry.get("secret") if isinstance(entry, dict) else entry
        accounts = entry.get("accounts") if isinstance(entry, dict) else None
        if (
            not isinstance(secret, str)
            or len(secret) < 16
            or not (
                accounts is None
                or (isinstance(accounts, list) and all(isinstance(a, str) for a in accounts))
            )
        ):
            break
        keys[key_id] = Key(secret.encode(), frozenset(accounts) if accounts is not None else None)
    else:
        if keys:
            return keys
    raise ValueError(
        'trigger secret: use {"<key id>": "<secret of 16+ characters>"} or '
        '{"<key id>": {"secret": "<secret>", "accounts": ["<account>"]}}'
    )


def message(request_id: str, timestamp: str, method: str, path: str, body: bytes) -> bytes:
    return f"v2.{request_id}.{timestamp}.{method.upper()} {path}.".encode() + body


def sign(
    secret: bytes,
    timestamp: str,
    method: str,
    path: str,
    body: bytes,
    *,
    request_id: str,
    key_id: str = DEFAULT_KEY_ID,
) -> str:
    mac = hmac.new(secret, message(request_id, timestamp, method, path, body), hashlib.sha256)
    return f"v2={key_id}:{mac.hexdigest()}"


def verify(
    keys: Mapping[str, Key],
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    now: float,
) -> str:
    """Check the signature and the clock; returns the request id (for replay protection)."""
    return authenticate(keys, headers, method, path, body, now)[0]


def authenticate(
    keys: Mapping[str, Key],
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    now: float,
) -> tuple[str, str]:
    """Check the signature and the clock; (request id, the id of the key that signed)."""
    timestamp = headers.get(TIMESTAMP, "")
    signature = headers.get(SIGNATURE, "")
    request_id = headers.get(REQUEST_ID, "")
    if not timestamp.isdigit():
        raise AuthError(f"{TIMESTAMP}: a unix time in seconds is required")
    if abs(now - int(timestamp)) > WINDOW_S:
        raise AuthError(f"{TIMESTAMP}: outside the {WINDOW_S} s window; check the clock")
    if not (8 <= len(request_id) <= 128) or not request_id.replace("-", "").isalnum():
        raise AuthError(f"{REQUEST_ID}: 8 to 128 letters, digits or '-' are required")
    if signature.startswith("sha256="):
        raise AuthError(
            f"{SIGNATURE}: the v1 scheme (sha256=, which does not cover the request "
            "id) is no longer accepted; sign with v2=<key id>:<hex>"
        )
    known = False
    for entry in signature.split():
        scheme, _, rest = entry.partition("=")
        key_id, _, mac = rest.partition(":")
        if scheme != "v2" or key_id not in keys:
            continue
        known = True
        expected = sign(
            keys[key_id].secret, timestamp, method, path, body, request_id=request_id, key_id=key_id
        )
        if hmac.compare_digest(
            expected.encode(), f"v2={key_id}:{mac}".encode("utf-8", "surrogateescape")
        ):
            return request_id, key_id
    if not known:
        raise AuthError(f"{SIGNATURE}: sign with v2=<key id>:<hex> using a key id this API accepts")
    raise AuthError(f"{SIGNATURE}: does not match the request")
