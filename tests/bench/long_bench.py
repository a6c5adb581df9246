"""`make bench-long` (not in CI): a 10-minute 1080x1920 render through the whole local path.

One RenderVideoWorkflow on the local stack — planner, fan-out into 64 segments through the
cluster-wide cap, checkpointed segment functions, the soundtrack (music and voice-over), the
join of every segment and the poster — with scenes of every kind (video clip, Ken Burns
photo, gradient, solid colour; animated texts, captions, the logo, crossfades). Reports the
wall time, CPU-seconds (the whole machine, and the part that was not the stack's own
processes: the functions and their FFmpeg), the segment count, the workflow's history
events, the worker's peak RSS and the join's share. Then a model of the same render on
Lambda at N = 16, 32 and 64 from those measured figures, beside Remotion Lambda's published
10-minute figures.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from orchestrator.render.video import RenderVideoWorkflow
from smm_local.demo_assets import upload_demo_assets
from smm_local.stack import LocalStack
from smm_runtime.contract import TASK_QUEUE
from smm_runtime.contract.soundtrack import PIECE_S
from smm_runtime.contract.workflow_io import RenderVideoInput
from smm_runtime.process_exit import run_and_exit
from smm_runtime.temporal_conn import connect
from tests.bench import soundtrack_alone
from tests.bench.join_alone import finalize_request
from tests.bench.join_alone import measure as join_alone_s
from tests.bench.results import RUNS, Figure, report
from tests.bench.soundtrack_alone import SoundtrackAlone
from tests.bench.video_bench import (
    COLD_START_S,
    LAMBDA_PRICE_GB_S,
    MB_PER_VCPU,
    S3_MB_PER_S,
    upload_clip,
)

ROOT = Path(__file__).resolve().parents[2]
MINUTES = 10
CAP = 2  # two renders at a time, one x264 thread each: this machine's two cores, no more
# Remotion Lambda's published figures for a 10-minute remote HD video (BigBuckBunny, 14,315
# frames), warm, 2048 MB, Remotion 4.0.381: remotion-dev/remotion,
# packages/docs/docs/lambda/cost-example.mdx ("Rendering a 10 minute Remote HD Video").
REMOTION_WALL_S, REMOTION_COST = 56.09, 0.103


def long_spec(uris: dict[str, str], run: int = 0) -> dict[str, Any]:
    kinds: list[dict[str, Any]] = [
        {"type": "video", "uri": uris["clip"]},
        {
            "type": "image",
            "uri": uris["photo"],
            "ken_burns": {"zoom_to": 1.3, "to_center": [0.6, 0.4]},
        },
        {"type": "gradient", "from_color": "primary", "to_color": "accent"},
        {"type": "solid", "color": "primary"},
    ]
    animations = ["slide_up", "fade", "none", "slide_up"]
    # Each crossfade overlaps two scenes by 0.5 s: 15 + 39 x 15.5 - 39 x 0.5 = 600 s.
    scenes = [
        {
            "duration_s": 15.5 if i else 15,
            "background": kinds[i % 4],
            # The run's number in the text: each run renders anew (segments are checkpointed
            # by content, so the same spec again would be read back, not rendered).
            "texts": [
                {"text": f"Part {i + 1} of 40 (run {run + 1})", "animation": animations[i % 4]}
            ],
            **({"transition_in": {"type": "crossfade", "duration_s": 0.5}} if i else {}),
        }
        for i in range(40)
    ]
    return {
        "brand_kit": uris["brand_kit"],
        "presets": ["9:16"],
        "quality": "standard",
        "max_segments": 64,
        "scenes": scenes,
        "captions": [
            {"start_s": 6 * i, "end_s": 6 * i + 4, "text": f"Caption {i + 1}"} for i in range(100)
        ],
        "music": {"uri": uris["music"]},
        # The soundtrack differs per run too (its pieces are checkpointed by content as well).
        "voiceover": {"uri": uris["voice"], "start_s": 2 + run / 10},
    }


def machine_cpu_s() -> float:
    """CPU-seconds the whole machine has spent (every core), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(v) for i, v in enumerate(fields) if i not in (3, 4))  # not idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


def own_cpu_s(pid: int) -> float:
    """A process's own CPU-seconds (not its children's)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


async def spans(handle: WorkflowHandle[Any, Any]) -> tuple[int, dict[str, list[float]]]:
    """The history's length and each activity type's scheduled-to-completed seconds."""
    count = 0
    scheduled: dict[int, tuple[str, Any]] = {}
    took: dict[str, list[float]] = {}
    async for event in handle.fetch_history_events():
        count += 1
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled[event.event_id] = (
                event.activity_task_scheduled_event_attributes.activity_type.name,
                event.event_time.ToDatetime(),
            )
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            name, at = scheduled[event.activity_task_completed_event_attributes.scheduled_event_id]
            took.setdefault(name, []).append((event.event_time.ToDatetime() - at).total_seconds())
    return count, took


SEGMENT_MB = 3008  # template.yaml RenderSegmentFunction
AUDIO_MB = 1769  # AudioMixFunction: one full vCPU (the mix and its AAC encode are one thread)
JOIN_MB = 2048  # FinalizeVideoFunction
FINALIZE_CAP = 8  # FinalizeConcurrencyCap's default: soundtrack pieces run in waves of 8


def model(
    render_cpu: float,
    segments: int,
    audio: SoundtrackAlone,
    join_s: float,
    video_bytes: int,
) -> list[Figure]:
    """The same render on Lambda at N-way fan-out, from the measured figures. Stated
    assumptions: every function starts cold (COLD_START_S), one function moves S3 data at
    S3_MB_PER_S, a function's vCPUs do what one core does here."""
    vcpus = SEGMENT_MB / MB_PER_VCPU
    mb = video_bytes / 1e6
    join_io = 2 * mb / S3_MB_PER_S  # the join reads every segment and writes the result
    waves = -(-audio.pieces // FINALIZE_CAP)
    # The pieces run beside the segments, FINALIZE_CAP at a time, each alone on its vCPU.
    soundtrack = COLD_START_S + waves * audio.longest_piece_s * MB_PER_VCPU / AUDIO_MB
    print(
        f"model on Lambda: {render_cpu:.0f} cpu-s of segment rendering (measured at N="
        f"{segments}, used for every N: fewer segments cost slightly less), {SEGMENT_MB} MB "
        f"(~{vcpus:.1f} vCPU) per segment; the soundtrack in {audio.pieces} pieces of "
        f"{PIECE_S:.0f} s beside them, {FINALIZE_CAP} at a time ({waves} waves of at most "
        f"{audio.longest_piece_s:.2f} s, mixed alone here; the whole mix alone: "
        f"{audio.whole_s:.1f} s); join {join_s:.1f} s + {join_io:.1f} s of S3 for {mb:.0f} MB; "
        f"{COLD_START_S:.1f} s cold start and {S3_MB_PER_S:.0f} MB/s per function assumed"
    )
    print(
        "      N   wall = max(render + cold + segment S3, soundtrack) + join    "
        "cost ($, x86 GB-s)   per rendered minute"
    )
    figures: list[Figure] = []
    for n in (16, 32, 64):
        render = render_cpu / n / vcpus
        put = mb / n / S3_MB_PER_S
        join = join_s + join_io
        wall = max(render + COLD_START_S + put, soundtrack) + join
        audio_s = audio.pieces_total_s * MB_PER_VCPU / AUDIO_MB  # every piece's function
        gb_s = (
            (render + put) * n * SEGMENT_MB / 1024
            + audio_s * AUDIO_MB / 1024
            + join * JOIN_MB / 1024
        )
        cost = gb_s * LAMBDA_PRICE_GB_S
        print(
            f"    {n:3d}   {wall:6.1f} s = max({render:5.1f} + {COLD_START_S:.1f} + "
            f"{put:4.2f}, {soundtrack:4.1f}) + {join:4.1f}        ${cost:.4f}"
            f"          ${cost / MINUTES:.5f}"
        )
        figures.append((f"long.model_wall_{n}", wall, "s", "lower"))
    figures.append(("long.model_cost_per_minute", cost / MINUTES, "$", "lower"))
    print(
        f"    Remotion Lambda, 10-minute remote HD video, warm: {REMOTION_WALL_S} s, "
        f"${REMOTION_COST} (2048 MB; its work: decode and re-encode 14,315 frames of "
        f"1280x720 video; ours: composite and encode {MINUTES * 60 * 30:,} frames of "
        "1080x1920)"
    )
    return figures


async def run(stack: LocalStack, work: Path) -> None:
    worker = stack.start_worker({"SMM_POOL_CAPS": f'{{"video-segments": {CAP}}}'})
    s3 = stack.s3()
    uris = upload_demo_assets(s3, stack.bucket, music_seconds=MINUTES * 60)
    uris["clip"] = upload_clip(s3, stack.bucket, "shared/bench/clip.mp4", 20, work)
    client = await connect(environ=stack.env())
    report([await one_run(stack, client, worker.pid, uris, n, work) for n in range(RUNS)])


async def one_run(
    stack: LocalStack,
    client: Client,
    worker_pid: int,
    uris: dict[str, str],
    run: int,
    work: Path,
) -> list[Figure]:
    s3 = stack.s3()
    own = {name: proc.pid for name, proc in stack.procs.items() if proc.poll() is None}
    own_before = {name: own_cpu_s(pid) for name, pid in own.items()}
    machine_before = machine_cpu_s()
    since = datetime.now(UTC) - timedelta(seconds=1)  # this run's segments only
    started = time.monotonic()
    handle = await client.start_workflow(
        RenderVideoWorkflow.run,
        RenderVideoInput(spec=long_spec(uris, run), output_bucket=stack.bucket),
        id=f"long-bench-{uuid.uuid4().hex[:8]}",
        task_queue=TASK_QUEUE,
    )
    result = await handle.result()
    wall = time.monotonic() - started
    machine = machine_cpu_s() - machine_before
    stack_cpu = sum(own_cpu_s(pid) - own_before[name] for name, pid in own.items())
    events, took = await spans(handle)
    join = max(took.get("dispatch_finalize", [0.0]))
    pieces = took.get("dispatch_audio", [0.0])
    video_bytes = sum(
        s3.head_object(Bucket=stack.bucket, Key=obj["Key"])["ContentLength"]
        for obj in s3.list_objects_v2(Bucket=stack.bucket, Prefix="").get("Contents", [])
        if "/segments/" in obj["Key"]
        and obj["Key"].endswith(".mp4")
        and obj["LastModified"] >= since
    )
    output = result.outputs[0]
    print(
        f"(long) {MINUTES}-minute 1080x1920 render, {result.total_frames} frames, "
        f"{result.segments_total} segments through a cap of {CAP} on {os.cpu_count()} cores"
    )
    print(
        f"    wall {wall:.1f} s ({wall / (MINUTES * 60):.2f} s per second of video); "
        f"machine CPU {machine:.0f} cpu-s, of which the stack's own processes (worker, "
        f"Temporal, emulator, moto, doubles) {stack_cpu:.0f} and the functions with their "
        f"FFmpeg {machine - stack_cpu:.0f}"
    )
    print(
        f"    workflow history: {events} events; worker peak RSS "
        f"{peak_rss_mb(worker_pid):.0f} MB; output {output.media.size_bytes / 1e6:.1f} MB, "
        f"{output.media.frames or 0} frames"
    )
    print(
        f"    join (stream copy + soundtrack mux + poster): {join:.1f} s = "
        f"{100 * join / wall:.2f}% of the wall time; soundtrack in {len(pieces)} pieces "
        f"beside the segments, the longest {max(pieces):.1f} s there"
    )
    render_cpu = machine - stack_cpu
    alone = soundtrack_alone.measure(s3, long_spec(uris, run), result.total_frames, work)
    join_alone = join_alone_s(s3, await finalize_request(client, handle), work)
    print(
        f"    alone on this machine: the join's own work {join_alone:.1f} s; the soundtrack "
        f"whole {alone.whole_s:.1f} s, in {alone.pieces} pieces {alone.pieces_total_s:.1f} s "
        f"together, the longest {alone.longest_piece_s:.2f} s"
    )
    figures = model(render_cpu, result.segments_total, alone, join_alone, video_bytes)
    return [
        *figures,
        ("long.soundtrack_longest_piece", alone.longest_piece_s, "s", "lower"),
        ("long.join_alone", join_alone, "s", "lower"),
        ("long.wall_seconds", wall, "s", "lower"),
        ("long.cpu_seconds_functions", render_cpu, "cpu-s", "lower"),
        ("long.history_events", float(events), "events", "lower"),
        ("long.worker_peak_rss", peak_rss_mb(worker_pid), "MB", "lower"),
        ("long.join_share", join / wall, "ratio", "lower"),
    ]


def main() -> None:
    (ROOT / ".local").mkdir(exist_ok=True)  # a fresh clone has none
    with (
        LocalStack(
            state_dir=ROOT / ".local" / "bench-long",
            log=open(ROOT / ".local" / "bench-long.log", "w"),
            function_env={"SMM_FFMPEG_THREADS": "1"},
        ) as stack,
        tempfile.TemporaryDirectory() as tmp,
    ):
        asyncio.run(run(stack, Path(tmp)))


if __name__ == "__main__":
    run_and_exit(main)  # a Temporal client can abort a finishing process (process_exit)
