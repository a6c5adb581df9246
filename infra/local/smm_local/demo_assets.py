"""The demo's brand assets, made here (no downloads) and uploaded to the local bucket."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from smm_runtime.media_tools import ffmpeg_binary

PREFIX = "assets/demo"


def _font_file() -> Path:
    import font_lato  # OFL-licensed Lato from PyPI, the demo brand font

    return Path(font_lato.__file__).parent / "files" / "Lato-Black.ttf"


def _logo(path: Path) -> None:
    img = Image.new("RGBA", (512, 512), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((16, 16, 496, 496), radius=120, fill=(255, 122, 26, 255))
    draw.polygon([(190, 140), (190, 372), (380, 256)], fill=(255, 255, 255, 255))
    img.save(path, format="PNG")


def _music(path: Path, seconds: float) -> None:
    # A soft two-note pad, so the fade-out is audible.
    graph = (f"sine=frequency=220:duration={seconds}[a];sine=frequency=277:duration={seconds}[b];"
             "[a][b]amix=inputs=2,volume=0.4,aformat=channel_layouts=stereo")
    subprocess.run([ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y",
                    "-filter_complex", graph, "-c:a", "libmp3lame", "-b:a", "128k", str(path)],
                   check=True)


def upload_demo_assets(s3: Any, bucket: str, music_seconds: float = 12) -> dict[str, str]:
    """Upload font, logo and music; returns their s3:// URIs by spec field."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _logo(work / "logo.png")
        _music(work / "music.mp3", music_seconds)
        files = {"font": (_font_file(), "font/ttf"), "logo": (work / "logo.png", "image/png"),
                 "music": (work / "music.mp3", "audio/mpeg")}
        uris = {}
        for field, (path, content_type) in files.items():
            key = f"{PREFIX}/{path.name}"
            s3.upload_file(str(path), bucket, key, ExtraArgs={"ContentType": content_type})
            uris[field] = f"s3://{bucket}/{key}"
    return uris


def demo_spec(uris: dict[str, str], duration_s: float = 8.0) -> dict[str, Any]:
    return {
        "duration_s": duration_s,
        "background": {"color": "#1E3A8A"},
        "title": "Spring launch: fresh looks for every feed",
        "subtitle": "Rendered on Lambda, orchestrated by Temporal",
        "font": uris["font"],
        "text_color": "#FFFFFF",
        "logo": uris["logo"],
        "music": uris["music"],
        "music_volume": 0.7,
        "fade_out_s": 2.0,
    }
