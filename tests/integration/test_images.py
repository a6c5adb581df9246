"""Images through the whole path: GenerateImageWorkflow (Python) -> dispatch -> the Node.js
function in the emulator -> Satori/resvg -> completion by @temporalio/client -> decoded as the
Python result type."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from io import BytesIO
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from PIL import Image, ImageChops
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

from orchestrator.render.image import GenerateImageWorkflow
from smm_local.principals import SECRET_KEY, WORKER
from smm_local.stack import LocalStack
from smm_runtime.contract.errors import INVALID_REQUEST
from smm_runtime.contract.kinds import ImageRequest, image_fingerprint
from smm_runtime.contract.workflow_io import GenerateImageInput, GenerateImageOutput
from tests.goldens.make_goldens import HERE as GOLDEN
from tests.goldens.make_goldens import cases
from tests.integration.node_probe import TOKENS, NodeProbeWorkflow, node_probe

pytestmark = pytest.mark.integration


async def generate(
    client: Client, stack: LocalStack, queue: str, spec: dict[str, Any]
) -> GenerateImageOutput:
    handle = await client.start_workflow(
        GenerateImageWorkflow.run,
        GenerateImageInput(spec=spec, output_bucket=stack.bucket),
        id=f"img-{uuid.uuid4().hex[:10]}",
        task_queue=queue,
    )
    return await asyncio.wait_for(handle.result(), 120)


def png(stack: LocalStack, key: str) -> Image.Image:
    body = stack.s3().get_object(Bucket=stack.bucket, Key=key)["Body"].read()
    return Image.open(BytesIO(body)).convert("RGB")


def difference(a: Image.Image, b: Image.Image) -> tuple[float, float]:
    """(mean absolute difference per channel, share of pixels off by more than 24)."""
    diff = ImageChops.difference(a, b)
    hist = diff.histogram()
    total = a.width * a.height * 3
    mean = (
        sum(
            v * n
            for channel in range(3)
            for v, n in enumerate(hist[channel * 256 : (channel + 1) * 256])
        )
        / total
    )
    off = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 24 else 0)
    return mean, off.histogram()[255] / (a.width * a.height)


async def test_every_template_renders_at_its_size_and_matches_its_golden(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    specs = [
        {
            "brand_kit": assets["brand_kit"],
            "size": c["size"],
            "template": c["template"],
            "props": c["props"],
        }
        for c in cases()
    ]
    results = await asyncio.gather(*[generate(client, stack, task_queue, s) for s in specs])
    for case, result in zip(cases(), results, strict=True):
        (image,) = result.images
        rendered = png(stack, image.output.key)
        golden = Image.open(GOLDEN / f"{case['name']}.png").convert("RGB")
        assert rendered.size == golden.size == (image.width, image.height)
        mean, off = difference(rendered, golden)
        assert mean < 0.5 and off < 0.002, (case["name"], mean, off)


async def test_a_carousel_renders_slides_in_parallel_and_returns_them_in_order(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    slides = [{"title": f"Step {n}", "body": "Consistency beats intensity."} for n in (1, 2, 3)]
    result = await generate(
        client,
        stack,
        task_queue,
        {"brand_kit": assets["brand_kit"], "size": "portrait", "carousel": slides},
    )
    assert [i.index for i in result.images] == [1, 2, 3]
    assert [Path(i.output.key).name for i in result.images] == [
        "image-01.png",
        "image-02.png",
        "image-03.png",
    ]
    images = [png(stack, i.output.key) for i in result.images]
    assert all(im.size == (1080, 1350) for im in images)
    assert images[0].tobytes() != images[1].tobytes()  # each slide shows its own index


async def test_bad_props_fail_at_once_naming_the_prop(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    with pytest.raises(WorkflowFailureError) as err:
        await generate(
            client,
            stack,
            task_queue,
            {
                "brand_kit": assets["brand_kit"],
                "template": "promo_card",
                "props": {"headline": "Sale", "price": "cheap", "cta": "Buy"},
            },
        )
    assert isinstance(err.value.cause, ActivityError)
    inner = err.value.cause.cause
    assert isinstance(inner, ApplicationError)
    assert (inner.type, inner.non_retryable) == (INVALID_REQUEST, True)
    assert inner.message == "props.price: must be number"


async def test_an_image_spec_error_names_the_field(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    with pytest.raises(WorkflowFailureError) as err:
        await generate(
            client,
            stack,
            task_queue,
            {
                "brand_kit": assets["brand_kit"],
                "template": "link_preview",
                "size": "square",
                "props": {"title": "t", "site": "s"},
            },
        )
    assert isinstance(err.value.cause, ApplicationError)
    assert "size: link_preview is 1200x630" in err.value.cause.message


# --- Cancellation and stale attempts, seen from the Node runner -----------------------------


def invoke_image_function(stack: LocalStack, token: bytes, request: ImageRequest) -> str:
    event = {
        "contract_version": 1,
        "kind": "render_image",
        "task_token": base64.b64encode(token).decode(),
        "workflow_id": "probe",
        "activity_id": "1",
        "attempt": 1,
        "request": request.model_dump(mode="json"),
    }
    # Invoked as the worker invokes it: signed as WorkerPolicy (the emulator enforces IAM).
    answer = boto3.client(
        "lambda",
        endpoint_url=stack.lambda_url,
        region_name="us-east-1",
        aws_access_key_id=WORKER,
        aws_secret_access_key=SECRET_KEY,
        config=Config(read_timeout=60, retries={"max_attempts": 1}),
    ).invoke(FunctionName="RenderImageFunction", Payload=json.dumps(event).encode())
    outcome: str = json.loads(answer["Payload"].read())["outcome"]
    return outcome


def probe_request(stack: LocalStack, assets: dict[str, str], key: str) -> ImageRequest:
    kit = json.loads(
        stack.s3()
        .get_object(Bucket=stack.bucket, Key=f"brand-kits/{assets['brand_kit']}.json")["Body"]
        .read()
    )
    body = {
        "template": "quote_card",
        "width": 1080,
        "height": 1080,
        "props": {"quote": "Never rendered", "author": "Probe"},
        "brand": kit,
        "output": {"bucket": stack.bucket, "key": key},
    }
    return ImageRequest.model_validate({**body, "fingerprint": image_fingerprint(body)})


async def test_a_cancelled_workflow_stops_the_node_function_before_it_renders(
    client: Client, stack: LocalStack, assets: dict[str, str]
) -> None:
    queue = f"tq-{uuid.uuid4()}"
    key = f"renders/probe-{uuid.uuid4().hex[:8]}.png"
    request = probe_request(stack, assets, key)
    async with Worker(
        client, task_queue=queue, workflows=[NodeProbeWorkflow], activities=[node_probe]
    ):
        handle = await client.start_workflow(
            NodeProbeWorkflow.run, request, id=f"probe-{uuid.uuid4()}", task_queue=queue
        )
        token = await asyncio.wait_for(TOKENS.get(), 10)
        await handle.cancel()
        await asyncio.sleep(0.5)
        outcome = await asyncio.to_thread(invoke_image_function, stack, token, request)
        assert outcome == "cancelled"
        with pytest.raises(WorkflowFailureError):
            await asyncio.wait_for(handle.result(), 20)
        # A late duplicate of the same event finds the attempt gone and stops quietly.
        assert await asyncio.to_thread(invoke_image_function, stack, token, request) == "stale"
    listed = stack.s3().list_objects_v2(Bucket=stack.bucket, Prefix=key)
    assert listed.get("KeyCount", 0) == 0  # nothing was rendered or written
