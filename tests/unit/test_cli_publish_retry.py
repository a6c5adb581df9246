"""The issue's spelling of the retry command works: `smm-engine publish retry ID`."""

from __future__ import annotations


def test_publish_retry_is_the_retry_command() -> None:
    from orchestrator.cli import publish_retry_as_retry

    assert publish_retry_as_retry(["publish", "retry", "wf-1", "--follow"]) == [
        "retry",
        "wf-1",
        "--follow",
    ]
    assert publish_retry_as_retry(["publish", "spec.json"]) == ["publish", "spec.json"]
