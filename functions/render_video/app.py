"""Lambda handlers of the video engine: segments, the soundtrack, the final join.

Each is thin: the runner parses the event, heartbeats, and completes or fails the activity;
the job objects do the work. One process serves one kind (one function per handler in
template.yaml), but they share code, layers and the warm asset cache.
"""

from __future__ import annotations

from functools import cache

import boto3
from aws_lambda_powertools import Logger, Tracer

from functions.render_video.audio_job import AudioMixer
from functions.render_video.finalize_job import Finalizer
from functions.render_video.segment_job import SegmentRenderer
from functions.render_video.storage import RenderSettings, Storage
from smm_runtime.contract.kinds import FINALIZE_VIDEO, RENDER_AUDIO, RENDER_SEGMENT
from smm_runtime.lambda_entry import lambda_entry
from smm_runtime.runner import ActivityRunner

logger = Logger(service="video-engine")
tracer = Tracer(service="video-engine")  # X-Ray; off locally (POWERTOOLS_TRACE_DISABLED)
settings = RenderSettings()  # a misconfigured function fails at cold start, not mid-render
runner = ActivityRunner(logger)


@cache
def storage() -> Storage:
    # Created on first use and kept for warm invocations; boto3 honours AWS_ENDPOINT_URL.
    return Storage(s3=boto3.client("s3"), settings=settings)


segment_handler = lambda_entry(
    logger, tracer, runner.handler({RENDER_SEGMENT: lambda: SegmentRenderer(storage())})
)
audio_handler = lambda_entry(
    logger, tracer, runner.handler({RENDER_AUDIO: lambda: AudioMixer(storage())})
)
finalize_handler = lambda_entry(
    logger, tracer, runner.handler({FINALIZE_VIDEO: lambda: Finalizer(storage())})
)
