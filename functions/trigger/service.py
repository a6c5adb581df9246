"""The trigger's Temporal side: start (idempotently), signal, query.

``Service`` is what the routes and the review pages need from it; ``TemporalService`` is the
real one, and tests give the routes fakes that answer the same calls.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from temporalio.client import Client, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from functions.trigger.signing import Key
from smm_runtime.account_channels import AccountChannels
from smm_runtime.contract.publish_io import (
    SIGNAL_NAME,
    ApprovalDecision,
    PublishInput,
    PublishStatus,
)
from smm_runtime.contract.trigger_io import (
    BalanceResponse,
    PublishRequest,
    StartedResponse,
    StatusResponse,
)
from smm_runtime.ledger import Ledger

WORKFLOW = "PublishCreativeWorkflow"
# Written into the memo of every publish this API starts: approvals and status answer only
# for those, so a signed caller cannot signal a semaphore, another workflow type, or a
# publish started elsewhere (the CLI, a direct client) through this endpoint.
STARTED_BY = {"started_by": "smm-trigger-api"}


class DocumentTaken(Exception):
    """The document's publish belongs to another account (or was started unbilled)."""


class Service(Protocol):
    """What the API's routes and the review pages ask of Temporal."""

    async def start_publish(self, request: PublishRequest) -> StartedResponse:
        """Start the document's publish, or answer the one that exists for the same account;
        raises DocumentTaken when it exists for another."""
        ...

    async def read_balance(self, account: str) -> BalanceResponse: ...

    async def allowed_channels(self, account: str) -> frozenset[str] | None:
        """The Postiz channels ``account`` may post to (None: none set, so none)."""
        ...

    async def send_approval(
        self, workflow_id: str, decision: ApprovalDecision, key: Key
    ) -> bool: ...

    async def decide(
        self, workflow_id: str, decision: ApprovalDecision
    ) -> tuple[bool, str | None]: ...

    async def read_status(
        self, workflow_id: str, key: Key | None = None
    ) -> StatusResponse | None: ...

    async def retry_publish(self, workflow_id: str, key: Key) -> tuple[bool, str | None]: ...


class TemporalService:
    def __init__(
        self,
        client: Client,
        task_queue: str,
        output_bucket: str,
        assets_bucket: str | None,
        ledger: Ledger | None = None,
        channels: AccountChannels | None = None,
    ) -> None:
        self._ledger = ledger
        self._channels = channels
        self._client = client
        self._queue = task_queue
        self._bucket = output_bucket
        self._assets = assets_bucket

    async def start_publish(self, request: PublishRequest) -> StartedResponse:
        workflow_id = request.workflow_id()
        params = PublishInput(
            creative=request.creative,
            post=request.post,
            approval=request.approval,
            payload={"collection": request.collection, "id": request.doc_id},
            output_bucket=self._bucket,
            assets_bucket=self._assets,
            account=request.account,
        )
        try:
            handle = await self._client.start_workflow(
                # The memo says who started it and for whom: approvals and status reads
                # check both (a key bound to accounts sees only their publishes).
                WORKFLOW,
                params,
                id=workflow_id,
                task_queue=self._queue,
                memo={**STARTED_BY, "account": request.account},
                static_summary=f"publish {request.creative.kind} · Payload "
                f"{request.collection}/{request.doc_id}"
                + (f" · {request.account}" if request.account else ""),
                # The same document twice is the same publish: never a second run.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
            return StartedResponse(
                workflow_id=workflow_id, run_id=handle.first_execution_run_id, existing=False
            )
        except WorkflowAlreadyStartedError:
            described = await self._client.get_workflow_handle(workflow_id).describe()
            # A document id belongs to the account whose publish holds it: another account
            # naming the same collection and id must not be told "yours, already started"
            # (and then approve, read or retry a publish it does not own).
            if (await described.memo()).get("account") != request.account:
                raise DocumentTaken(workflow_id) from None
            return StartedResponse(workflow_id=workflow_id, run_id=described.run_id, existing=True)

    async def read_balance(self, account: str) -> BalanceResponse:
        if self._ledger is None:
            return BalanceResponse(account=account, balance=0, held=0, granted=0, captured=0)
        b = await asyncio.to_thread(self._ledger.balance, account)
        return BalanceResponse(
            account=account, balance=b.balance, held=b.held, granted=b.granted, captured=b.captured
        )

    async def allowed_channels(self, account: str) -> frozenset[str] | None:
        if self._channels is None:  # no ledger table: no account has channels
            return None
        return await asyncio.to_thread(self._channels.allowed, account)

    async def _ours(self, workflow_id: str, key: Key | None) -> bool:
        """Whether ``workflow_id`` is a publish this API started for an account ``key`` may
        act for (None: the review page, whose signed link names the workflow). NotFound: no;
        another account's publish answers the same, so its existence is not revealed."""
        try:
            description = await self._client.get_workflow_handle(workflow_id).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        if description.workflow_type != WORKFLOW:
            return False
        memo = await description.memo()
        if memo.get("started_by") != STARTED_BY["started_by"]:
            return False
        return key is None or key.may_act_for(memo.get("account"))

    async def send_approval(self, workflow_id: str, decision: ApprovalDecision, key: Key) -> bool:
        if not await self._ours(workflow_id, key):
            return False
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            await handle.signal(SIGNAL_NAME, decision.model_dump(mode="json"))
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    async def decide(self, workflow_id: str, decision: ApprovalDecision) -> tuple[bool, str | None]:
        """Send a decision through the `approve` Update: (accepted, why not)."""
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            await handle.execute_update(
                "approve", decision.model_dump(mode="json"), result_type=PublishStatus
            )
        except WorkflowUpdateFailedError as err:
            return False, str(err.cause or err)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False, "the creative no longer exists"
            raise
        return True, None

    async def retry_publish(self, workflow_id: str, key: Key) -> tuple[bool, str | None]:
        """Post again on the channels Postiz failed (the `retry_publish` Update): (accepted,
        why not). A publish this key may not act for answers as missing."""
        if not await self._ours(workflow_id, key):
            return False, None
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            await handle.execute_update("retry_publish", result_type=PublishStatus)
        except WorkflowUpdateFailedError as err:
            return False, str(err.cause or err)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False, None
            raise
        return True, None

    async def read_status(self, workflow_id: str, key: Key | None = None) -> StatusResponse | None:
        """A publish's status; a key bound to accounts reads only their publishes (others
        answer as missing)."""
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            description = await handle.describe()
            if description.workflow_type != WORKFLOW:
                return None
            if key is not None and key.accounts is not None:
                memo = await description.memo()
                if memo.get("started_by") != STARTED_BY["started_by"] or not key.may_act_for(
                    memo.get("account")
                ):
                    return None
            status = await handle.query("status", result_type=PublishStatus)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        if status.stage == "rendering" and status.render_workflow_id:
            progress = await self._render_progress(status.render_workflow_id)
            status = status.model_copy(update={"render_progress": progress})
        return StatusResponse(workflow_id=workflow_id, status=status)

    async def _render_progress(self, render_id: str) -> dict[str, Any] | None:
        """The running render's own progress (the child's `progress` query) with a percent:
        segments for a video, images for an image or a carousel. None when it cannot be read
        (finished between the two queries, or no worker answers): the stage still is."""
        try:
            raw = await self._client.get_workflow_handle(render_id).query(
                "progress", result_type=dict[str, Any]
            )
        except (RPCError, WorkflowQueryFailedError):
            return None
        done = raw.get("segments_done", raw.get("images_done", 0))
        total = raw.get("segments_total", raw.get("images_total", 0))
        return {**raw, "percent": round(100 * done / total) if total else 0}
