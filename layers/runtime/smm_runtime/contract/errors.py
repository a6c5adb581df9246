"""Error types that cross the Temporal boundary.

Workflows branch on ``ApplicationError.type`` (these constants), never on message text.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError

# Non-retryable: the caller must change something before trying again.
INVALID_REQUEST = "InvalidRequest"
UNSUPPORTED_CONTRACT = "UnsupportedContractVersion"
UNSAFE_MEDIA = "UnsafeMedia"
INSUFFICIENT_CREDITS = "InsufficientCredits"  # the account cannot cover the estimate
LEDGER_CONFLICT = "LedgerConflict"  # an idempotency key reused for a different entry
# Retryable: a transient fault; Temporal retries with backoff.
FUNCTION_ERROR = "FunctionError"
DISPATCH_ERROR = "DispatchError"
RENDER_FAILED = "RenderFailed"


class WorkError(Exception):
    """A failure raised by a function's core logic, with the type Temporal will see."""

    error_type: str = FUNCTION_ERROR
    non_retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        error_type: str | None = None,
        non_retryable: bool | None = None,
        next_retry_delay: timedelta | None = None,
    ) -> None:
        super().__init__(message)
        if error_type is not None:
            self.error_type = error_type
        if non_retryable is not None:
            self.non_retryable = non_retryable
        self.next_retry_delay = next_retry_delay

    def to_application_error(self) -> ApplicationError:
        return ApplicationError(
            str(self),
            type=self.error_type,
            non_retryable=self.non_retryable,
            next_retry_delay=self.next_retry_delay,
        )


class InvalidRequestError(WorkError):
    """The request is wrong (a field, a missing asset): retrying cannot help."""

    error_type = INVALID_REQUEST
    non_retryable = True


class UnsafeMediaError(WorkError):
    """An input is not an allowed media file (format, codec, size, source)."""

    error_type = UNSAFE_MEDIA
    non_retryable = True


class WorkCancelledError(Exception):
    """Raised inside work when Temporal asked to cancel, or the attempt went stale."""
