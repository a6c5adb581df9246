"""Render one segment: a checkpoint hit returns at once; otherwise fetch, draw, encode, upload.

The segment's key is the hash of everything that determines its pixels (the windowed
timeline, preset, quality, renderer version), so a retry, a duplicate delivery or a re-run
of the whole workflow finds a finished segment and never renders it twice.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from aws_lambda_powertools import Logger

from functions.render_video.font_chain import FontChain
from functions.render_video.layout import text_area
from functions.render_video.segment_graph import SceneAssets, SegmentAssets, command
from functions.render_video.stills import fit_image, fit_logo, render_gradient, render_text
from functions.render_video.storage import Storage
from smm_runtime.claims import Claims
from smm_runtime.contract.basetypes import S3Object
from smm_runtime.contract.errors import RENDER_FAILED, InvalidRequestError, WorkError
from smm_runtime.contract.kinds import SegmentRequest, SegmentResult
from smm_runtime.contract.ownership import INTERMEDIATE_TAGGING, owned_prefix
from smm_runtime.contract.timeline import RGradient, RImage, RVideo
from smm_runtime.ffmpeg_run import run_ffmpeg
from smm_runtime.image_inputs import normalize_image
from smm_runtime.media_tools import check_input, count_frames, ffmpeg_binary
from smm_runtime.work import WorkContext

FONT_MAGIC = {b"\x00\x01\x00\x00", b"OTTO", b"true"}
logger = Logger(service="video-engine", child=True)


def sources(req: SegmentRequest) -> list[str]:
    """Every S3 object a segment's pixels come from."""
    timeline = req.timeline
    uris = [t.font for t in timeline.captions]
    for scene in timeline.scenes:
        uris += [t.font for t in scene.texts]
        if isinstance(scene.background, RImage | RVideo):
            uris.append(scene.background.uri)
    if timeline.logo is not None:
        uris.append(timeline.logo.uri)
    return uris


def segment_key(digest: str, account: str | None = None) -> str:
    """Where a segment's checkpoint lives: under its account's prefix when it has one, so
    one account's intermediates are never another's inputs."""
    return f"{owned_prefix(account)}intermediates/segments/{digest[:48]}.mp4"


def check_font(path: Path, field: str) -> Path:
    magic = path.read_bytes()[:4]
    if magic == b"wOF2":
        raise InvalidRequestError(f"{field}: WOFF2 is not supported; upload the TTF or OTF file")
    if magic not in FONT_MAGIC:
        raise InvalidRequestError(f"{field}: not a TrueType or OpenType font file")
    return path


@dataclass
class SegmentRenderer:
    storage: Storage

    def __call__(self, req: SegmentRequest, ctx: WorkContext) -> SegmentResult:
        started = time.time()
        result = self._run(req, ctx)
        return result.model_copy(update={"started_at": started, "finished_at": time.time()})

    def _run(self, req: SegmentRequest, ctx: WorkContext) -> SegmentResult:
        self.storage.check_output_bucket(req.bucket, "bucket")
        if req.end_frame <= req.start_frame:
            raise InvalidRequestError("end_frame: must be after start_frame")
        digest = self.storage.content_fingerprint(req, sources(req), "bucket")
        target = S3Object(bucket=req.bucket, key=segment_key(digest, req.account))
        frames = req.end_frame - req.start_frame
        claims = Claims(self.storage.s3, target.bucket, tagging=INTERMEDIATE_TAGGING)
        claim = f"{owned_prefix(req.account)}intermediates/segments/claims/{digest[:48]}.json"
        # Two deliveries of one event arriving together render it once: the other waits
        # for the checkpoint (or, a copy of this very attempt, stops quietly).
        with claims.exclusive(
            claim,
            ctx,
            lambda: self.storage.finished(target, digest) is not None,
            "waiting for another delivery of this segment",
        ) as reused:
            if reused:
                ctx.report(stage="done", percent=100.0, reused=True)
                return SegmentResult(
                    segment=target,
                    start_frame=req.start_frame,
                    frames=frames,
                    reused=True,
                    usage=ctx.usage(),
                )
            return self._render(req, target, digest, ctx)

    def _render(
        self, req: SegmentRequest, target: S3Object, digest: str, ctx: WorkContext
    ) -> SegmentResult:
        frames = req.end_frame - req.start_frame
        with self.storage.workspace("segment", uuid.uuid4().hex) as work:
            ctx.report(stage="preparing", percent=0.0)
            assets = self._prepare(req, work)
            ctx.raise_if_cancelled()
            output = work / "segment.mp4"
            ctx.report(stage="rendering", percent=0.0)
            # With "segment published", what the soak counts duplicate renders of finished work by.
            logger.info("segment render started", extra={"segment_key": target.key})
            run_ffmpeg(
                command(req, assets, output, ffmpeg_binary(), self.storage.settings.ffmpeg_threads),
                total_s=frames / req.timeline.fps,
                on_progress=lambda pct, t: ctx.report(stage="rendering", percent=round(pct, 1)),
                cancelled=lambda: ctx.cancelled,
            )
            produced = count_frames(output)
            if produced != frames:
                raise WorkError(
                    f"segment {req.start_frame}-{req.end_frame}: encoded {produced} "
                    f"frames, expected {frames}",
                    error_type=RENDER_FAILED,
                )
            self.storage.publish(
                output, target, digest, "video/mp4", {"frames": frames}, intermediate=True
            )
            logger.info("segment published", extra={"segment_key": target.key})
            ctx.report(stage="done", percent=100.0)
            return SegmentResult(
                segment=target,
                start_frame=req.start_frame,
                frames=frames,
                reused=False,
                usage=ctx.usage(),
            )

    def _font(self, uri: str, field: str) -> Path:
        return check_font(self.storage.fetch(field, uri), field)

    def _chains(self, req: SegmentRequest) -> dict[str, FontChain]:
        """A font chain per text field, each text checked: a character no font has fails
        the render here, before any drawing or FFmpeg work."""
        fonts_dir = self.storage.settings.fonts_dir
        chains: dict[str, FontChain] = {}
        for scene in req.timeline.scenes:
            for j, t in enumerate(scene.texts):
                field = f"scenes.{scene.index}.texts.{j}"
                chains[field] = FontChain(self._font(t.font, f"{field}.font"), fonts_dir, 700)
                chains[field].check(t.text, f"{field}.text")
        for k, c in enumerate(req.timeline.captions):
            chains[f"captions.{k}"] = FontChain(self._font(c.font, "caption_font"), fonts_dir)
            chains[f"captions.{k}"].check(c.text, f"captions.{k}.text")
        return chains

    def _prepare(self, req: SegmentRequest, work: Path) -> SegmentAssets:
        w, h = req.width, req.height
        chains = self._chains(req)
        logo = None
        corner = None
        if req.timeline.logo is not None:
            safe = normalize_image(
                self.storage.fetch("brand_kit.logo", req.timeline.logo.uri),
                work / "logo-src.tga",
                "brand_kit.logo",
            )
            logo = fit_logo(safe, w, req.timeline.logo.width, work / "logo.tga")
            corner = req.timeline.logo.corner
        # Decided by the whole timeline (not this window), so every segment lays text out alike.
        area = text_area(
            w,
            h,
            logo_corner=corner,
            logo_h=logo.height if logo else 0,
            captions=req.timeline.has_captions,
        )
        scenes: dict[int, SceneAssets] = {}
        for scene in req.timeline.scenes:
            field = f"scenes.{scene.index}.background"
            bg = scene.background
            background: Path | None = None
            if isinstance(bg, RGradient):
                background = render_gradient(bg, w, h, work / f"scene{scene.index}.tga")
            elif isinstance(bg, RImage):
                safe = normalize_image(
                    self.storage.fetch(f"{field}.uri", bg.uri),
                    work / f"scene{scene.index}-src.tga",
                    f"{field}.uri",
                )
                background = fit_image(safe, bg, w, h, work / f"scene{scene.index}.tga")
            elif isinstance(bg, RVideo):
                background = self.storage.fetch(f"{field}.uri", bg.uri)
                check_input(background, "video", f"{field}.uri")
            texts = [
                render_text(
                    t,
                    chains[f"scenes.{scene.index}.texts.{j}"],
                    w,
                    h,
                    work / f"scene{scene.index}-text{j}.tga",
                    area,
                )
                for j, t in enumerate(scene.texts)
            ]
            scenes[scene.index] = SceneAssets(background=background, texts=texts)
        captions = [
            render_text(c, chains[f"captions.{k}"], w, h, work / f"caption{k}.tga")
            for k, c in enumerate(req.timeline.captions)
        ]
        return SegmentAssets(scenes=scenes, captions=captions, logo=logo)
