"""Video text in every script the product promises: each character drawn by a font that has
it (never the missing-glyph box), Arabic and Hebrew in right-to-left order with numbers and
Latin inside them, CJK broken into lines without spaces, emoji sequences as one colour glyph,
and a character no font has refused before any drawing, naming the field and the character.
The sheet of all of them is compared with a golden image that was looked at."""

# ruff: noqa: RUF001  (the samples are text in other scripts, full-width punctuation included)
from __future__ import annotations

import os
from pathlib import Path

import font_lato
import pytest
from PIL import Image, ImageChops, ImageStat

from functions.render_video.font_chain import FontChain, twemoji_name
from functions.render_video.stills import render_text
from functions.render_video.text_lines import levels, line_width, visual_runs, wrap
from smm_runtime.contract.errors import InvalidRequestError
from smm_runtime.contract.timeline import RText

FONTS = Path(os.environ["SMM_FONTS_DIR"])
GOLDEN = Path(__file__).resolve().parents[1] / "goldens" / "video_text_scripts.png"
SAMPLES = {
    "greek and cyrillic": "Καλημέρα κόσμε — Привет, мир ✓",
    "chinese": "你好，世界！這是繁體字",
    "japanese": "こんにちは、世界。カタカナ",
    "korean": "안녕하세요 세계",
    "arabic": "مرحبا بالعالم 2026",
    "hebrew with latin": "שלום עולם 123 and English",
    "devanagari": "नमस्ते दुनिया",
    "thai": "สวัสดีชาวโลก",
    "emoji": "Emoji 😀👍🏽🇫🇷👨‍👩‍👧‍👦 1️⃣ ❤️",
    "cjk without spaces": "这是一段很长的中文文本没有空格需要自动换行"
    "才能显示在安全区域内部不会超出边界的测试文本",
}


@pytest.fixture(scope="module")
def chain() -> FontChain:
    return FontChain(Path(font_lato.__file__).parent / "files" / "Lato-Bold.ttf", FONTS, 700)


@pytest.mark.parametrize("name", SAMPLES)
def test_every_character_is_drawn_by_a_font_that_has_it(chain: FontChain, name: str) -> None:
    clusters, missing = chain.clusters(SAMPLES[name])
    assert missing == []
    for cluster in clusters:
        if cluster.face is None:  # an emoji: a Twemoji file of the whole sequence
            assert cluster.emoji is not None and cluster.emoji.is_file(), cluster.text
        else:
            drawn = {ord(c) for c in cluster.text} - {0x200D, 0xFE0F}
            assert drawn <= cluster.face.covers, (cluster.text, cluster.face.path.name)


def test_han_takes_the_font_of_the_text_s_language(chain: FontChain) -> None:
    def face_of(text: str, char: str) -> str:
        clusters, _ = chain.clusters(text)
        face = next(c.face for c in clusters if c.text == char)
        assert face is not None
        return face.path.name

    assert face_of("こんにちは、世界", "世") == "NotoSansJP-Regular.otf"
    assert face_of("你好，世界", "世") == "NotoSansHans-Regular.otf"
    assert face_of("세계 世界", "世") == "NotoSansKR-Regular.otf"


def test_a_character_no_font_has_is_refused_naming_field_and_character(chain: FontChain) -> None:
    with pytest.raises(InvalidRequestError) as err:
        chain.check("Pharaoh 𓀀 says hi", "scenes.2.texts.0.text")
    assert str(err.value).startswith('scenes.2.texts.0.text: no font covers "𓀀" (U+13000)')
    assert err.value.non_retryable


def test_emoji_sequences_are_one_glyph_each(chain: FontChain) -> None:
    sequences = ["🇫🇷", "👍🏽", "👨‍👩‍👧‍👦", "1️⃣", "❤️", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"]
    clusters, missing = chain.clusters("".join(sequences))
    assert missing == []
    assert [c.text for c in clusters] == sequences
    assert all(c.face is None for c in clusters)
    assert twemoji_name("❤️") == "2764" and twemoji_name("👁️‍🗨️") == "1f441-fe0f-200d-1f5e8-fe0f"
    text_check, _ = chain.clusters("✓ © ™")  # text presentation: drawn from a font
    assert all(c.face is not None for c in text_check)


def test_right_to_left_order_with_numbers_and_latin_inside(chain: FontChain) -> None:
    clusters, _ = chain.clusters("שלום עולם 123 and English")
    order = [run.text for run in visual_runs(clusters)]
    # Display order, left to right: the Latin run, the number, then the Hebrew words with
    # the first one rightmost (each word laid out right to left by Raqm within its run).
    assert "".join(order).replace(" ", "") == "andEnglish123" + "עולם" + "שלום"
    assert levels(chain.clusters("abc 123")[0]) == [0] * 7  # numbers after Latin stay put
    arabic = visual_runs(chain.clusters("مرحبا 2026")[0])
    assert arabic[0].text == "2026" and arabic[-1].rtl


def test_lines_break_without_spaces_and_inside_long_words(chain: FontChain) -> None:
    for text in (SAMPLES["cjk without spaces"], "Supercalifragilistic" * 6):
        clusters, _ = chain.clusters(text)
        lines = wrap(clusters, 60, 600)
        assert len(lines) > 1
        assert all(line_width(line, 60) <= 600 for line in lines)
        assert "".join(c.text for line in lines for c in line) == text


def test_a_line_never_starts_with_closing_punctuation(chain: FontChain) -> None:
    clusters, _ = chain.clusters("一二三四五六七八九十、一二三四五六七八九十。一二三")
    broken = 0
    for width in range(300, 900, 37):
        lines = wrap(clusters, 48, width)
        broken += len(lines) > 1
        for line in lines[1:]:
            assert line[0].text not in "、。"
    assert broken >= 10  # the text really was broken into lines at most widths


def _sheet(chain: FontChain, folder: Path) -> Image.Image:
    canvas = Image.new("RGBA", (1080, 1920), (40, 40, 90, 255))
    y = 20
    for i, text in enumerate(SAMPLES.values()):
        # Scene texts and captions in turn: both styles draw every script.
        layer = RText(
            text=text,
            font="s3://bucket/font.ttf",
            size=0.05,
            color="#ffffff",
            style="caption" if i % 2 else "shadow",
            position="top",
            align="center",
            animation="none",
            start_frame=0,
            end_frame=1,
        )
        placed = render_text(layer, chain, 1080, 1920, folder / f"sheet-{i}.tga")
        with Image.open(placed.path) as drawn:
            canvas.alpha_composite(drawn.convert("RGBA"), (placed.x, y))
            y += drawn.height + 20
        assert placed.x >= 0 and placed.x + placed.width <= 1080  # inside the frame
    return canvas.convert("RGB")


def test_the_sheet_of_every_script_matches_the_golden_that_was_looked_at(
    chain: FontChain, tmp_path: Path
) -> None:
    sheet = _sheet(chain, tmp_path)
    sheet.save(tmp_path / "sheet.png")
    if os.environ.get("SMM_UPDATE_GOLDENS"):
        sheet.save(GOLDEN)
    with Image.open(GOLDEN) as golden:
        diff = ImageStat.Stat(ImageChops.difference(golden.convert("RGB"), sheet)).mean
    assert max(diff) < 0.5, f"differs from {GOLDEN.name} by {diff} (see {tmp_path})"
