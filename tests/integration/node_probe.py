"""A workflow whose activity hands its task token to the test, so the test can play the
dispatcher and invoke the Node function itself (kept apart: workflow modules are sandboxed)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from smm_runtime.contract.kinds import ImageRequest, ImageResult

TOKENS: asyncio.Queue[bytes] = asyncio.Queue()


@activity.defn(name="node_probe")
async def node_probe(request: ImageRequest) -> ImageResult:
    TOKENS.put_nowait(activity.info().task_token)
    activity.raise_complete_async()


@workflow.defn
class NodeProbeWorkflow:
    @workflow.run
    async def run(self, request: ImageRequest) -> ImageResult:
        result: ImageResult = await workflow.execute_activity(
            node_probe,
            request,
            start_to_close_timeout=timedelta(seconds=60),
            heartbeat_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=1),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        return result
