"""Lambda handlers of the video engine: segments, the soundtrack, the final join.

Each is thin: the runner parses the event, heartbeats, and completes or fails the activity;
the job objects do the work. One process serves one kind (one function per handler in
template.yaml), but they share code, layers and the warm asset cache.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer

from audio_job import AudioMixer
from finalize_job import Finalizer
from segment_job import SegmentRenderer
from smm_runtime.runner import ActivityRunner, LambdaContextLike
from storage import RenderSettings, Storage

logger = Logger(service="video-engine")
tracer = Tracer(service="video-engine")  # X-Ray; off locally (POWERTOOLS_TRACE_DISABLED)
settings = RenderSettings()  # a misconfigured function fails at cold start, not mid-render
runner = ActivityRunner(logger)


@cache
def storage() -> Storage:
    # Created on first use and kept for warm invocations; boto3 honours AWS_ENDPOINT_URL.
    return Storage(s3=boto3.client("s3"), settings=settings)


# Events carry task tokens: never log them.
@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def segment_handler(event: dict[str, Any], context: LambdaContextLike) -> dict[str, str]:
    return runner.handle(event, context, {"render_segment": SegmentRenderer(storage())})


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def audio_handler(event: dict[str, Any], context: LambdaContextLike) -> dict[str, str]:
    return runner.handle(event, context, {"render_audio": AudioMixer(storage())})


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def finalize_handler(event: dict[str, Any], context: LambdaContextLike) -> dict[str, str]:
    return runner.handle(event, context, {"finalize_video": Finalizer(storage())})
