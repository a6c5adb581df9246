"""Cards in every script through every template of the Node image function, against golden
images that were looked at; the Node and Python cmap readers agree on every font of the
chain; a character no font has is refused by the Node path with the Python path's message;
and for every script sample Satori asks about, the fonts we answer with have its characters."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from smm_runtime.font_coverage import file_codepoints

ROOT = Path(__file__).resolve().parents[2]
NODE_FN = ROOT / "functions" / "render_image"
FONTS = Path(os.environ["SMM_FONTS_DIR"])
GOLDENS = ROOT / "tests" / "goldens"
TEMPLATES = ["quote_card", "promo_card", "carousel_slide", "link_preview", "long_words"]


def node(script: str, *args: str) -> str:
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script, *args],
        cwd=NODE_FN,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cards")
    subprocess.run(
        ["node", "scripts/render-scripts.mjs", str(FONTS), str(out)],
        cwd=NODE_FN,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_draws_every_script_as_the_golden_shows(cards: Path, template: str) -> None:
    drawn = cards / f"image_{template}.png"
    if os.environ.get("SMM_UPDATE_GOLDENS"):
        drawn.replace(GOLDENS / drawn.name)
        return
    with Image.open(GOLDENS / drawn.name) as golden, Image.open(drawn) as now:
        assert golden.size == now.size
        diff = ImageStat.Stat(ImageChops.difference(golden.convert("RGB"), now.convert("RGB"))).mean
    assert max(diff) < 0.5, f"{template} differs from its golden by {diff}"


def test_node_and_python_read_the_same_coverage_from_every_font() -> None:
    files = sorted(p for p in FONTS.iterdir() if p.suffix in {".ttf", ".otf"})
    script = """
    import fs from 'node:fs'; import crypto from 'node:crypto';
    import { codepoints } from './dist/font_coverage.mjs';
    const out = {};
    for (const f of JSON.parse(process.argv[1])) {
      const cps = [...codepoints(fs.readFileSync(f))].sort((a, b) => a - b);
      out[f] = [cps.length, crypto.createHash('sha256').update(cps.join(',')).digest('hex')];
    }
    console.log(JSON.stringify(out));
    """
    from_node = json.loads(node(script, json.dumps([str(f) for f in files])))
    assert len(files) >= 14
    for f in files:
        cps = sorted(file_codepoints(f))
        digest = hashlib.sha256(",".join(map(str, cps)).encode()).hexdigest()
        assert from_node[str(f)] == [len(cps), digest], f.name


def test_node_refuses_a_character_no_font_has_naming_prop_and_code_point() -> None:
    script = """
    import { FontChain } from './dist/font_chain.mjs';
    try { new FontChain(process.argv[1]).check([['props.quote', 'Pharaoh 𓀀 says hi']], []);
          console.log('accepted'); }
    catch (err) { console.log(JSON.stringify({ type: err.type, message: err.message })); }
    """
    answer = json.loads(node(script, str(FONTS)))
    assert answer["type"] == "InvalidRequest"
    assert answer["message"].startswith('props.quote: no font covers "𓀀" (U+13000)')


def test_the_fonts_given_to_satori_have_every_character_it_asks_about() -> None:
    script = """
    import { FontChain } from './dist/font_chain.mjs';
    import { codepoints } from './dist/font_coverage.mjs';
    const chain = new FontChain(process.argv[1]);
    const asks = [['ar-AR', 'مرحبا'], ['he-IL', 'שלום'], ['th-TH', 'สวัสดี'],
      ['ja-JP|zh-CN|zh-TW|zh-HK', '这是标题'], ['ja-JP', 'こんにちは'], ['ko-KR', '안녕'],
      ['zh-TW', '繁體'], ['symbol', '✓']];
    const out = {};
    for (const [code, segment] of asks) {
      const fonts = await chain.loader('日本語の本文')(code, segment);
      const covers = fonts.map((f) => codepoints(f.data));
      out[segment] = [...segment].filter((c) => !covers.some((s) => s.has(c.codePointAt(0))));
    }
    console.log(JSON.stringify(out));
    """
    missing = json.loads(node(script, str(FONTS)))
    assert missing and all(chars == [] for chars in missing.values()), missing
