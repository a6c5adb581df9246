"""Every function that downloads inputs has a /tmp (its EphemeralStorage) whose share for the
asset cache takes one input at the input size limit: the audio function accepted 1 GiB inputs
with Lambda's default 512 MB /tmp, a failure only a full-size input in AWS would show (the
emulator now gives each environment a /tmp of exactly that size)."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.render_video.storage import RenderSettings
from smm_local.template import Resolver, functions, load_template, parameter_defaults

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
SPECS = functions(TEMPLATE, ROOT, Resolver(parameter_defaults(TEMPLATE), {}))
CACHE_SHARE = 0.4  # RenderSettings.cache_limit: 40 % of /tmp (and at most 2 GiB)


@pytest.mark.parametrize(
    "name", [n for n, s in SPECS.items() if s.handler.startswith("functions.render_video.")]
)
def test_the_asset_cache_share_of_tmp_takes_an_input_at_its_size_limit(name: str) -> None:
    spec = SPECS[name]
    limit = int(spec.environment.get("SMM_MAX_INPUT_BYTES", RenderSettings.model_fields[
        "max_input_bytes"].default))  # fmt: skip
    cache = min(2 * 1024**3, int(spec.ephemeral_mb * 1024**2 * CACHE_SHARE))
    assert cache >= limit, (
        f"{name}: /tmp {spec.ephemeral_mb} MB leaves {cache} bytes for inputs; the input "
        f"limit is {limit} bytes: raise EphemeralStorage or lower SMM_MAX_INPUT_BYTES"
    )
