"""What a publish workflow carries into its next run when it continues as new.

Only the workflow itself builds one (a second run argument callers never pass): the state
of a round that is waiting for a decision — the status, the creative as revised so far, the
rendered media, every round's hold with its usage, the decision deadline, and the Payload
reports not yet delivered, whose sequence numbers go on growing across runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from orchestrator.billing.holds import BillCarry
from smm_runtime.contract.basetypes import S3Object
from smm_runtime.contract.publish_io import PayloadUpdate, PublishStatus


class PublishCarry(BaseModel):
    status: PublishStatus
    creative: dict[str, Any]
    media: list[tuple[S3Object, str]] = Field(default_factory=list)
    bills: list[BillCarry] = Field(default_factory=list)
    deadline: datetime
    review_links: bool = True
    payload_next_seq: int = 1
    payload_unsent: list[PayloadUpdate] = Field(default_factory=list)
    runs: int = 1  # how many runs this execution has had, this one included
    # Whose prefix the renders and uploads use (None: the flat layout of executions that
    # started before accounts were a boundary, which their continued runs keep).
    owner: str | None = None
    # The Postiz channels' providers the preflight read at the start, and which outputs go
    # to each channel (None / empty: executions that started before the preflight).
    providers: dict[str, str] | None = None
    channel_media: dict[str, list[int]] = Field(default_factory=dict)
