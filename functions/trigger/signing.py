"""Request authentication: HMAC-SHA256 with a secret shared with Payload.

The signature covers ``"<timestamp>.<METHOD> <path>.<body>"``: the timestamp and body (as
agreed with Payload) plus the method and path, so a signature for one endpoint cannot be
replayed against another. Requests older or newer than the window are refused, comparison is
constant-time, and each request id is accepted once (see replay.py).
"""

from __future__ import annotations

import hashlib
import hmac

WINDOW_S = 300
TIMESTAMP = "x-smm-timestamp"
SIGNATURE = "x-smm-signature"
REQUEST_ID = "x-smm-request-id"


class AuthError(Exception):
    """Why a request is not authenticated (said to the caller, never the expected MAC)."""


def message(timestamp: str, method: str, path: str, body: bytes) -> bytes:
    return f"{timestamp}.{method.upper()} {path}.".encode() + body


def sign(secret: bytes, timestamp: str, method: str, path: str, body: bytes) -> str:
    mac = hmac.new(secret, message(timestamp, method, path, body), hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: bytes, headers: dict[str, str], method: str, path: str, body: bytes,
           now: float) -> str:
    """Check the signature and the clock; returns the request id (for replay protection)."""
    timestamp = headers.get(TIMESTAMP, "")
    signature = headers.get(SIGNATURE, "")
    request_id = headers.get(REQUEST_ID, "")
    if not timestamp.isdigit():
        raise AuthError(f"{TIMESTAMP}: a unix time in seconds is required")
    if abs(now - int(timestamp)) > WINDOW_S:
        raise AuthError(f"{TIMESTAMP}: outside the {WINDOW_S} s window; check the clock")
    if not (8 <= len(request_id) <= 128) or not request_id.replace("-", "").isalnum():
        raise AuthError(f"{REQUEST_ID}: 8 to 128 letters, digits or '-' are required")
    expected = sign(secret, timestamp, method, path, body)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise AuthError(f"{SIGNATURE}: does not match the request")
    return request_id
