"""Accounts are a boundary in the bucket: what an account's work may read and write.

The key layout (the same in every allowed bucket):

- ``accounts/<account>/...`` belongs to one account: its assets, its brand kits
  (``accounts/<account>/brand-kits/<id>.json``), its renders and their intermediates;
- ``shared/...`` is what the operator shares with every account (stock music, fonts); only
  the operator writes there;
- anything else is the operator's own, for unowned work (no account: the CLI's unbilled
  renders), which keeps the flat layout (``brand-kits/<id>.json``, ``renders/<workflow>``).

Work that names an account may touch only its own prefix and ``shared/``. The workflow checks
the spec and the brand kit before anything is dispatched (naming the spec field); every
function checks its request again when it parses the event (defence in depth: a worker bug
or a forged event cannot make a function read another account's object). The Node function
implements the same rule in ``functions/render_image/src/account_scope.mts``; a parity test runs
both on one table of cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import StringConstraints

ACCOUNTS_ROOT = "accounts/"
SHARED_PREFIX = "shared/"
# Letters, digits and _ . @ - , not starting with a dot (so never "." or ".."): an account is
# always one plain path segment (S3 keys are literal, but tools that map keys to paths are not).
ACCOUNT_PATTERN = r"^[A-Za-z0-9_@-][A-Za-z0-9_.@-]{0,127}$"
AccountId = Annotated[str, StringConstraints(pattern=ACCOUNT_PATTERN)]


def account_prefix(account: str) -> str:
    return f"{ACCOUNTS_ROOT}{account}/"


def owned_prefix(account: str | None) -> str:
    """Where an owner's generated objects (renders, intermediates) go; '' when unowned."""
    return account_prefix(account) if account is not None else ""


def key_violation(account: str, key: str, *, writing: bool = False) -> str | None:
    """Why ``account``'s work may not use ``key`` (None: it may)."""
    if any(part in {"", ".", ".."} for part in key.split("/")):
        return "has an empty, '.' or '..' path segment; name the object by its plain key"
    own = account_prefix(account)
    if key.startswith(own):
        return None
    if not writing and key.startswith(SHARED_PREFIX):
        return None
    allowed = own if writing else f"{own} or {SHARED_PREFIX}"
    return (
        f"is outside the objects of account {account!r}: it may "
        f"{'write' if writing else 'use'} only keys under {allowed}; upload the file "
        f"under {own} first"
    )


# Checkpoints (segments, soundtracks and their claims) carry this tag: S3 lifecycle prefixes
# are literal, so one rule on the tag expires every account's accounts/<a>/intermediates/
# as the rule on the prefix intermediates/ expires the operator's (template.yaml).
INTERMEDIATE_TAG = ("smm-retention", "intermediate")
INTERMEDIATE_TAGGING = f"{INTERMEDIATE_TAG[0]}={INTERMEDIATE_TAG[1]}"

# Request fields a function writes to: only the account's own prefix, never shared/.
WRITE_FIELDS = frozenset({"output", "poster", "contact_sheet", "target"})


def s3_refs(value: Any, path: str) -> Iterator[tuple[str, str, str]]:
    """Every S3 object ``value`` names, as (field, bucket, key): ``s3://`` strings and
    ``{"bucket", "key"}`` objects, at any depth."""
    if isinstance(value, str):
        if value.startswith("s3://"):
            bucket, _, key = value[5:].partition("/")
            yield path, bucket, key
    elif isinstance(value, dict):
        if isinstance(value.get("bucket"), str) and isinstance(value.get("key"), str):
            yield path, value["bucket"], value["key"]
        for name, item in value.items():
            yield from s3_refs(item, f"{path}.{name}" if path else str(name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from s3_refs(item, f"{path}.{index}" if path else str(index))


def first_violation(account: str, value: Any, path: str) -> tuple[str, str] | None:
    """The first S3 object in ``value`` that ``account`` may not use: (field, message)."""
    for field, bucket, key in s3_refs(value, path):
        why = key_violation(account, key)
        if why is not None:
            return field, f"{field}: s3://{bucket}/{key} {why}"
    return None


def request_violation(account: str, request: dict[str, Any]) -> tuple[str, str] | None:
    """The first object a function request of ``account`` may not touch: (field, message)."""
    for name, value in request.items():
        if name == "account":
            continue
        for field, bucket, key in s3_refs(value, f"request.{name}"):
            why = key_violation(account, key, writing=name in WRITE_FIELDS)
            if why is not None:
                return field, f"{field}: s3://{bucket}/{key} {why}"
    return None


__all__ = [
    "ACCOUNTS_ROOT",
    "ACCOUNT_PATTERN",
    "INTERMEDIATE_TAG",
    "INTERMEDIATE_TAGGING",
    "SHARED_PREFIX",
    "WRITE_FIELDS",
    "AccountId",
    "account_prefix",
    "first_violation",
    "key_violation",
    "owned_prefix",
    "request_violation",
    "s3_refs",
]
