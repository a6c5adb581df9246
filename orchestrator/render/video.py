"""RenderVideoWorkflow: a branded video in one or more presets, rendered in parallel segments.

validate -> load the brand kit -> resolve a frame-exact timeline -> for each preset, plan
segments and dispatch them (bounded in flight), while the soundtrack is mixed once, or in
pieces when it is long (soundtrack.py) -> join each preset's segments and mux the soundtrack
-> outputs.

Every finished segment is an activity result in this workflow's history and an object at a
key derived from its content. A worker crash or a server restart replays the history and
dispatches only what is missing; a retry or a re-run of the same spec finds the finished
objects in S3 and returns at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    from orchestrator.billing.holds import held
    from orchestrator.billing.pricing import estimate_video
    from orchestrator.cap.permits import Permits
    from orchestrator.dispatch.typed import all_or_cancel, dispatch
    from orchestrator.render.brand_kits import load_brand_kit
    from orchestrator.render.ownership import foreign_object, owner_of
    from orchestrator.render.resolve import SpecResolutionError, frames, resolve
    from orchestrator.render.s3keys import safe_segment
    from orchestrator.render.segments import frame_costs, plan_segments, preset_size, window
    from orchestrator.render.soundtrack import PIECES_PATCH, pieces, soundtrack
    from orchestrator.visibility.in_workflow import Visible
    from smm_runtime.contract.basetypes import ComputeUsage, S3Object
    from smm_runtime.contract.errors import INVALID_REQUEST
    from smm_runtime.contract.kinds import (
        FINALIZE_VIDEO,
        MAX_SHEET_FRAMES,
        RENDER_AUDIO,
        RENDER_SEGMENT,
        AudioRequest,
        AudioResult,
        FinalizeRequest,
        FinalizeResult,
        SegmentRequest,
        SegmentResult,
    )
    from smm_runtime.contract.ownership import owned_prefix
    from smm_runtime.contract.timeline import Timeline
    from smm_runtime.contract.validation import ContractError, parse_spec
    from smm_runtime.contract.video_spec import PRESET_SLUGS, QUALITY_CRF, VideoSpec
    from smm_runtime.contract.workflow_io import (
        BrandLook,
        PresetOutput,
        RenderProgress,
        RenderVideoInput,
        RenderVideoOutput,
    )


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type=INVALID_REQUEST, non_retryable=True)


@workflow.defn
class RenderVideoWorkflow:
    def __init__(self) -> None:
        self._progress = RenderProgress(stage="validating")
        self._permits = Permits()  # registers its signal handlers
        self._scope: str | None = None  # whose prefix (ownership), set when the run starts
        self._visible = Visible()

    @workflow.query
    def progress(self) -> RenderProgress:
        return self._progress.model_copy(update={"segments_queued": len(self._permits.waiting)})

    def _set(self, **changes: Any) -> None:
        self._progress = p = self._progress.model_copy(update=changes)
        self._visible.stage(
            p.stage, f"{p.segments_done}/{p.segments_total} segments" if p.segments_total else ""
        )

    @workflow.run
    async def run(self, params: RenderVideoInput) -> RenderVideoOutput:
        self._scope = owner_of(params.scope)
        self._visible.start("video", self._progress.stage, account=params.scope)
        try:
            spec = parse_spec(params.spec)
        except ContractError as err:
            self._set(stage="invalid", error=str(err))
            raise ApplicationError(str(err), type=err.error_type, non_retryable=True) from None
        self._set(stage="loading brand kit")
        kit = await load_brand_kit(
            params.assets_bucket or params.output_bucket, spec.brand_kit, self._scope
        )
        foreign = foreign_object(self._scope, params.spec, kit)
        if foreign is not None:
            self._set(stage="invalid", error=str(foreign))
            raise foreign
        try:
            timeline = resolve(spec, kit)
        except SpecResolutionError as err:
            self._set(stage="invalid", error=str(err))
            raise _invalid(f"invalid video spec: spec.{err}") from None
        try:
            if params.account:
                self._set(stage="reserving credits")
            async with held(
                params.account,
                workflow.info().workflow_id,
                lambda m: estimate_video(timeline.total_frames, timeline.fps, spec.presets, m),
            ) as hold:
                output = await self._render(params, spec, timeline)
                hold.usage = output.usage
            return output.model_copy(update={"cost": hold.cost, "brand": BrandLook.of(kit)})
        except ActivityError as err:
            cancelled = isinstance(err.cause, CancelledError)
            self._set(
                stage="cancelled" if cancelled else "failed",
                error=None if cancelled else str(err.cause or err),
            )
            raise
        except asyncio.CancelledError:
            self._set(stage="cancelled")
            raise

    async def _render(
        self, params: RenderVideoInput, spec: VideoSpec, timeline: Timeline
    ) -> RenderVideoOutput:
        policy = params.dispatch
        bucket = params.output_bucket
        slots = asyncio.Semaphore(params.max_parallel_segments)
        plans: dict[str, list[SegmentRequest]] = {}
        costs = frame_costs(timeline)
        for preset in spec.presets:
            width, height = preset_size(preset)
            plans[preset] = [
                SegmentRequest(
                    preset=preset,
                    width=width,
                    height=height,
                    crf=QUALITY_CRF[spec.quality],
                    start_frame=a,
                    end_frame=b,
                    timeline=window(timeline, a, b),
                    bucket=bucket,
                    account=self._scope,
                )
                for a, b in plan_segments(
                    timeline.total_frames,
                    frames(spec.segment_target_s, spec.fps),
                    spec.max_segments,
                    costs,
                )
            ]
        total = sum(len(p) for p in plans.values())
        self._set(
            stage="rendering",
            segments_total=total,
            presets={p: (0, len(plan)) for p, plan in plans.items()},
        )
        await self._permits.load_caps()
        wf_id = workflow.info().workflow_id

        async def segment(request: SegmentRequest, number: int) -> SegmentResult:
            async with slots:
                result = await dispatch(
                    RENDER_SEGMENT,
                    request,
                    policy,
                    permits=self._permits,
                    permit_id=f"{wf_id}/{request.preset}/{request.start_frame}",
                    summary=(
                        f"segment {number}/{len(plans[request.preset])}"
                        f" · {request.preset} · frames {request.start_frame}-{request.end_frame}"
                    ),
                )
            done, of = self._progress.presets.get(request.preset, (0, 0))
            self._set(
                segments_done=self._progress.segments_done + 1,
                segments_reused=self._progress.segments_reused + int(result.reused),
                presets={**self._progress.presets, request.preset: (done + 1, of)},
            )
            return result

        audio_requests: list[AudioRequest] = []
        if (whole := soundtrack(spec, timeline, bucket, self._scope)) is not None:
            audio_requests = [whole]
            split = pieces(whole, params.audio_piece_s)
            if len(split) > 1 and workflow.patched(PIECES_PATCH):
                audio_requests = split
        audio_tasks = [
            asyncio.ensure_future(
                dispatch(
                    RENDER_AUDIO,
                    request,
                    policy,
                    permits=self._permits,
                    permit_id=f"{wf_id}/audio"
                    + ("" if request.piece is None else f"/{request.piece.start_sample}"),
                )
            )
            for request in audio_requests
        ]
        tasks = {
            preset: [
                asyncio.ensure_future(segment(r, number))
                for number, r in enumerate(requests, start=1)
            ]
            for preset, requests in plans.items()
        }
        everything: list[asyncio.Future[Any]] = [t for ts in tasks.values() for t in ts]
        await all_or_cancel([*everything, *audio_tasks])
        audio: list[AudioResult] = [t.result() for t in audio_tasks]
        pieced = any(r.piece is not None for r in audio_requests)
        segments = {p: [t.result() for t in ts] for p, ts in tasks.items()}

        self._set(stage="joining")
        prefix = f"{owned_prefix(self._scope)}renders/{safe_segment(workflow.info().workflow_id)}"
        finals = [
            asyncio.ensure_future(
                dispatch(
                    FINALIZE_VIDEO,
                    FinalizeRequest(
                        preset=preset,
                        total_frames=timeline.total_frames,
                        fps=timeline.fps,
                        segments=[s.segment for s in segments[preset]],
                        segment_frames=[s.frames for s in segments[preset]],
                        audio=audio[0].audio if audio and not pieced else None,
                        audio_pieces=[a.audio for a in audio] if pieced else [],
                        output=S3Object(bucket=bucket, key=f"{prefix}/{PRESET_SLUGS[preset]}.mp4"),
                        poster=S3Object(bucket=bucket, key=f"{prefix}/{PRESET_SLUGS[preset]}.jpg"),
                        contact_sheet=S3Object(
                            bucket=bucket, key=f"{prefix}/{PRESET_SLUGS[preset]}.scenes.jpg"
                        ),
                        sheet_frames=sheet_frames(timeline),
                        account=self._scope,
                    ),
                    policy,
                    permits=self._permits,
                    permit_id=f"{wf_id}/finalize/{preset}",
                )
            )
            for preset in spec.presets
        ]
        await all_or_cancel(list(finals))
        results: list[FinalizeResult] = [f.result() for f in finals]
        outputs = [
            PresetOutput(
                preset=p, uri=r.output.uri, output=r.output, poster=r.poster, media=r.media
            )
            for p, r in zip(spec.presets, results, strict=True)
        ]
        usages = [s.usage for ss in segments.values() for s in ss] + [r.usage for r in results]
        usages += [a.usage for a in audio]
        flat = [s for ss in segments.values() for s in ss]
        self._set(stage="done", outputs=[o.uri for o in outputs])
        return RenderVideoOutput(
            outputs=outputs,
            total_frames=timeline.total_frames,
            segments_total=len(flat),
            segments_rendered=sum(1 for s in flat if not s.reused),
            segments_reused=sum(1 for s in flat if s.reused),
            usage=ComputeUsage.total(usages),
        )


def sheet_frames(timeline: Timeline) -> list[int]:
    """The middle frame of each scene (of at most MAX_SHEET_FRAMES, evenly picked): the
    reviewer's contact sheet."""
    middles = [scene.start_frame + scene.frames // 2 for scene in timeline.scenes]
    if len(middles) > MAX_SHEET_FRAMES:
        step = len(middles) / MAX_SHEET_FRAMES
        middles = [middles[int(i * step)] for i in range(MAX_SHEET_FRAMES)]
    return [min(m, timeline.total_frames - 1) for m in middles]
