"""The dispatch event: the envelope the worker sends and every function parses, one model each.

An event is built (worker) and parsed (function) with the same per-kind model, generated from
the table of kinds. Bump ``CONTRACT_VERSION`` on any breaking change; a function refuses
events of a version it does not speak.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal, Union, cast

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    create_model,
    field_serializer,
)

from smm_runtime.contract import CONTRACT_VERSION
from smm_runtime.contract.basetypes import Model
from smm_runtime.contract.errors import INVALID_REQUEST, UNSUPPORTED_CONTRACT
from smm_runtime.contract.kinds import KINDS, Kind
from smm_runtime.contract.ownership import request_violation
from smm_runtime.contract.validation import ContractError, describe_validation_error

SUPPORTED_CONTRACT_VERSIONS = frozenset({CONTRACT_VERSION})


class DispatchEvent(Model):
    """What every event carries besides its kind and request."""

    contract_version: int
    # A bearer capability for one attempt: masked in repr/str, revealed only when serialized
    # to JSON for the invoke payload. Never log an event.
    task_token: SecretStr
    workflow_id: str = Field(min_length=1)
    run_id: str = ""
    activity_id: str = Field(min_length=1)
    attempt: int = Field(ge=1)
    heartbeat_details: dict[str, Any] | None = Field(
        default=None, description="The previous attempt's last heartbeat: the checkpoint."
    )
    heartbeat_timeout_s: float | None = Field(
        default=None,
        gt=0,
        description="The attempt's heartbeat timeout: a function that has "
        "not heartbeaten for this long knows the server has timed the attempt out.",
    )
    trace: dict[str, str] | None = Field(
        default=None,
        description="The dispatch's W3C trace context (traceparent, tracestate): "
        "the function's span continues the worker's trace.",
    )
    kind: str
    request: BaseModel

    @field_serializer("task_token", when_used="json")
    def _reveal_token(self, token: SecretStr) -> str:
        return token.get_secret_value()

    def task_token_bytes(self) -> bytes:
        return base64.b64decode(self.task_token.get_secret_value(), validate=True)


def _event_model(kind: Kind[Any, Any]) -> type[DispatchEvent]:
    # "SegmentRequest" -> "SegmentEvent": the name is the committed JSON Schema's title.
    name = kind.request.__name__.removesuffix("Request") + "Event"
    tag: Any = Literal[kind.name]
    model = create_model(name, __base__=DispatchEvent, kind=(tag, ...), request=(kind.request, ...))
    model.__module__ = __name__
    return model


EVENT_MODELS: dict[str, type[DispatchEvent]] = {kind.name: _event_model(kind) for kind in KINDS}
SegmentEvent = EVENT_MODELS["render_segment"]
ImageEvent = EVENT_MODELS["render_image"]
_ANY_EVENT: Any = Union[tuple(EVENT_MODELS.values())]  # noqa: UP007
_EVENT_ADAPTER: TypeAdapter[DispatchEvent] = TypeAdapter(
    cast(Any, Annotated[_ANY_EVENT, Field(discriminator="kind")])
)


def encode_task_token(token: bytes) -> str:
    return base64.b64encode(token).decode("ascii")


def build_event(
    kind: Kind[Any, Any],
    request: BaseModel,
    *,
    task_token: bytes,
    workflow_id: str,
    run_id: str,
    activity_id: str,
    attempt: int,
    heartbeat_details: dict[str, Any] | None,
    heartbeat_timeout_s: float | None = None,
    trace: dict[str, str] | None = None,
) -> DispatchEvent:
    """The event for one attempt, from the same model the function parses it with."""
    return EVENT_MODELS[kind.name](
        contract_version=CONTRACT_VERSION,
        kind=kind.name,
        task_token=SecretStr(encode_task_token(task_token)),
        workflow_id=workflow_id,
        run_id=run_id,
        activity_id=activity_id,
        attempt=attempt,
        request=request,
        heartbeat_details=heartbeat_details,
        heartbeat_timeout_s=heartbeat_timeout_s,
        trace=trace,
    )


def extract_task_token(raw: object) -> bytes | None:
    """The token alone, so a function can fail the activity even when the rest is invalid."""
    if not isinstance(raw, dict):
        return None
    token = raw.get("task_token")
    if not isinstance(token, str) or not token:
        return None
    try:
        return base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return None


def parse_event(raw: object) -> DispatchEvent:
    """Validate an incoming event; raise ContractError naming the field on any problem,
    including an object outside the request's account (ownership)."""
    if not isinstance(raw, dict):
        raise ContractError("the event must be a JSON object", error_type=INVALID_REQUEST)
    version = raw.get("contract_version")
    if version not in SUPPORTED_CONTRACT_VERSIONS:
        raise ContractError(
            f"contract_version {version!r} is not supported by this function (it speaks "
            f"{sorted(SUPPORTED_CONTRACT_VERSIONS)}): deploy the worker and the functions "
            "from the same release",
            error_type=UNSUPPORTED_CONTRACT,
            field="contract_version",
        )
    try:
        event = _EVENT_ADAPTER.validate_python(raw)
    except ValidationError as err:
        first = err.errors()[0]["loc"] if err.errors() else ()
        raise ContractError(
            f"invalid event: {describe_validation_error(err)}",
            error_type=INVALID_REQUEST,
            field=".".join(str(p) for p in first) or None,
        ) from None
    account = getattr(event.request, "account", None)
    if account is not None:
        violation = request_violation(account, event.request.model_dump(mode="json"))
        if violation is not None:
            raise ContractError(violation[1], error_type=INVALID_REQUEST, field=violation[0])
    return event
