"""The 10-minute render's join, run again alone on this machine (for bench-long's model).

The finalize function's span in the render includes moving every segment through the local
S3 (moto, in Python), which the model then counts again at Lambda's S3 rate. Here the same
commands the function runs (finalize_graph, media_info) join the render's own segments and
soundtrack pieces from local files, so the model adds S3 once.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from functions.render_video.finalize_graph import (
    concat_list,
    contact_sheet_command,
    join_command,
    poster_command,
)
from smm_runtime.contract.kinds import FinalizeRequest
from smm_runtime.ffmpeg_run import run_ffmpeg
from smm_runtime.media_tools import ffmpeg_binary, media_info


async def finalize_request(client: Client, handle: WorkflowHandle[Any, Any]) -> FinalizeRequest:
    async for event in handle.fetch_history_events():
        attrs = event.activity_task_scheduled_event_attributes
        if (
            event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            and attrs.activity_type.name == "dispatch_finalize"
        ):
            [request] = await client.data_converter.decode(
                list(attrs.input.payloads), [FinalizeRequest]
            )
            assert isinstance(request, FinalizeRequest)
            return request
    raise RuntimeError("the render dispatched no finalize")


def _run(argv: list[str]) -> None:
    run_ffmpeg(argv, total_s=0, on_progress=lambda pct, t: None, cancelled=lambda: False)


def measure(s3: Any, req: FinalizeRequest, work: Path) -> float:
    """Seconds the finalize function's own work takes here: join, count, poster, sheet."""
    parts = []
    for index, (segment, frames) in enumerate(zip(req.segments, req.segment_frames, strict=True)):
        name = f"seg_{index:04d}.mp4"
        s3.download_file(segment.bucket, segment.key, str(work / name))
        parts.append((name, frames))
    audio = work / "soundtrack.aac"
    with audio.open("wb") as joined:
        for piece in req.audio_pieces:
            joined.write(s3.get_object(Bucket=piece.bucket, Key=piece.key)["Body"].read())
    (work / "segments.ffconcat").write_text(concat_list(parts, req.fps))
    duration = req.total_frames / req.fps
    output = work / "final.mp4"
    binary = ffmpeg_binary()
    started = time.perf_counter()
    _run(join_command(binary, work / "segments.ffconcat", audio, output, duration))
    media_info(output, count=True)
    _run(poster_command(binary, output, min(1.0, duration / 2), work / "poster.jpg"))
    times = [f / req.fps for f in req.sheet_frames]
    _run(contact_sheet_command(binary, output, times, work / "sheet.jpg"))
    return time.perf_counter() - started
