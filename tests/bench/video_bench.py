"""`make bench` (video): segmented rendering against a single pass, measured in one run.

A 30 s 1080x1920 spec (video clip, Ken Burns photo, gradient, solid, texts, captions, logo,
music and voice-over). Every FFmpeg process is pinned to one core, which is the situation on
Lambda where each segment brings its own cores:
(a) scaling: 2 segments rendered in parallel (cores 0 and 1) against the single pass (core 0);
(b) segmenting overhead: CPU-seconds of both segments + soundtrack + join (and the Pillow
    preparation each does) against the single pass's;
(c) the join's share of the parallel render's wall time.
Then a model of N-way fan-out on Lambda built from these figures.
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
from orchestrator.planning.resolve import resolve
from orchestrator.planning.segments import frame_costs, plan_segments, window
from smm_local.demo_assets import upload_demo_assets
from smm_local.stack import LocalStack
from smm_runtime.contract.kinds import AudioRequest, SegmentRequest
from smm_runtime.contract.video_spec import QUALITY_CRF, BrandKit, VideoSpec
from smm_runtime.media_tools import count_frames, ffmpeg_binary

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
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=lambda: os.sched_setaffinity(0, {core}))
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


def bench_spec(uris: dict[str, str]) -> dict[str, Any]:
    return {
        "brand_kit": uris["brand_kit"], "presets": ["9:16"], "quality": "standard",
        "scenes": [
            {"duration_s": 8, "background": {"type": "video", "uri": uris["clip"]},
             "texts": [{"text": "Thirty seconds", "animation": "slide_up"}]},
            {"duration_s": 8, "transition_in": {"type": "crossfade", "duration_s": 0.5},
             "background": {"type": "image", "uri": uris["photo"],
                            "ken_burns": {"zoom_to": 1.3, "to_center": [0.6, 0.4]}}},
            {"duration_s": 7.5, "transition_in": {"type": "crossfade", "duration_s": 0.5},
             "background": {"type": "gradient", "from_color": "primary", "to_color": "accent"},
             "texts": [{"text": "of branded video", "position": "top"}]},
            {"duration_s": 7.5, "background": {"type": "solid", "color": "primary"},
             "texts": [{"text": "rendered in parallel", "style": "stroke"}]},
        ],
        "captions": [{"start_s": 3 * i, "end_s": 3 * i + 2.5, "text": f"Caption {i + 1}"}
                     for i in range(10)],
        "music": {"uri": uris["music"]},
        "voiceover": {"uri": uris["voice"], "start_s": 2},
    }


def main() -> None:
    state = ROOT / ".local" / "bench-video"
    with LocalStack(state_dir=state, log=open(ROOT / ".local" / "bench-video.log", "w")) as stack, \
            tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        s3 = stack.s3()
        uris = upload_demo_assets(s3, stack.bucket, music_seconds=32)
        clip = work / "clip.mp4"
        subprocess.run([ffmpeg_binary(), "-v", "error", "-y", "-f", "lavfi", "-i",
                        "testsrc2=size=1920x1080:rate=30:duration=10", "-c:v", "libx264",
                        "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip)], check=True)
        s3.upload_file(str(clip), stack.bucket, "assets/bench/clip.mp4")
        uris["clip"] = f"s3://{stack.bucket}/assets/bench/clip.mp4"
        kit = BrandKit.model_validate(json.loads(s3.get_object(
            Bucket=stack.bucket, Key=f"brand-kits/{uris['brand_kit']}.json")["Body"].read()))
        spec = VideoSpec.model_validate(bench_spec(uris))
        timeline = resolve(spec, kit)
        total = timeline.total_frames
        storage = Storage(s3=s3, settings=RenderSettings(
            asset_buckets=stack.bucket, output_bucket=stack.bucket, work_dir=work / "w",
            cache_dir=work / "cache"))
        renderer = SegmentRenderer(storage)

        def request(a: int, b: int) -> SegmentRequest:
            return SegmentRequest(preset="9:16", width=1080, height=1920,
                                  crf=QUALITY_CRF[spec.quality], start_frame=a, end_frame=b,
                                  timeline=window(timeline, a, b), bucket=stack.bucket)

        def prepare(req: SegmentRequest, name: str) -> tuple[Any, float]:
            folder = work / name
            folder.mkdir()
            cpu = time.process_time()
            assets = renderer._prepare(req, folder)
            return assets, time.process_time() - cpu

        audio_req = AudioRequest(total_frames=total, music=spec.music, bucket=stack.bucket,
                                 voiceover=None)
        music = storage.fetch("music.uri", uris["music"])
        # Warm the asset cache so neither side pays a download inside its measurement.
        prepare(request(0, total), "warmup")

        full = request(0, total)
        full_assets, full_prep = prepare(full, "single")
        single = run_pinned(single_pass.command(full, full_assets, audio_req, music, None,
                                                work / "single.mp4", ffmpeg_binary()))
        windows = plan_segments(total, math.ceil(total / 2), 2, frame_costs(timeline))
        parts, preps = [], []
        for k, (a, b) in enumerate(windows):
            assets, cpu = prepare(request(a, b), f"seg{k}")
            parts.append(segment_graph.command(request(a, b), assets, work / f"seg_{k:04d}.mp4",
                                               ffmpeg_binary()))
            preps.append(cpu)
        segments, seg_wall = run_parallel(parts)
        audio = run_pinned(audio_graph.command(audio_req, music, None, work / "a.m4a",
                                               ffmpeg_binary()))
        (work / "list.ffconcat").write_text(finalize_graph.concat_list(
            [(f"seg_{k:04d}.mp4", b - a) for k, (a, b) in enumerate(windows)], 30))
        join = run_pinned(finalize_graph.join_command(ffmpeg_binary(), work / "list.ffconcat",
                                                      work / "a.m4a", work / "joined.mp4",
                                                      total / 30))
        assert count_frames(work / "joined.mp4") == total == count_frames(work / "single.mp4")

    parallel_wall = max(seg_wall, audio.wall) + join.wall
    parallel_cpu = sum(s.cpu for s in segments) + sum(preps) + audio.cpu + join.cpu
    single_cpu = single.cpu + full_prep
    print(f"(video) 30 s 1080x1920 spec, {total} frames, every FFmpeg pinned to one core")
    print(f"    single pass          : wall {single.wall:6.2f} s   cpu {single_cpu:6.2f} s "
          f"(incl. {full_prep:.2f} s Pillow preparation)")
    for k, s in enumerate(segments):
        print(f"    segment {k} (core {k})   : wall {s.wall:6.2f} s   "
              f"cpu {s.cpu + preps[k]:6.2f} s")
    print(f"    soundtrack           : wall {audio.wall:6.2f} s   cpu {audio.cpu:6.2f} s")
    print(f"    join (stream copy)   : wall {join.wall:6.2f} s   cpu {join.cpu:6.2f} s")
    print(f"(a) scaling, 2 segments in parallel vs single pass (wall): "
          f"{single.wall / seg_wall:.2f}x   end to end incl. soundtrack + join: "
          f"{single.wall / parallel_wall:.2f}x   (target >= 1.7x)")
    print(f"(b) segmenting overhead (cpu, segments + soundtrack + join + preparation / single "
          f"pass): {parallel_cpu / single_cpu:.3f}   (target <= 1.05)")
    print(f"(c) join share of the parallel wall time: {100 * join.wall / parallel_wall:.2f}%   "
          f"(target <= 2%)")
    seconds = total / 30
    model(single_cpu / seconds, max(0.0, parallel_cpu - single_cpu - audio.cpu - join.cpu),
          audio.cpu / seconds, join.wall / seconds)


def model(cpu_per_second: float, per_extra_segment: float, audio_per_second: float,
          join_per_second: float) -> None:
    """Wall time and cost per rendered minute of N-way fan-out on Lambda, from the measured
    single-pass cost, the fixed cost each extra segment adds, and the soundtrack and join."""
    memory_mb = 3008
    vcpus = memory_mb / MB_PER_VCPU
    print(f"model: a rendered minute split N ways on Lambda at {memory_mb} MB (~{vcpus:.1f} "
          f"vCPU each): {60 * cpu_per_second:.1f} cpu-s in one pass, +{per_extra_segment:.2f} "
          f"cpu-s per extra segment, soundtrack {60 * audio_per_second:.1f} cpu-s (in "
          f"parallel), join {60 * join_per_second:.2f} s; cold starts and S3 transfers excluded")
    print("      N   wall per rendered minute   cost per rendered minute (x86 $/GB-s)")
    for n in (1, 2, 4, 8, 16, 32):
        cpu = 60 * cpu_per_second + (n - 1) * per_extra_segment
        wall = cpu / n / vcpus + 60 * join_per_second
        gb_s = (cpu + 60 * audio_per_second) / vcpus * memory_mb / 1024 \
            + 60 * join_per_second * 2048 / 1024
        print(f"    {n:3d}   {wall:8.1f} s                 ${gb_s * LAMBDA_PRICE_GB_S:.4f}")


if __name__ == "__main__":
    main()
