"""Specs and brand kits for tests, built the way users write them."""

from __future__ import annotations

from typing import Any

from smm_runtime.contract.video_spec import BrandKit

BUCKET = "assets-bucket"


def brand_kit(**overrides: Any) -> BrandKit:
    base: dict[str, Any] = {
        "id": "acme",
        "fonts": {
            "heading": f"s3://{BUCKET}/shared/fonts/heading.ttf",
            "body": f"s3://{BUCKET}/shared/fonts/body.ttf",
        },
        "colors": {"primary": "#1E3A8A", "accent": "#F59E0B"},
        "logo": f"s3://{BUCKET}/shared/logo.png",
    }
    return BrandKit.model_validate({**base, **overrides})


def scene(duration_s: float = 2.0, **overrides: Any) -> dict[str, Any]:
    return {"duration_s": duration_s, **overrides}


def spec(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "brand_kit": "acme",
        "scenes": [
            scene(2, texts=[{"text": "Hello"}]),
            scene(
                2,
                transition_in={"type": "crossfade", "duration_s": 0.5},
                background={"type": "gradient", "from_color": "primary", "to_color": "accent"},
            ),
        ],
    }
    return {**base, **overrides}
