"""`make bench` (video): segmented rendering against a single pass, like for like, three runs.

A 30 s 1080x1920 spec (video clip, Ken Burns photo, gradient, solid, texts, captions, logo,
music and voice-over). Every FFmpeg process is pinned to one core, which is the situation on
Lambda where each segment brings its own cores. Both arms always do the same work:
(a) scaling, video only: the whole timeline as one segment (core 0) against the same timeline
    as 2 segments in parallel (cores 0 and 1) — the same graph builder, the same frames;
    end to end, soundtrack in both: the single pass that mixes and encodes it against the 2
    segments + the soundtrack (its own function, in parallel on Lambda) + the join;
(b) the CPU cost of segmenting, measured directly: the timeline rendered as N = 1, 2, 4, 8
    and 16 segments one after another on one core (cost is CPU-seconds, so one core is
    enough), each with its own Pillow preparation;
(c) the join's share of the end-to-end parallel wall time.
Then a model of N-way fan-out on Lambda from these measured figures only (no clamped terms),
with cold starts and S3 transfers as stated assumptions.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from functions.render_video import audio_graph, finalize_graph, segment_graph, single_pass
from functions.render_video.segment_job import SegmentRenderer
from functions.render_video.storage import RenderSettings, Storage
from orchestrator.render.resolve import resolve
from orchestrator.render.segments import frame_costs, plan_segments, window
from smm_local.demo_assets import upload_demo_assets
from smm_local.local_files import font_files
from smm_local.stack import LocalStack
from smm_runtime.contract.kinds import AudioRequest, SegmentRequest
from smm_runtime.contract.video_spec import QUALITY_CRF, BrandKit, VideoSpec
from smm_runtime.media_tools import count_frames, ffmpeg_binary
from smm_runtime.process_exit import run_and_exit
from tests.bench.results import Figure, repeated

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_PRICE_GB_S = 0.0000166667  # x86, us-east-1, per GB-second
MB_PER_VCPU = 1769


@dataclass
class Run:
    wall: float
    cpu: float


def run_pinned(argv: list[str], core: int = 0) -> Run:
    """Run to the end on one core; wall time is taken when this process exits."""
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.sched_setaffinity(0, {core}),
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    if status != 0:
        assert proc.stderr is not None
        raise RuntimeError(f"FFmpeg failed: {proc.stderr.read().decode()[-800:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime)


def run_parallel(jobs: list[list[str]]) -> tuple[list[Run], float]:
    """Each job on its own core, all at once; returns each run and the wall time of all."""
    started = time.monotonic()
    with ThreadPoolExecutor(len(jobs)) as pool:
        runs = list(pool.map(run_pinned, jobs, range(len(jobs))))
    return runs, time.monotonic() - started


def upload_clip(s3: Any, bucket: str, key: str, seconds: int, work: Path) -> str:
    """A 1920x1080, 30 fps moving test pattern of ``seconds`` (a video background) at
    ``key``: its URI."""
    clip = work / "clip.mp4"
    subprocess.run(
        [
            ffmpeg_binary(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
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
    s3.upload_file(str(clip), bucket, key)
    return f"s3://{bucket}/{key}"


def bench_spec(uris: dict[str, str]) -> dict[str, Any]:
    return {
        "brand_kit": uris["brand_kit"],
        "presets": ["9:16"],
        "quality": "standard",
        "scenes": [
            {
                "duration_s": 8,
                "background": {"type": "video", "uri": uris["clip"]},
                "texts": [{"text": "Thirty seconds", "animation": "slide_up"}],
            },
            {
                "duration_s": 8,
                "transition_in": {"type": "crossfade", "duration_s": 0.5},
                "background": {
                    "type": "image",
                    "uri": uris["photo"],
                    "ken_burns": {"zoom_to": 1.3, "to_center": [0.6, 0.4]},
                },
            },
            {
                "duration_s": 7.5,
                "transition_in": {"type": "crossfade", "duration_s": 0.5},
                "background": {"type": "gradient", "from_color": "primary", "to_color": "accent"},
                "texts": [{"text": "of branded video", "position": "top"}],
            },
            {
                "duration_s": 7.5,
                "background": {"type": "solid", "color": "primary"},
                "texts": [{"text": "rendered in parallel", "style": "stroke"}],
            },
        ],
        "captions": [
            {"start_s": 3 * i, "end_s": 3 * i + 2.5, "text": f"Caption {i + 1}"} for i in range(10)
        ],
        "music": {"uri": uris["music"]},
        "voiceover": {"uri": uris["voice"], "start_s": 2},
    }


def main() -> None:
    repeated(measure)


def measure() -> list[Figure]:
    """One run: its own stack, every render from scratch; the figures it measured."""
    state = ROOT / ".local" / "bench-video"
    with (
        LocalStack(state_dir=state, log=open(ROOT / ".local" / "bench-video.log", "w")) as stack,
        tempfile.TemporaryDirectory() as tmp,
    ):
        work = Path(tmp)
        s3 = stack.s3()
        uris = upload_demo_assets(s3, stack.bucket, music_seconds=32)
        uris["clip"] = upload_clip(s3, stack.bucket, "assets/bench/clip.mp4", 10, work)
        kit = BrandKit.model_validate(
            json.loads(
                s3.get_object(Bucket=stack.bucket, Key=f"brand-kits/{uris['brand_kit']}.json")[
                    "Body"
                ].read()
            )
        )
        spec = VideoSpec.model_validate(bench_spec(uris))
        timeline = resolve(spec, kit)
        total = timeline.total_frames
        storage = Storage(
            s3=s3,
            settings=RenderSettings(
                asset_buckets=stack.bucket,
                output_bucket=stack.bucket,
                work_dir=work / "w",
                cache_dir=work / "cache",
                fonts_dir=font_files(),
            ),
        )
        renderer = SegmentRenderer(storage)

        def request(a: int, b: int) -> SegmentRequest:
            return SegmentRequest(
                preset="9:16",
                width=1080,
                height=1920,
                crf=QUALITY_CRF[spec.quality],
                start_frame=a,
                end_frame=b,
                timeline=window(timeline, a, b),
                bucket=stack.bucket,
            )

        def prepare(req: SegmentRequest, name: str) -> tuple[Any, float]:
            folder = work / name
            folder.mkdir()
            cpu = time.process_time()
            assets = renderer._prepare(req, folder)
            return assets, time.process_time() - cpu

        audio_req = AudioRequest(
            total_frames=total, music=spec.music, bucket=stack.bucket, voiceover=None
        )
        music = storage.fetch("music.uri", uris["music"])
        # Warm the asset cache so neither side pays a download inside its measurement.
        prepare(request(0, total), "warmup")

        full = request(0, total)
        full_assets, full_prep = prepare(full, "single")
        # (a) like for like, video only: one segment of everything vs two in parallel.
        one = run_pinned(
            segment_graph.command(full, full_assets, work / "one.mp4", ffmpeg_binary())
        )
        windows = plan_segments(total, math.ceil(total / 2), 2, frame_costs(timeline))
        parts, preps = [], []
        for k, (a, b) in enumerate(windows):
            assets, cpu = prepare(request(a, b), f"seg{k}")
            parts.append(
                segment_graph.command(
                    request(a, b), assets, work / f"seg_{k:04d}.mp4", ffmpeg_binary()
                )
            )
            preps.append(cpu)
        segments, seg_wall = run_parallel(parts)
        # End to end, the soundtrack in both arms.
        single = run_pinned(
            single_pass.command(
                full, full_assets, audio_req, music, None, work / "single.mp4", ffmpeg_binary()
            )
        )
        audio = run_pinned(
            audio_graph.command(audio_req, music, None, work / "a.m4a", ffmpeg_binary())
        )
        (work / "list.ffconcat").write_text(
            finalize_graph.concat_list(
                [(f"seg_{k:04d}.mp4", b - a) for k, (a, b) in enumerate(windows)], 30
            )
        )
        join = run_pinned(
            finalize_graph.join_command(
                ffmpeg_binary(),
                work / "list.ffconcat",
                work / "a.m4a",
                work / "joined.mp4",
                total / 30,
            )
        )
        assert count_frames(work / "joined.mp4") == total == count_frames(work / "single.mp4")
        segment_bytes = sum((work / f"seg_{k:04d}.mp4").stat().st_size for k in range(len(windows)))
        # (b) the CPU of N segments, one after another on one core, preparation included.
        cpu_at: dict[int, float] = {}
        for n in (1, 2, 4, 8, 16):
            spent = 0.0
            for k, (a, b) in enumerate(
                plan_segments(total, math.ceil(total / n), n, frame_costs(timeline))
            ):
                assets, cpu = prepare(request(a, b), f"n{n}-{k}")
                spent += (
                    cpu
                    + run_pinned(
                        segment_graph.command(
                            request(a, b), assets, work / f"n{n}-{k}.mp4", ffmpeg_binary()
                        )
                    ).cpu
                )
            cpu_at[n] = spent

    seconds = total / 30
    per_minute = 60 / seconds
    parallel_wall = max(seg_wall, audio.wall) + join.wall
    single_cpu = single.cpu + full_prep
    print(f"(video) 30 s 1080x1920 spec, {total} frames, every FFmpeg pinned to one core")
    print(
        f"    one segment, video   : wall {one.wall:6.2f} s   cpu {one.cpu + full_prep:6.2f} s "
        f"(incl. {full_prep:.2f} s Pillow preparation)"
    )
    for k, s in enumerate(segments):
        print(
            f"    segment {k} (core {k})   : wall {s.wall:6.2f} s   cpu {s.cpu + preps[k]:6.2f} s"
        )
    print(f"    single pass, + audio : wall {single.wall:6.2f} s   cpu {single_cpu:6.2f} s")
    print(f"    soundtrack           : wall {audio.wall:6.2f} s   cpu {audio.cpu:6.2f} s")
    print(f"    join (stream copy)   : wall {join.wall:6.2f} s   cpu {join.cpu:6.2f} s")
    video_scaling = one.wall / seg_wall
    e2e_scaling = single.wall / parallel_wall
    print(
        f"(a) scaling, video only, 2 segments in parallel vs 1 (wall, same work): "
        f"{video_scaling:.2f}x (2 cores: at most 2.0x; target >= 1.7x)"
    )
    print(
        f"    end to end, soundtrack in both: single pass {single.wall:.2f} s vs "
        f"max(segments, soundtrack) + join {parallel_wall:.2f} s = {e2e_scaling:.2f}x"
    )
    print("(b) CPU of the same timeline in N segments (one core, preparation included):")
    for n, cpu in cpu_at.items():
        extra = (
            f"   +{(cpu - cpu_at[1]) / (n - 1) * per_minute:5.2f} cpu-s per extra segment "
            "per rendered minute"
            if n > 1
            else ""
        )
        print(f"    N={n:2d}: {cpu:7.2f} cpu-s = {cpu / cpu_at[1]:.3f} of N=1{extra}")
    join_share = join.wall / parallel_wall
    print(
        f"(c) join share of the end-to-end parallel wall time: {100 * join_share:.2f}%   "
        f"(target <= 2%)"
    )
    model(cpu_at, seconds, audio.cpu, join.wall, segment_bytes)
    return [
        ("video.scaling_video_only_2x", video_scaling, "x", "higher"),
        ("video.scaling_end_to_end_2x", e2e_scaling, "x", "higher"),
        ("video.cpu_overhead_16_segments", cpu_at[16] / cpu_at[1], "ratio", "lower"),
        ("video.join_share", join_share, "ratio", "lower"),
        ("video.single_pass_cpu_per_minute", single_cpu * per_minute, "cpu-s", "lower"),
    ]


# Stated assumptions (not measured here): a cold start per segment function, and the S3
# throughput of one Lambda function. AWS does not publish a per-function S3 figure; 85 MB/s is
# a commonly reported single-stream rate for Lambda in the same region, so transfers are shown
# apart and can be recomputed with another figure. The bytes are measured (the segment files).
COLD_START_S = 1.0
S3_MB_PER_S = 85.0


def model(
    cpu_at: dict[int, float], seconds: float, audio_cpu: float, join_wall: float, video_bytes: float
) -> None:
    """Wall time and cost per rendered minute of N-way fan-out on Lambda, from the measured
    CPU of N segments (N = 1..16; 32 and 64 extend the last measured slope, and say so)."""
    memory_mb = 3008
    vcpus = memory_mb / MB_PER_VCPU
    scale = 60 / seconds
    slope = (cpu_at[16] - cpu_at[8]) / 8
    mb = video_bytes * scale / 1e6
    join_io = 2 * mb / S3_MB_PER_S  # the join reads every segment and writes the result
    print(
        f"model: a rendered minute split N ways at {memory_mb} MB (~{vcpus:.1f} vCPU each); "
        f"soundtrack {audio_cpu * scale:.1f} cpu-s in its own function (in parallel), join "
        f"{join_wall * scale:.2f} s + {join_io:.2f} s of S3; assumed {COLD_START_S:.1f} s "
        f"cold start and {S3_MB_PER_S:.0f} MB/s per function for {mb:.1f} MB of segments"
    )
    print("      N   cpu-s   wall = render + cold + segment S3 + join     cost ($, x86 GB-s)")
    for n in (1, 2, 4, 8, 16, 32, 64):
        measured = n in cpu_at
        cpu = (cpu_at[n] if measured else cpu_at[16] + (n - 16) * slope) * scale
        render = cpu / n / vcpus
        put = mb / n / S3_MB_PER_S
        join = join_wall * scale + join_io
        gb_s = (
            cpu + audio_cpu * scale + n * put * vcpus
        ) / vcpus * memory_mb / 1024 + join * 2048 / 1024
        print(
            f"    {n:3d} {cpu:7.1f}   {render + COLD_START_S + put + join:6.1f} s = "
            f"{render:5.1f} + {COLD_START_S:.1f} + {put:4.2f} + {join:4.2f}"
            f"{'' if measured else '  (extended)'}    ${gb_s * LAMBDA_PRICE_GB_S:.4f}"
        )


if __name__ == "__main__":
    run_and_exit(main)  # a Temporal client can abort a finishing process (process_exit)
