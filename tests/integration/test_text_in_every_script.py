"""Text in every script through the real render path (the Lambda emulator runs the segment
function with the fonts layer as SAM builds it): a video with Greek, Arabic, Hebrew, CJK,
Devanagari, Thai and emoji in scene texts and a caption renders; one character no font has
fails the render at once, non-retryably, naming the field and the code point, with no
segment rendered."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError

from orchestrator.render.video import RenderVideoWorkflow
from smm_local.stack import LocalStack
from tests.integration.conftest import start

pytestmark = pytest.mark.integration


def spec(assets: dict[str, str], *texts: str, caption: str = "") -> dict[str, Any]:
    return {
        "brand_kit": assets["brand_kit"],
        "presets": ["1:1"],
        "quality": "draft",
        "segment_target_s": 0.5,
        "logo": None,
        "scenes": [
            {
                "duration_s": 1.0,
                "texts": [
                    {"text": t, "position": p}
                    for t, p in zip(texts, ["top", "center", "bottom"], strict=False)
                ],
            }
        ],
        "captions": [{"start_s": 0, "end_s": 1, "text": caption}] if caption else [],
    }


async def test_a_video_in_every_script_renders(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    handle = await start(
        client,
        stack,
        task_queue,
        spec(
            assets,
            "Καλημέρα · Привет · 你好 · こんにちは · 안녕",
            "مرحبا 2026 · שלום 123",
            "नमस्ते · สวัสดี · 👨‍👩‍👧‍👦🇫🇷👍🏽",
            caption="字幕 · تعليق · caption ✓",
        ),
    )
    result = await asyncio.wait_for(handle.result(), 180)
    assert result.total_frames == 30 and result.outputs[0].media.width == 1080


async def test_a_character_no_font_has_fails_at_once_naming_field_and_code_point(
    client: Client, stack: LocalStack, task_queue: str, assets: dict[str, str]
) -> None:
    handle = await start(client, stack, task_queue, spec(assets, "fine", "Pharaoh 𓀀"))
    with pytest.raises(WorkflowFailureError) as err:
        await asyncio.wait_for(handle.result(), 120)
    cause = err.value.cause
    assert isinstance(cause, ActivityError)
    failure = cause.cause
    assert isinstance(failure, ApplicationError) and failure.non_retryable
    assert failure.message.startswith('scenes.0.texts.1.text: no font covers "𓀀" (U+13000)')
    progress = await handle.query(RenderVideoWorkflow.progress)
    assert progress.segments_done == 0  # no segment was rendered
