"""The one way a Python function's handler is wrapped for Lambda: Powertools' Lambda context
in every log line, a tracer segment around the invocation, and never the event or the
response in a log or a trace (events carry task tokens and request bodies; both are secrets).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Tracer

Handler = TypeVar("Handler", bound=Callable[[Any, Any], Any])


def lambda_entry(logger: Logger, tracer: Tracer, handler: Handler) -> Handler:
    """``handler`` as the function's entry point (``clear_state``: no key a warm invocation
    appended to the logger leaks into the next one)."""
    traced = tracer.capture_lambda_handler(handler, capture_response=False)
    return cast(Handler, logger.inject_lambda_context(traced, log_event=False, clear_state=True))
