"""Every hostile file in the corpus is refused with a clear error naming the field, before
FFmpeg does any real work, and nothing it names is ever reached: a loopback HTTP canary sees
no request and a FIFO canary standing in for a local file is never opened."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from smm_runtime.contract.errors import UnsafeMediaError
from smm_runtime.image_inputs import normalize_image
from smm_runtime.media_tools import check_input
from tests.hostile.canaries import FileCanary, HttpCanary
from tests.hostile.media_corpus import MEDIA_CASES, MediaCase, Target

ROOT = Path(__file__).resolve().parents[2]
FIELDS = {"video": "clip.uri", "audio": "music.uri", "still": "logo"}


@pytest.fixture(scope="module")
def http() -> Iterator[HttpCanary]:
    canary = HttpCanary()
    yield canary
    canary.close()


def test_the_corpus_is_big_enough() -> None:
    assert len(MEDIA_CASES) >= 20
    assert len({c.name for c in MEDIA_CASES}) == len(MEDIA_CASES)


@pytest.mark.parametrize("case", MEDIA_CASES, ids=lambda c: c.name.replace(" ", "-"))
def test_hostile_media_is_refused_naming_the_field_and_reaches_nothing(
    case: MediaCase, tmp_path: Path, http: HttpCanary
) -> None:
    local = FileCanary(tmp_path, "secret.ts")
    hits_before = len(http.hits)
    try:
        path = case.build(Target(folder=tmp_path, http=http.url, local=local.path))
        field = FIELDS[case.role]
        started = time.monotonic()
        with pytest.raises(UnsafeMediaError) as err:
            if case.role == "still":
                normalize_image(path, tmp_path / "out.tga", field)
            else:
                check_input(path, case.role, field)
        elapsed = time.monotonic() - started
        time.sleep(0.05)  # let a late reader or request show up
    finally:
        local.close()
    message = str(err.value)
    assert message.startswith(f"{field}: "), message
    assert case.refusal in message, message
    assert str(tmp_path) not in message  # our work folder is not the user's business
    assert elapsed < 10, f"refusing took {elapsed:.1f}s"
    assert http.hits[hits_before:] == [], "an internal URL was requested"
    assert local.opened == 0, "a local file named by the input was opened"
    assert not (tmp_path / "out.tga").exists()


STILLS = [c for c in MEDIA_CASES if c.role == "still"]
NODE_CHECK = """
import { checkImage } from './dist/image_header.mjs';
import fs from 'node:fs';
const out = {};
for (const [name, path] of JSON.parse(process.argv[1])) {
  try { out[name] = { accepted: checkImage('logo', fs.readFileSync(path)) }; }
  catch (err) { out[name] = { refused: err.message, type: err.type }; }
}
console.log(JSON.stringify(out));
"""


def test_the_node_image_function_refuses_every_hostile_still_by_its_header(
    tmp_path: Path, http: HttpCanary
) -> None:
    """The card images of the Node function pass the same corpus, refused from the header
    before Satori or resvg decodes a pixel; sizes with the Python path's very message."""
    local = FileCanary(tmp_path, "secret.ts")
    paths: dict[str, str] = {}
    try:
        for case in STILLS:
            folder = tmp_path / case.name.replace(" ", "-")
            folder.mkdir()
            paths[case.name] = str(
                case.build(Target(folder=folder, http=http.url, local=local.path))
            )
    finally:
        local.close()
    answer = subprocess.run(
        ["node", "--input-type=module", "-e", NODE_CHECK, json.dumps(list(paths.items()))],
        cwd=ROOT / "functions" / "render_image",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    results = json.loads(answer.stdout)
    assert set(results) == set(paths)
    for case in STILLS:
        result = results[case.name]
        assert "refused" in result, f"{case.name}: accepted as {result}"
        assert result["type"] == UnsafeMediaError.error_type
        assert result["refused"].startswith("logo: "), result
        if "outside the allowed size" in case.refusal:
            assert case.refusal in result["refused"], result
