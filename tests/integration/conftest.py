"""The integration stack: real Temporal dev server, moto S3, the Lambda emulator, FFmpeg."""

from __future__ import annotations

import array
import json
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowHandle

from orchestrator.config import WorkerSettings
from orchestrator.render.video import RenderVideoWorkflow
from orchestrator.worker import build_worker, lambda_client
from smm_local.demo_assets import upload_demo_assets
from smm_local.principals import WORKER, credentials
from smm_local.stack import LOCAL_CREDENTIALS, LocalStack
from smm_runtime.contract.soundtrack import PIECE_S
from smm_runtime.contract.workflow_io import DispatchPolicy, RenderVideoInput, RenderVideoOutput
from smm_runtime.media_tools import ffmpeg_binary, ffprobe_binary
from smm_runtime.temporal_conn import connect

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
QUICK_RETRY = DispatchPolicy(heartbeat_timeout_s=5, initial_interval_s=1, max_attempts=3)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    ARTIFACTS.mkdir(exist_ok=True)
    with (
        (ARTIFACTS / "integration-stack.log").open("w") as log,
        LocalStack(state_dir=tmp_path_factory.mktemp("stack"), log=log) as running,
    ):
        yield running
        # The product never made a call template.yaml does not grant (even one it survived).
        denied = [d for d in running.iam_seen()["denials"] if "iam-probe" not in d["resource"]]
    assert not denied, f"the template's IAM denied: {denied}"


@pytest.fixture(autouse=True)
def signs_as_the_worker(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """During each test, in-process workers' boto3 (the ledger's DynamoDB, the Lambda client)
    reach this stack, never AWS, signed as WorkerPolicy, whose grants the stack enforces
    (tests inspect state with stack.s3()); other test folders' mock_aws never sees them."""
    for key, value in {**LOCAL_CREDENTIALS, **credentials(WORKER)}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", stack.moto_url)


@pytest.fixture(scope="session")
def assets(stack: LocalStack) -> dict[str, str]:
    uris = upload_demo_assets(stack.s3(), stack.bucket, music_seconds=12)
    with tempfile.TemporaryDirectory() as tmp:
        # A 25 fps clip with a moving pattern: a video background at another frame rate.
        clip = Path(tmp) / "clip.mp4"
        subprocess.run(
            [
                ffmpeg_binary(),
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=1280x720:rate=25:duration=8",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                str(clip),
            ],
            check=True,
        )
        stack.s3().upload_file(str(clip), stack.bucket, "shared/test/clip.mp4")
    uris["clip"] = f"s3://{stack.bucket}/shared/test/clip.mp4"
    return uris


@pytest_asyncio.fixture(scope="session")
async def client(stack: LocalStack) -> Client:
    return await connect(environ=stack.env())


def worker_settings(stack: LocalStack, queue: str) -> WorkerSettings:
    return WorkerSettings(
        task_queue=queue,
        output_bucket=stack.bucket,
        LAMBDA_ENDPOINT_URL=stack.lambda_url,
        postiz_url=stack.postiz_url,
        postiz_api_key=stack.postiz_key,
        payload_url=stack.payload_url,
        payload_api_key=stack.payload_key,
        ledger_table=stack.ledger_table,
        review_link_secret=stack.review_secret,
        review_base_url=stack.trigger_url,
        review_inbox_template=f"{stack.inbox_url}/{{reviewer}}",
        review_webhook_url=f"{stack.inbox_url}/team-channel",
    )


@pytest_asyncio.fixture
async def task_queue(stack: LocalStack, client: Client) -> AsyncIterator[str]:
    """A worker on a fresh task queue for each test, in this process."""
    queue = f"tq-{uuid.uuid4()}"
    settings = worker_settings(stack, queue)
    async with build_worker(client, settings, lambda_client(settings), stack.s3(WORKER)):
        yield queue


def video_spec(assets: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """A short two-scene video with everything a segment draws."""
    base: dict[str, Any] = {
        "brand_kit": assets["brand_kit"],
        "presets": ["9:16"],
        "quality": "draft",
        "segment_target_s": 1.0,
        "scenes": [
            {
                "duration_s": 1.2,
                "background": {"type": "solid", "color": "primary"},
                "texts": [{"text": "Integration", "animation": "slide_up"}],
            },
            {
                "duration_s": 1.2,
                "transition_in": {"type": "crossfade", "duration_s": 0.4},
                "background": {"type": "gradient", "from_color": "primary", "to_color": "accent"},
            },
        ],
        "captions": [{"start_s": 0.2, "end_s": 1.5, "text": "real FFmpeg"}],
        "music": {"uri": assets["music"], "fade_out_s": 0.5},
    }
    return {**base, **overrides}


async def start(
    client: Client,
    stack: LocalStack,
    queue: str,
    spec: dict[str, Any],
    *,
    policy: DispatchPolicy = QUICK_RETRY,
    parallel: int = 8,
    workflow_id: str | None = None,
    audio_piece_s: float = PIECE_S,
) -> WorkflowHandle[RenderVideoWorkflow, RenderVideoOutput]:
    return await client.start_workflow(
        RenderVideoWorkflow.run,
        RenderVideoInput(
            spec=spec,
            output_bucket=stack.bucket,
            dispatch=policy,
            max_parallel_segments=parallel,
            audio_piece_s=audio_piece_s,
        ),
        id=workflow_id or f"it-{uuid.uuid4().hex[:10]}",
        task_queue=queue,
    )


def probe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            ffprobe_binary(),
            "-v",
            "error",
            "-count_packets",
            "-show_format",
            "-show_streams",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        check=True,
    ).stdout
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def segment_invocations(stack: LocalStack) -> int:
    return int(stack.lambda_stats()["RenderSegmentFunction"]["invocations"])


def left_channel(path: Path) -> array.array[int]:
    """A file's audio, decoded: the left channel's 16-bit samples."""
    raw = subprocess.run(
        [ffmpeg_binary(), "-v", "error", "-i", str(path), "-map", "0:a", "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    samples = array.array("h")
    samples.frombytes(raw)
    return samples[0::2]
