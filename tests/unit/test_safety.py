from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from orchestrator.render.s3keys import render_output_key, safe_segment
from smm_runtime.contract.errors import UnsafeMediaError
from smm_runtime.image_inputs import normalize_image


def test_render_keys_are_deterministic_and_cannot_escape_their_prefix() -> None:
    assert render_output_key("wf-1", "video", "mp4") == "renders/wf-1/video.mp4"
    assert render_output_key("wf-1", "video", "mp4") == render_output_key("wf-1", "video", "mp4")
    assert render_output_key("../../etc", "a/b", "mp4") == "renders/.._.._etc/a_b.mp4"
    assert safe_segment("..") == "__"
    with pytest.raises(ValueError):
        safe_segment("")


def test_png_is_decoded_by_pillow_into_tga(tmp_path: Path) -> None:
    Image.new("RGBA", (40, 20), (255, 0, 0, 128)).save(tmp_path / "logo.png")
    out = normalize_image(tmp_path / "logo.png", tmp_path / "logo.tga", "logo")
    with Image.open(out) as img:
        assert img.format == "TGA"
        assert img.size == (40, 20)
        assert img.mode == "RGBA"


def test_other_image_formats_are_refused_with_the_field_named(tmp_path: Path) -> None:
    Image.new("RGB", (10, 10)).save(tmp_path / "x.gif")
    with pytest.raises(UnsafeMediaError, match=r"^logo: GIF images are not allowed"):
        normalize_image(tmp_path / "x.gif", tmp_path / "x.tga", "logo")


def test_garbage_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.png").write_bytes(b"#EXTM3U\n/etc/passwd\n")
    with pytest.raises(UnsafeMediaError, match=r"background\.image: not a readable image"):
        normalize_image(tmp_path / "x.png", tmp_path / "x.tga", "background.image")


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    # A valid PNG header claiming 100000 x 100000 pixels: refused before decoding.
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )
    (tmp_path / "bomb.png").write_bytes(png)
    with pytest.raises(UnsafeMediaError, match="logo:"):
        normalize_image(tmp_path / "bomb.png", tmp_path / "bomb.tga", "logo")
