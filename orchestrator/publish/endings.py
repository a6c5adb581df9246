"""The stage a publish ends in when it raises: what Payload, the status and the CLI show."""

from __future__ import annotations

import asyncio

from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
)

from smm_runtime.contract.errors import INSUFFICIENT_CREDITS


def ending(err: BaseException) -> tuple[str, str | None]:
    """The stage (and error) a publish that raised ``err`` ends in."""
    if isinstance(err, asyncio.CancelledError):
        return "cancelled", None
    if isinstance(err, ChildWorkflowError):
        if isinstance(err.cause, CancelledError):  # the render was cancelled with the publish
            return "cancelled", None
        return "failed", str(err.cause or err)
    if isinstance(err, ActivityError):  # credits, the ledger, Postiz out of retries
        cause = err.cause
        short = isinstance(cause, ApplicationError) and cause.type == INSUFFICIENT_CREDITS
        return "insufficient_credits" if short else "failed", str(cause or err)
    return "failed", str(err)


def root_cause(err: BaseException) -> str:
    """The innermost failure's message (a child's activity's ApplicationError, say), which
    says what to fix; the wrappers around it only say where it happened."""
    while isinstance(getattr(err, "cause", None), BaseException):
        err = err.cause  # type: ignore[attr-defined]
    return str(err)
