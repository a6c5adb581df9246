"""`make bench` (images): warm render time of a 1080x1080 card in-process (Satori + resvg,
median) as the function renders it (the fonts layer's fallback chain loaded, every prop
checked against it), the same for a card in five scripts with emoji, one 20-slide carousel
end to end, and the throughput of 100 images through the whole path on the local stack
(workflow -> dispatch -> Node function in the emulator -> S3 -> completion)."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path

from orchestrator.render.image import GenerateImageWorkflow
from smm_local.demo_assets import upload_demo_assets
from smm_local.local_files import font_files
from smm_local.stack import LocalStack
from smm_runtime.contract import TASK_QUEUE
from smm_runtime.contract.workflow_io import GenerateImageInput
from smm_runtime.process_exit import run_and_exit
from smm_runtime.temporal_conn import connect
from tests.bench.results import report
from tests.goldens.make_goldens import render

ROOT = Path(__file__).resolve().parents[2]


def warm_render() -> None:
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
    report(
        [
            ("images.warm_card_median", figures["median_ms"], "ms", "lower"),
            ("images.warm_multi_script_median", multi["median_ms"], "ms", "lower"),
        ]
    )


async def throughput(count: int = 100) -> None:
    with LocalStack(
        state_dir=ROOT / ".local" / "bench-images",
        log=open(ROOT / ".local" / "bench-images.log", "w"),
    ) as stack:
        stack.start_worker()
        kit = upload_demo_assets(stack.s3(), stack.bucket)["brand_kit"]
        client = await connect(environ=stack.env())
        slides = 20
        specs = [
            {
                "brand_kit": kit,
                "size": "square",
                "carousel": [
                    {"title": f"Batch {b} slide {i}", "body": "Throughput run."}
                    for i in range(slides)
                ],
            }
            for b in range(count // slides)
        ]
        # One warm-up carousel of 20 so the measurement sees warm functions, as in steady state.
        await (
            await client.start_workflow(
                GenerateImageWorkflow.run,
                GenerateImageInput(spec=specs[0], output_bucket=stack.bucket),
                id=f"warm-{uuid.uuid4().hex[:6]}",
                task_queue=TASK_QUEUE,
            )
        ).result()
        started = time.monotonic()
        single = {
            **specs[0],
            "carousel": [
                {"title": f"Alone, slide {i}", "body": "One carousel."} for i in range(slides)
            ],
        }
        await (
            await client.start_workflow(
                GenerateImageWorkflow.run,
                GenerateImageInput(spec=single, output_bucket=stack.bucket),
                id=f"carousel-{uuid.uuid4().hex[:6]}",
                task_queue=TASK_QUEUE,
            )
        ).result()
        carousel = time.monotonic() - started
        started = time.monotonic()
        handles = [
            await client.start_workflow(
                GenerateImageWorkflow.run,
                GenerateImageInput(spec=s, output_bucket=stack.bucket),
                id=f"bench-img-{uuid.uuid4().hex[:8]}",
                task_queue=TASK_QUEUE,
            )
            for s in specs
        ]
        results = await asyncio.gather(*[h.result() for h in handles])
        elapsed = time.monotonic() - started
        done = sum(len(r.images) for r in results)
        stats = stack.lambda_stats()["RenderImageFunction"]
    print(f"(images) one carousel of {slides} slides end to end (warm): {carousel:.2f} s")
    print(
        f"(images) end to end: {done} images (5 carousels x 20) in {elapsed:.1f} s = "
        f"{done / elapsed:.1f} images/s; function cold starts {stats['cold_starts']}, "
        f"warm {stats['warm_starts']}"
    )
    report(
        [
            ("images.end_to_end_per_s", done / elapsed, "images/s", "higher"),
            ("images.carousel_20_seconds", carousel, "s", "lower"),
        ]
    )


def main() -> None:
    warm_render()
    asyncio.run(throughput())


if __name__ == "__main__":
    run_and_exit(main)  # a Temporal client can abort a finishing process (process_exit)
