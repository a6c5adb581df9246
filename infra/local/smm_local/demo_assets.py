"""The demo's brand kit and assets, made here (no downloads) and uploaded to the bucket."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from smm_runtime.media_tools import ffmpeg_binary

# Stock assets the operator shares with every account (smm_runtime.contract.ownership).
PREFIX = "shared/demo"
KIT_ID = "demo"
DEMO_COLORS = {
    "primary": "#1E3A8A",
    "accent": "#F59E0B",
    "background": "#0B1220",
    "text": "#FFFFFF",
}


def _font_dir() -> Path:
    import font_lato  # OFL-licensed Lato from PyPI, the demo brand font

    return Path(font_lato.__file__).parent / "files"


def _logo(path: Path) -> None:
    img = Image.new("RGBA", (512, 512), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((16, 16, 496, 496), radius=120, fill=(255, 122, 26, 255))
    draw.polygon([(190, 140), (190, 372), (380, 256)], fill=(255, 255, 255, 255))
    img.save(path, format="PNG")


def _photo(path: Path) -> None:
    """A 'photo' with detail at every scale, so the Ken Burns move is visible."""
    img = Image.new("RGB", (2400, 1600), (18, 40, 70))
    draw = ImageDraw.Draw(img)
    for i in range(40):
        x, y = (i * 523) % 2400, (i * 337) % 1600
        r = 60 + (i * 29) % 220
        draw.ellipse(
            (x - r, y - r, x + r, y + r),
            fill=(40 + (i * 53) % 200, 80 + (i * 31) % 150, 120 + (i * 17) % 130),
        )
    img.filter(ImageFilter.GaussianBlur(3)).save(path, format="JPEG", quality=90)


def _tone(path: Path, graph: str) -> None:
    subprocess.run(
        [
            ffmpeg_binary(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-filter_complex",
            graph,
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
            str(path),
        ],
        check=True,
    )


def upload_demo_assets(s3: Any, bucket: str, music_seconds: float = 20) -> dict[str, str]:
    """Upload the demo brand kit and assets; returns their URIs by name (and 'brand_kit')."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _logo(work / "logo.png")
        _photo(work / "photo.jpg")
        # A soft two-note pad for music, and short bursts standing in for a voice-over.
        _tone(
            work / "music.mp3",
            f"sine=frequency=220:duration={music_seconds}[a];"
            f"sine=frequency=277:duration={music_seconds}[b];"
            "[a][b]amix=inputs=2,volume=0.5,aformat=channel_layouts=stereo",
        )
        _tone(
            work / "voice.mp3",
            "sine=frequency=660:duration=3,volume='if(lt(mod(t,0.5),0.3),0.8,0)':eval=frame,"
            "aformat=channel_layouts=stereo",
        )
        files = {
            "heading_font": (_font_dir() / "Lato-Black.ttf", "font/ttf"),
            "body_font": (_font_dir() / "Lato-Bold.ttf", "font/ttf"),
            "logo": (work / "logo.png", "image/png"),
            "photo": (work / "photo.jpg", "image/jpeg"),
            "music": (work / "music.mp3", "audio/mpeg"),
            "voice": (work / "voice.mp3", "audio/mpeg"),
        }
        uris = {}
        for name, (path, content_type) in files.items():
            key = f"{PREFIX}/{path.name}"
            s3.upload_file(str(path), bucket, key, ExtraArgs={"ContentType": content_type})
            uris[name] = f"s3://{bucket}/{key}"
    kit = {
        "id": KIT_ID,
        "name": "Demo Co.",
        "fonts": {"heading": uris["heading_font"], "body": uris["body_font"]},
        "colors": DEMO_COLORS,
        "logo": uris["logo"],
    }
    for key in (f"brand-kits/{KIT_ID}.json", f"shared/brand-kits/{KIT_ID}.json"):
        # The operator's own kit (unowned renders) and the one every account may use.
        s3.put_object(
            Bucket=bucket, Key=key, Body=json.dumps(kit).encode(), ContentType="application/json"
        )
    uris["brand_kit"] = KIT_ID
    return uris


def demo_spec(uris: dict[str, str], presets: tuple[str, ...] = ("9:16", "1:1")) -> dict[str, Any]:
    """A multi-scene branded video: three scenes, cross-fades, captions, music, voice-over."""
    return {
        "brand_kit": uris["brand_kit"],
        "presets": list(presets),
        "quality": "standard",
        "segment_target_s": 3,
        "scenes": [
            {
                "duration_s": 3,
                "background": {"type": "solid", "color": "primary"},
                "texts": [
                    {"text": "Spring launch", "size": 0.11, "animation": "slide_up"},
                    {
                        "text": "Fresh looks for every feed",
                        "font": "body",
                        "size": 0.05,
                        "position": "bottom",
                        "start_s": 0.6,
                    },
                ],
            },
            {
                "duration_s": 3,
                "transition_in": {"type": "crossfade", "duration_s": 0.6},
                "background": {
                    "type": "gradient",
                    "from_color": "primary",
                    "to_color": "accent",
                    "direction": "diagonal",
                },
                "texts": [{"text": "Rendered in parallel on Lambda", "size": 0.07}],
            },
            {
                "duration_s": 4,
                "transition_in": {"type": "crossfade", "duration_s": 0.6},
                "background": {
                    "type": "image",
                    "uri": uris["photo"],
                    "fit": "fill",
                    "ken_burns": {"zoom_from": 1.0, "zoom_to": 1.25, "to_center": [0.6, 0.45]},
                },
                "texts": [
                    {
                        "text": "Orchestrated by Temporal",
                        "size": 0.07,
                        "position": "top",
                        "style": "stroke",
                    }
                ],
            },
        ],
        "captions": [
            {"start_s": 0.5, "end_s": 2.8, "text": "Meet the new collection"},
            {"start_s": 6.0, "end_s": 8.5, "text": "Every frame checkpointed"},
        ],
        "music": {"uri": uris["music"], "volume": 0.6, "fade_in_s": 0.5, "fade_out_s": 2},
        "voiceover": {"uri": uris["voice"], "start_s": 1.0, "volume": 1.0},
    }


def card_spec(uris: dict[str, str]) -> dict[str, Any]:
    return {
        "brand_kit": uris["brand_kit"],
        "size": "square",
        "template": "promo_card",
        "props": {
            "headline": "Spring collection",
            "price": 49,
            "original_price": 79,
            "currency": "EUR",
            "cta": "Shop now",
            "badge": "-38%",
            "image": uris["photo"],
        },
    }


def carousel_spec(uris: dict[str, str]) -> dict[str, Any]:
    return {
        "brand_kit": uris["brand_kit"],
        "size": "portrait",
        "carousel": [
            {"title": "Plan the week", "body": "One theme, five posts, scheduled on Monday."},
            {
                "title": "Make it on brand",
                "body": "Templates carry your fonts, colours and logo.",
                "image": uris["photo"],
            },
            {"title": "Ship with approval", "body": "A reviewer approves, Postiz publishes."},
        ],
    }
