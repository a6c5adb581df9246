"""Task tokens are cut out of log lines as they are made, at any level."""

from __future__ import annotations

import json
import logging

import pytest

from smm_runtime import log_redaction

TOKEN = "CiQwMWEyMTRmNC1lNzM5LTc0ZjEtOGM2Ny0xMjM0NTY3ODkwYWI="


@pytest.mark.parametrize(
    "line",
    [
        json.dumps({"kind": "noop", "task_token": TOKEN, "attempt": 1}),
        str({"body": {"task_token": TOKEN}}),
        str({"task_token": TOKEN.encode()}),
        'Completing activity with completion: task_token: "' + TOKEN + '\\n$01\\022x" result {}',
        "Running activity dispatch_noop (token b'" + TOKEN + "\\n$01\\x12')",
        # a token holding a quote byte is shown with double quotes by repr()
        "Running activity dispatch_noop (token %r)" % (TOKEN.encode() + b"'x"),
        str({"task_token": b"'" + TOKEN.encode(), "result": 1}),
    ],
)
def test_a_token_in_any_shape_is_redacted(line: str) -> None:
    cleaned = log_redaction.redact(line)
    assert TOKEN not in cleaned and TOKEN[:20] not in cleaned
    assert log_redaction.REDACTED in cleaned


def test_records_are_redacted_before_any_handler_sees_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log_redaction.install()
    log_redaction.install()  # idempotent
    caplog.set_level(logging.DEBUG)
    logging.getLogger("botocore.endpoint").debug(
        "Making request with params: %r", {"body": json.dumps({"task_token": TOKEN})}
    )
    (record,) = [r for r in caplog.records if r.name == "botocore.endpoint"]
    assert TOKEN not in caplog.text and TOKEN not in record.getMessage()
    assert "Making request" in caplog.text


def test_lines_without_tokens_are_untouched() -> None:
    line = "dispatched render_segment to RenderSegmentFunction"
    assert log_redaction.redact(line) is line
