"""The workflow's side of the account boundary (smm_runtime.contract.ownership): before
anything is dispatched or reserved, every object a spec or its brand kit names must be the
owner's (or shared); the functions check the same again when they parse their events."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from smm_runtime.contract.errors import INVALID_REQUEST
    from smm_runtime.contract.ownership import first_violation
    from smm_runtime.contract.video_spec import BrandKit


# Executions started before accounts were a boundary replay (and go on) with the flat layout
# and no checks: their objects were never under accounts/<account>/.
OWNERSHIP_PATCH = "account-ownership"


def owner_of(account: str | None) -> str | None:
    """The owner a workflow runs as from now on: ``account``, unless the execution predates
    the boundary. Call once, at the start of the run."""
    return account if workflow.patched(OWNERSHIP_PATCH) else None


def foreign_object(owner: str | None, spec: Any, kit: BrandKit) -> ApplicationError | None:
    """The error for the first object ``owner`` may not use, naming its field; None if all
    are the owner's or shared, or the work is the operator's own (no owner)."""
    if owner is None:
        return None
    for value, path in ((spec, "spec"), (kit.model_dump(mode="json"), "brand_kit")):
        found = first_violation(owner, value, path)
        if found is not None:
            return ApplicationError(found[1], type=INVALID_REQUEST, non_retryable=True)
    return None
