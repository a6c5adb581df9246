"""The integration stack: real Temporal dev server, moto S3, the Lambda emulator, FFmpeg."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import Client

from orchestrator.config import WorkerSettings
from orchestrator.worker import build_worker, lambda_client
from smm_local.demo_assets import upload_demo_assets
from smm_local.stack import LOCAL_CREDENTIALS, LocalStack
from smm_runtime.temporal_conn import connect

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    ARTIFACTS.mkdir(exist_ok=True)
    # The in-process worker's boto3 signs requests to the emulator with these.
    for key, value in LOCAL_CREDENTIALS.items():
        os.environ.setdefault(key, value)
    with (ARTIFACTS / "integration-stack.log").open("w") as log, \
            LocalStack(state_dir=tmp_path_factory.mktemp("stack"), log=log) as running:
        yield running


@pytest.fixture(scope="session")
def assets(stack: LocalStack) -> dict[str, str]:
    return upload_demo_assets(stack.s3(), stack.bucket, music_seconds=4)


@pytest_asyncio.fixture(scope="session")
async def client(stack: LocalStack) -> Client:
    return await connect(environ=stack.env())


@pytest_asyncio.fixture
async def task_queue(stack: LocalStack, client: Client) -> AsyncIterator[str]:
    """A worker on a fresh task queue for each test, in this process."""
    queue = f"tq-{uuid.uuid4()}"
    settings = WorkerSettings(task_queue=queue, output_bucket=stack.bucket,
                              LAMBDA_ENDPOINT_URL=stack.lambda_url)
    worker = build_worker(client, settings, lambda_client(settings))
    async with worker:
        yield queue


def spec_with(assets: dict[str, str], **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"duration_s": 3.0, "background": {"color": "#0F766E"},
                            "title": "Integration", "subtitle": "real FFmpeg",
                            "font": assets["font"], "logo": assets["logo"],
                            "music": assets["music"], "fade_out_s": 1.0}
    return {**base, **overrides}
