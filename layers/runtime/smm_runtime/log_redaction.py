"""Task tokens never reach a log, whatever the log level.

At DEBUG, botocore logs every request body (the dispatch event, with its base64 task token)
and the Temporal SDK logs every activity completion (with the raw token). A token is a bearer
capability for one attempt, so those lines are redacted as they are made: the record factory
rewrites the message before any handler, pytest's included, sees it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"
_QUOTED = r"""(['"])(?:(?!\2)[^\\]|\\.)*\2"""  # '...' or "..." (bytes reprs use either)
_PATTERNS = [
    # JSON, as in the dispatch event botocore logs: "task_token": "CiQw..."
    re.compile(r'("task_token"\s*:\s*)"[^"]*"'),
    # Python reprs: 'task_token': b'...' or 'task_token': "..."
    re.compile(r"""('task_token'\s*:\s*b?)""" + _QUOTED),
    # protobuf text format, as the Temporal SDK logs a completion: task_token: "\n$01a2..."
    re.compile(r"(task_token:\s*)" + _QUOTED),
    # the Temporal SDK's "Running activity x (token b'...')"
    re.compile(r"(\(token b?)" + _QUOTED),
]
_installed = False


def redact(text: str) -> str:
    if "token" not in text:
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(rf'\g<1>"{REDACTED}"', text)
    return text


def install() -> None:
    """Redact every log record made in this process from now on (idempotent)."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the handler's to report
            return record
        cleaned = redact(message)
        if cleaned is not message and cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
