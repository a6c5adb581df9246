"""The trigger's Temporal side: start (idempotently), signal, query."""

from __future__ import annotations

import asyncio

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

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


class TemporalService:
    def __init__(self, client: Client, task_queue: str, output_bucket: str,
                 assets_bucket: str | None, ledger: Ledger | None = None) -> None:
        self._ledger = ledger
        self._client = client
        self._queue = task_queue
        self._bucket = output_bucket
        self._assets = assets_bucket

    async def start_publish(self, request: PublishRequest) -> StartedResponse:
        workflow_id = request.workflow_id()
        params = PublishInput(creative=request.creative, post=request.post,
                              approval=request.approval,
                              payload={"collection": request.collection, "id": request.doc_id},
                              output_bucket=self._bucket, assets_bucket=self._assets,
                              account=request.account)
        try:
            handle = await self._client.start_workflow(
                WORKFLOW, params, id=workflow_id, task_queue=self._queue, memo=STARTED_BY,
                # The same document twice is the same publish: never a second run.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
            return StartedResponse(workflow_id=workflow_id, run_id=handle.first_execution_run_id,
                                   existing=False)
        except WorkflowAlreadyStartedError:
            described = await self._client.get_workflow_handle(workflow_id).describe()
            return StartedResponse(workflow_id=workflow_id, run_id=described.run_id,
                                   existing=True)

    async def read_balance(self, account: str) -> BalanceResponse:
        if self._ledger is None:
            return BalanceResponse(account=account, balance=0, held=0, granted=0, captured=0)
        b = await asyncio.to_thread(self._ledger.balance, account)
        return BalanceResponse(account=account, balance=b.balance, held=b.held,
                               granted=b.granted, captured=b.captured)

    async def _ours(self, workflow_id: str) -> bool:
        """Whether ``workflow_id`` is a publish this API started (NotFound: no)."""
        try:
            description = await self._client.get_workflow_handle(workflow_id).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        if description.workflow_type != WORKFLOW:
            return False
        memo = await description.memo()
        return memo.get("started_by") == STARTED_BY["started_by"]

    async def send_approval(self, workflow_id: str, decision: ApprovalDecision) -> bool:
        if not await self._ours(workflow_id):
            return False
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            await handle.signal(SIGNAL_NAME, decision.model_dump(mode="json"))
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    async def decide(self, workflow_id: str, decision: ApprovalDecision
                     ) -> tuple[bool, str | None]:
        """Send a decision through the `approve` Update: (accepted, why not)."""
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            await handle.execute_update("approve", decision.model_dump(mode="json"),
                                        result_type=PublishStatus)
        except WorkflowUpdateFailedError as err:
            return False, str(err.cause or err)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False, "the creative no longer exists"
            raise
        return True, None

    async def read_status(self, workflow_id: str) -> StatusResponse | None:
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            description = await handle.describe()
            if description.workflow_type != WORKFLOW:
                return None
            status = await handle.query("status", result_type=PublishStatus)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        return StatusResponse(workflow_id=workflow_id, status=status)
