"""`make bench` (images): warm render time of a 1080x1080 card in-process (Satori + resvg,
median) as the function renders it (the fonts layer's fallback chain loaded, every prop
checked against it), the same for a card in five scripts with emoji, one 20-slide carousel
end to end, and the throughput of 100 images through the whole path on the local stack
(workflow -> dispatch -> Node function in the emulator -> S3 -> completion), starting from
cold functions each run (the emulator recycles its idle environments first, as Lambda
does), with the cold starts counted. Each figure is the median of three runs."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from orchestrator.render.image import GenerateImageWorkflow
from smm_local.demo_assets import upload_demo_assets
from smm_local.local_files import font_files
from smm_local.loopback import post_json
from smm_local.stack import LocalStack
from smm_runtime.contract import TASK_QUEUE
from smm_runtime.contract.workflow_io import GenerateImageInput
from smm_runtime.process_exit import run_and_exit
from smm_runtime.temporal_conn import connect
from tests.bench.results import RUNS, Figure, repeated, report
from tests.goldens.make_goldens import render

ROOT = Path(__file__).resolve().parents[2]


def warm_render() -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        figures = json.loads(
            render(Path(tmp), "--bench", "100", str(font_files())).strip().splitlines()[-1]
        )
        plain = json.loads(render(Path(tmp), "--bench", "100").strip().splitlines()[-1])
    multi = figures["multi_script"]
    print(
        f"(images) warm render of a 1080x1080 {figures['template']} in-process, the fallback "
        f"chain loaded: median {figures['median_ms']:.1f} ms, p90 {figures['p90_ms']:.1f} ms, "
        f"n={figures['n']} (target <= 35 ms); without the chain, in the same run: "
        f"{plain['median_ms']:.1f} ms (the chain costs "
        f"{figures['median_ms'] - plain['median_ms']:+.1f} ms)"
    )
    print(
        f"(images) the same for a {multi['template']} in Greek, Chinese, Arabic, Russian and "
        f"Hindi with emoji: median {multi['median_ms']:.1f} ms, p90 {multi['p90_ms']:.1f} ms"
    )
    return [
        ("images.warm_card_median", figures["median_ms"], "ms", "lower"),
        ("images.warm_multi_script_median", multi["median_ms"], "ms", "lower"),
    ]


async def one_run(
    client: Client, stack: LocalStack, kit: str, run: int, count: int = 100
) -> list[Figure]:
    """One carousel of 20 (warm), then ``count`` images as 5 carousels of 20 at once from
    cold functions (recycled first), cold starts counted."""
    slides = 20

    async def carousel(title: str) -> WorkflowHandle[Any, Any]:
        spec = {
            "brand_kit": kit,
            "size": "square",
            "carousel": [
                {"title": f"{title} {i}", "body": "Throughput run."} for i in range(slides)
            ],
        }
        return await client.start_workflow(
            GenerateImageWorkflow.run,
            GenerateImageInput(spec=spec, output_bucket=stack.bucket),
            id=f"bench-img-{uuid.uuid4().hex[:8]}",
            task_queue=TASK_QUEUE,
        )

    await (await carousel(f"Warm-up {run}, slide")).result()  # the carousel figure is warm
    started = time.monotonic()
    await (await carousel(f"Alone {run}, slide")).result()
    alone = time.monotonic() - started

    post_json(f"{stack.lambda_url}/_emulator/recycle", {})
    before = stack.lambda_stats()["RenderImageFunction"]
    started = time.monotonic()
    handles = [await carousel(f"Run {run} batch {b}, slide") for b in range(count // slides)]
    results = await asyncio.gather(*[h.result() for h in handles])
    elapsed = time.monotonic() - started
    done = sum(len(r.images) for r in results)
    after = stack.lambda_stats()["RenderImageFunction"]
    cold = after["cold_starts"] - before["cold_starts"]
    warm = after["warm_starts"] - before["warm_starts"]
    print(
        f"(images) run {run}: one carousel of {slides} slides end to end (warm) {alone:.2f} s; "
        f"{done} images (5 carousels x 20) from cold functions in {elapsed:.1f} s = "
        f"{done / elapsed:.1f} images/s, with {cold} cold starts and {warm} warm"
    )
    return [
        ("images.end_to_end_per_s", done / elapsed, "images/s", "higher"),
        ("images.end_to_end_cold_starts", float(cold), "starts", "lower"),
        ("images.carousel_20_seconds", alone, "s", "lower"),
    ]


async def throughput() -> None:
    with LocalStack(
        state_dir=ROOT / ".local" / "bench-images",
        log=open(ROOT / ".local" / "bench-images.log", "w"),
    ) as stack:
        stack.start_worker()
        kit = upload_demo_assets(stack.s3(), stack.bucket)["brand_kit"]
        client = await connect(environ=stack.env())
        report([await one_run(client, stack, kit, run) for run in range(RUNS)])


def main() -> None:
    repeated(warm_render)
    asyncio.run(throughput())


if __name__ == "__main__":
    run_and_exit(main)  # a Temporal client can abort a finishing process (process_exit)
