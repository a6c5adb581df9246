"""Lambda handler: render a branded video. Parse -> render -> complete/fail, via the runner."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from render_job import RenderSettings, VideoRenderer
from smm_runtime.runner import ActivityRunner, LambdaContextLike

logger = Logger(service="render-video")
settings = RenderSettings()  # a misconfigured function fails at cold start, not mid-render
runner = ActivityRunner(logger)


@cache
def renderer() -> VideoRenderer:
    # Created on first use and kept for warm invocations; boto3 honours AWS_ENDPOINT_URL, so
    # the same code reaches AWS, moto or any S3-compatible endpoint.
    return VideoRenderer(s3=boto3.client("s3"), settings=settings)


# Events carry task tokens: never log them.
@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContextLike) -> dict[str, str]:
    return runner.handle(event, context, {"render_video": renderer()})
