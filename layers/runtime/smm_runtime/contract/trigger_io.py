"""The trigger API's request and response bodies (Payload calls it from collection hooks).

The JSON Schemas of these models are what the Payload side's TypeScript types are generated
from (infra/payload/), and what the OpenAPI description of the API references.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from smm_runtime.contract.ownership import ACCOUNT_PATTERN
from smm_runtime.contract.publish_io import (
    ApprovalDecision,
    ApprovalPolicy,
    CreativeSpec,
    PostSpec,
    PublishStatus,
)


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    collection: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    doc_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    revision: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="Publish the same document again: a new number.",
    )
    creative: CreativeSpec
    post: PostSpec
    approval: ApprovalPolicy = ApprovalPolicy()
    account: str | None = Field(
        default=None,
        pattern=ACCOUNT_PATTERN,
        description="Who pays: credits are held at the start and charged on approval. Must "
        "be an account the signing key may act for.",
    )

    def workflow_id(self) -> str:
        suffix = f"-r{self.revision}" if self.revision else ""
        return f"payload-{self.collection}-{self.doc_id}{suffix}"


class StartedResponse(BaseModel):
    workflow_id: str
    run_id: str | None
    existing: bool


class AcceptedResponse(BaseModel):
    workflow_id: str
    accepted: bool = True


class StatusResponse(BaseModel):
    workflow_id: str
    status: PublishStatus


class BalanceResponse(BaseModel):
    account: str
    balance: int
    held: int
    granted: int
    captured: int


class ChannelEntry(BaseModel):
    id: str = Field(description="The Postiz integration id, as post.integrations names it.")
    provider: str | None = Field(
        description="The Postiz provider (x, linkedin, instagram, ...); null while Postiz "
        "cannot be asked."
    )
    name: str | None = Field(description="The channel's name in Postiz.")


class ChannelsResponse(BaseModel):
    account: str
    channels: list[ChannelEntry] = Field(
        description="The channels the account may post to that Postiz lists (all the allowed "
        "ones, without providers, when Postiz cannot be asked)."
    )
    postiz_listed: bool = Field(
        description="Whether Postiz was asked: false means the list is the allowed ids only, "
        "and the workflow checks each channel again before it renders."
    )


class ErrorResponse(BaseModel):
    error: str
    field: str | None = None


def api_schemas(ref_template: str) -> dict[str, Any]:
    """Every request and response model of the API as JSON Schemas referring to each other
    through ``ref_template``: the one source of the OpenAPI description and the TS types."""
    from pydantic.json_schema import models_json_schema

    models: list[tuple[type[BaseModel], Any]] = [
        (PublishRequest, "validation"),
        (ApprovalDecision, "validation"),
        (StartedResponse, "serialization"),
        (AcceptedResponse, "serialization"),
        (StatusResponse, "serialization"),
        (BalanceResponse, "serialization"),
        (ChannelsResponse, "serialization"),
        (ErrorResponse, "serialization"),
    ]
    _, top = models_json_schema(models, ref_template=ref_template)
    defs: dict[str, Any] = top["$defs"]
    return defs
