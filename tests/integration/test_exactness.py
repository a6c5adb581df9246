"""Segments join without a seam: every frame present once, in order; audio and video the
same length; a clean decode; and the parallel render matches a single pass."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from functions.render_video.segment_graph import QA_BITS
from smm_local.stack import LocalStack
from smm_runtime.contract.soundtrack import piece_bounds, total_samples
from smm_runtime.media_tools import ffmpeg_binary, ffprobe_binary
from tests.integration.conftest import left_channel, probe, start

pytestmark = pytest.mark.integration


def frame_codes(path: Path) -> list[int]:
    """Read back the QA code burned into each frame (bit k: a square at x = 12 + 34k)."""
    width = QA_BITS * 34
    raw = subprocess.run(
        [
            ffmpeg_binary(),
            "-v",
            "error",
            "-i",
            str(path),
            "-vf",
            f"crop={width}:28:12:12,scale={width}:1,format=gray",
            "-f",
            "rawvideo",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    codes = []
    for offset in range(0, len(raw), width):
        row = raw[offset : offset + width]
        codes.append(sum(1 << bit for bit in range(QA_BITS) if row[bit * 34 + 14] > 128))
    return codes


def spec_for(assets: dict[str, str], segment_target_s: float, fps: int = 30) -> dict[str, Any]:
    return {
        # 30 fps at the tallest preset as always; the other rates at 1:1 (the frame grid and
        # the joins are what is tested, not the size), to keep `make test` short.
        "brand_kit": assets["brand_kit"],
        "presets": ["9:16" if fps == 30 else "1:1"],
        "quality": "standard",
        "fps": fps,
        "qa_frame_code": True,
        "segment_target_s": segment_target_s,
        "scenes": [
            {
                "duration_s": 1.5,
                "background": {"type": "video", "uri": assets["clip"], "trim_start_s": 0.3},
                "texts": [{"text": "Frame exact", "animation": "slide_up"}],
            },
            {
                "duration_s": 1.5,
                "transition_in": {"type": "crossfade", "duration_s": 0.5},
                "background": {
                    "type": "image",
                    "uri": assets["photo"],
                    "ken_burns": {"zoom_to": 1.3, "to_center": [0.7, 0.4]},
                },
            },
            {
                "duration_s": 1.2,
                "transition_in": {"type": "crossfade", "duration_s": 0.3},
                "background": {"type": "gradient", "from_color": "primary", "to_color": "accent"},
                "texts": [{"text": "No seams", "position": "bottom"}],
            },
        ],
        "captions": [{"start_s": 0.5, "end_s": 2.9, "text": "A caption across joins"}],
        "music": {"uri": assets["music"], "fade_in_s": 0.3, "fade_out_s": 1.0},
        "voiceover": {"uri": assets["voice"], "start_s": 0.4},
    }


@pytest.mark.parametrize("fps", [24, 25, 30, 50, 60])
async def test_parallel_segments_join_frame_exact_and_match_a_single_pass(
    client: Client,
    stack: LocalStack,
    task_queue: str,
    assets: dict[str, str],
    tmp_path: Path,
    fps: int,
) -> None:
    # The parallel render mixes its soundtrack in pieces of about a second, the single pass
    # whole.
    parallel = await start(client, stack, task_queue, spec_for(assets, 0.5, fps), audio_piece_s=1)
    single = await start(client, stack, task_queue, spec_for(assets, 60, fps))
    results = await asyncio.wait_for(asyncio.gather(parallel.result(), single.result()), 300)
    assert results[0].segments_total >= 7
    assert results[1].segments_total == 1
    paths = []
    for name, result in zip(("parallel", "single"), results, strict=True):
        path = tmp_path / f"{name}.mp4"
        output = result.outputs[0].output
        stack.s3().download_file(output.bucket, output.key, str(path))
        paths.append(path)
    total = results[0].total_frames
    # 1.5 s + 1.5 s + 1.2 s, less the two cross-fades (0.5 s, 0.3 s), each in whole frames.
    assert total == 2 * round(1.5 * fps) + round(1.2 * fps) - round(0.5 * fps) - round(0.3 * fps)

    # Every frame exactly once, in order: nothing duplicated or dropped at any join.
    assert frame_codes(paths[0]) == list(range(total))
    assert frame_codes(paths[1]) == list(range(total))

    # Every frame on the 1/fps grid: the joins shift no timestamp (players and the PSNR
    # comparison below pair frames by time).
    pts = subprocess.run(
        [
            ffprobe_binary(),
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "frame=pts_time",
            "-of",
            "csv=p=0",
            str(paths[0]),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    pts = [t.split(",")[0] for t in pts]
    assert len(pts) == total
    assert max(abs(float(t) - i / fps) for i, t in enumerate(pts)) < 0.001

    info = probe(paths[0])
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert int(video["nb_read_packets"]) == total
    assert abs(float(video["duration"]) - float(audio["duration"])) <= 1 / fps
    assert video["r_frame_rate"] == f"{fps}/1"

    decode = subprocess.run(
        [ffmpeg_binary(), "-v", "error", "-i", str(paths[0]), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    assert decode.returncode == 0
    assert decode.stdout == "" and decode.stderr == ""

    psnr = subprocess.run(
        [
            ffmpeg_binary(),
            "-i",
            str(paths[0]),
            "-i",
            str(paths[1]),
            "-lavfi",
            "psnr",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    ).stderr
    average = float(re.findall(r"average:([0-9.]+|inf)", psnr)[-1])
    assert average >= 40.0, psnr[-400:]

    # The soundtrack in pieces plays like the one mixed whole: as many samples, in place, and
    # nothing at a seam that the whole mix does not have (test_soundtrack_pieces has more).
    pieced, whole = (left_channel(path) for path in paths)
    assert len(pieced) == len(whole)
    seams = [p.start_sample for p in piece_bounds(total_samples(total, fps), 1)[1:]]
    assert len(seams) >= 2
    differences = [abs(a - b) for a, b in zip(pieced, whole, strict=True)]
    assert max(differences) < 330
    steepest = max(abs(whole[i + 1] - whole[i]) for i in range(len(whole) - 1))
    for at in seams:
        assert max(abs(pieced[i + 1] - pieced[i]) for i in range(at - 8, at + 8)) <= steepest
