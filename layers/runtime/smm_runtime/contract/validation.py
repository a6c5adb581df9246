"""Turning pydantic's errors into messages that name the user's field, and parsing specs.

Every refusal says which field is wrong and what to fix
(``invalid video spec: spec.scenes.1.transition_in.duration_s: ...``).
"""

from __future__ import annotations

from pydantic import ValidationError

from smm_runtime.contract.errors import INVALID_REQUEST
from smm_runtime.contract.image_spec import ImageSpec
from smm_runtime.contract.video_spec import VideoSpec


class ContractError(Exception):
    """An event or spec that does not match the contract, with the offending field named."""

    def __init__(self, message: str, *, error_type: str, field: str | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.field = field


def describe_validation_error(err: ValidationError, *, prefix: str = "", limit: int = 5) -> str:
    """'request.spec.duration_s: Input should be greater than 0; ...' for the first errors."""
    parts = []
    for item in err.errors()[:limit]:
        path = ".".join(str(p) for p in item["loc"] if p not in ("function-after",))
        field = f"{prefix}{path}" if path else prefix.rstrip(".") or "(root)"
        parts.append(f"{field}: {item['msg']}")
    more = len(err.errors()) - limit
    if more > 0:
        parts.append(f"(+{more} more)")
    return "; ".join(parts)


def _refusal(err: ValidationError, what: str) -> ContractError:
    first = err.errors()[0]["loc"] if err.errors() else ()
    return ContractError(
        f"invalid {what}: {describe_validation_error(err, prefix='spec.')}",
        error_type=INVALID_REQUEST,
        field="spec." + ".".join(str(p) for p in first),
    )


def parse_spec(raw: object) -> VideoSpec:
    """Validate a video spec as a user wrote it; the message names each bad field."""
    try:
        return VideoSpec.model_validate(raw)
    except ValidationError as err:
        raise _refusal(err, "video spec") from None


def parse_image_spec(raw: object) -> ImageSpec:
    try:
        return ImageSpec.model_validate(raw)
    except ValidationError as err:
        raise _refusal(err, "image spec") from None
