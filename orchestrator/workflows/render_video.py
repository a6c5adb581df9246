"""RenderVideoWorkflow: validate the spec, dispatch one render to Lambda, return the output."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    from smm_runtime.contracts import (
        ContractError,
        RenderVideoRequest,
        RenderVideoResult,
        S3Object,
        parse_spec,
    )
    from smm_runtime.errors import INVALID_REQUEST, UNSAFE_MEDIA, UNSUPPORTED_CONTRACT
    from smm_runtime.s3keys import render_output_key
    from smm_runtime.workflow_io import (
        DispatchPolicy,
        RenderProgress,
        RenderVideoInput,
        RenderVideoOutput,
    )

NON_RETRYABLE_TYPES = [INVALID_REQUEST, UNSAFE_MEDIA, UNSUPPORTED_CONTRACT]


def retry_policy(policy: DispatchPolicy) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(seconds=policy.initial_interval_s),
        backoff_coefficient=policy.backoff,
        maximum_interval=timedelta(seconds=policy.max_interval_s),
        maximum_attempts=policy.max_attempts,
        non_retryable_error_types=NON_RETRYABLE_TYPES,
    )


@workflow.defn
class RenderVideoWorkflow:
    def __init__(self) -> None:
        self._progress = RenderProgress(stage="validating")

    @workflow.query
    def progress(self) -> RenderProgress:
        return self._progress

    @workflow.run
    async def run(self, params: RenderVideoInput) -> RenderVideoOutput:
        try:
            spec = parse_spec(params.spec)
        except ContractError as err:
            self._progress = RenderProgress(stage="invalid", error=str(err))
            raise ApplicationError(str(err), type=err.error_type, non_retryable=True) from None
        output = S3Object(
            bucket=params.output_bucket,
            key=render_output_key(workflow.info().workflow_id, params.output_name, "mp4"),
        )
        self._progress = RenderProgress(stage="rendering", output_uri=output.uri)
        try:
            result = await workflow.execute_activity(
                "dispatch_render_video",
                RenderVideoRequest(spec=spec, output=output),
                result_type=RenderVideoResult,
                start_to_close_timeout=params.dispatch.start_to_close,
                heartbeat_timeout=params.dispatch.heartbeat_timeout,
                retry_policy=retry_policy(params.dispatch),
                # Wait until the function confirms it stopped FFmpeg before we finish.
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
        except ActivityError as err:
            cancelled = isinstance(err.cause, CancelledError)
            self._progress = RenderProgress(stage="cancelled" if cancelled else "failed",
                                            output_uri=output.uri,
                                            error=None if cancelled else str(err.cause or err))
            raise
        except asyncio.CancelledError:
            self._progress = RenderProgress(stage="cancelled", output_uri=output.uri)
            raise
        self._progress = RenderProgress(stage="done", output_uri=output.uri)
        return RenderVideoOutput(uri=output.uri, output=result.output, media=result.media,
                                 usage=result.usage, reused_existing=result.reused_existing)

