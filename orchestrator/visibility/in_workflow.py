"""A workflow's face in the Web UI: its search attributes (orchestrator.visibility.attributes)
upserted as it moves, and its current details (the markdown the UI shows under the
workflow's summary). Executions started before this release replay without the upserts (a patch)."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from orchestrator.visibility.attributes import ACCOUNT, DOCUMENT, KIND, STAGE
    from smm_runtime.contract.publish_io import PayloadRef

SEARCH_ATTRIBUTES_PATCH = "search-attributes"


class Visible:
    def __init__(self) -> None:
        self._on = False
        self._stage: str | None = None

    def start(
        self, kind: str, stage: str, account: str | None = None, document: PayloadRef | None = None
    ) -> None:
        """Call once, at the start of the run: what the workflow is, for whom, and (a
        publish) for which Payload document."""
        self._on = workflow.patched(SEARCH_ATTRIBUTES_PATCH)
        updates: list[SearchAttributeUpdate[Any]] = [KIND.value_set(kind)]
        if account is not None:
            updates.append(ACCOUNT.value_set(account))
        if document is not None:
            updates.append(DOCUMENT.value_set(f"{document.collection}/{document.id}"))
        self._upsert(updates)
        self.stage(stage)

    def stage(self, stage: str, details: str = "") -> None:
        """A new stage (upserted once per change) and the details line under it."""
        workflow.set_current_details(
            f"**{stage.replace('_', ' ')}**" + (f" · {details}" if details else "")
        )
        if stage != self._stage:
            self._stage = stage
            self._upsert([STAGE.value_set(stage)])

    def _upsert(self, updates: list[SearchAttributeUpdate[Any]]) -> None:
        if self._on:
            workflow.upsert_search_attributes(updates)
