"""Deterministic S3 keys.

Keys derive from business ids (workflow id, step name), never from run ids or attempt
numbers, so a retried or duplicated delivery writes the same object instead of a new one.
"""

from __future__ import annotations

import re
from urllib.parse import quote

_SAFE = re.compile(r"[^A-Za-z0-9._=-]")


def safe_segment(value: str) -> str:
    """One path segment that cannot climb out of its prefix or hide a separator."""
    if not value:
        raise ValueError("an S3 key segment must not be empty")
    cleaned = _SAFE.sub("_", value)
    if cleaned in {".", ".."}:
        cleaned = cleaned.replace(".", "_")
    return cleaned


def render_output_key(workflow_id: str, step: str, extension: str) -> str:
    return f"renders/{safe_segment(workflow_id)}/{safe_segment(step)}.{safe_segment(extension)}"


def s3_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{quote(key, safe='/=._-')}"
