"""Dispatch activities: build the event, invoke the function asynchronously, complete async.

Nothing else happens here. The function reports back by task token; the worker holds no
thread or memory for the render while it runs, so one small worker can keep thousands of
renders in flight.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from smm_runtime import CONTRACT_VERSION
from smm_runtime.contracts import (
    AudioRequest,
    AudioResult,
    FinalizeRequest,
    FinalizeResult,
    ImageRequest,
    ImageResult,
    ImportAssetRequest,
    ImportAssetResult,
    NoopRequest,
    NoopResult,
    PostizUploadRequest,
    PostizUploadResult,
    SegmentRequest,
    SegmentResult,
    encode_task_token,
)
from smm_runtime.errors import DISPATCH_ERROR

ASYNC_PAYLOAD_LIMIT = 1024 * 1024  # Lambda's limit for Event invocations
# A deployment problem, not a transient one: retrying cannot make the function appear.
NON_RETRYABLE_INVOKE_ERRORS = frozenset({
    "ResourceNotFoundException", "RequestEntityTooLargeException",
    "InvalidRequestContentException", "AccessDeniedException",
})


class LambdaDispatcher:
    """Activities bound to one boto3 Lambda client and a kind -> function-name map."""

    def __init__(self, lambda_client: Any, functions: Mapping[str, str],
                 counters: Any | None = None) -> None:
        self._lambda = lambda_client
        self._functions = dict(functions)
        self._counters = counters  # orchestrator.health.DispatchCounters, when exposed

    # Each returns the type its function completes with; _dispatch never returns normally
    # (it raises CompleteAsyncError), so the bodies end in an assertion.
    @activity.defn(name="dispatch_segment")
    async def dispatch_segment(self, request: SegmentRequest) -> SegmentResult:
        await self._dispatch("render_segment", request)
        raise AssertionError("unreachable")

    @activity.defn(name="dispatch_audio")
    async def dispatch_audio(self, request: AudioRequest) -> AudioResult:
        await self._dispatch("render_audio", request)
        raise AssertionError("unreachable")

    @activity.defn(name="dispatch_finalize")
    async def dispatch_finalize(self, request: FinalizeRequest) -> FinalizeResult:
        await self._dispatch("finalize_video", request)
        raise AssertionError("unreachable")

    @activity.defn(name="dispatch_image")
    async def dispatch_image(self, request: ImageRequest) -> ImageResult:
        await self._dispatch("render_image", request)
        raise AssertionError("unreachable")

    @activity.defn(name="dispatch_postiz_upload")
    async def dispatch_postiz_upload(self, request: PostizUploadRequest) -> PostizUploadResult:
        await self._dispatch("postiz_upload", request)
        raise AssertionError("unreachable")

    @activity.defn(name="dispatch_import_asset")
    async def dispatch_import_asset(self, request: ImportAssetRequest) -> ImportAssetResult:
        await self._dispatch("import_asset", request)
        raise AssertionError("unreachable")

    @activity.defn(name="dispatch_noop")
    async def dispatch_noop(self, request: NoopRequest) -> NoopResult:
        await self._dispatch("noop", request)
        raise AssertionError("unreachable")

    async def _dispatch(self, kind: str, request: BaseModel) -> None:
        info = activity.info()
        checkpoint = info.heartbeat_details[0] if info.heartbeat_details else None
        event = {
            "contract_version": CONTRACT_VERSION,
            "kind": kind,
            "task_token": encode_task_token(info.task_token),
            "workflow_id": info.workflow_id,
            "run_id": info.workflow_run_id,
            "activity_id": info.activity_id,
            "attempt": info.attempt,
            "request": request.model_dump(mode="json"),
            "heartbeat_details": checkpoint if isinstance(checkpoint, dict) else None,
        }
        payload = json.dumps(event, separators=(",", ":")).encode()
        if len(payload) > ASYNC_PAYLOAD_LIMIT:
            raise ApplicationError(
                f"request: the {kind} event is {len(payload)} bytes, over Lambda's "
                f"{ASYNC_PAYLOAD_LIMIT}-byte async limit; pass S3 keys, not media bytes",
                type=DISPATCH_ERROR, non_retryable=True)
        function = self._functions[kind]
        try:
            await self._invoke(kind, function, payload)
        except ApplicationError:
            if self._counters is not None:
                self._counters.add(kind, "error")
            raise
        if self._counters is not None:
            self._counters.add(kind, "dispatched")
        activity.logger.info("dispatched %s to %s", kind, function)
        activity.raise_complete_async()

    async def _invoke(self, kind: str, function: str, payload: bytes) -> None:
        try:
            response = await asyncio.to_thread(
                self._lambda.invoke, FunctionName=function, InvocationType="Event",
                Payload=payload)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "Unknown")
            raise ApplicationError(
                f"invoking {function} failed: {code}", type=DISPATCH_ERROR,
                non_retryable=code in NON_RETRYABLE_INVOKE_ERRORS) from None
        except BotoCoreError as err:
            raise ApplicationError(f"invoking {function} failed: {type(err).__name__}",
                                   type=DISPATCH_ERROR) from None
        if response.get("StatusCode") != 202:
            raise ApplicationError(
                f"invoking {function} returned status {response.get('StatusCode')}, not 202",
                type=DISPATCH_ERROR)
