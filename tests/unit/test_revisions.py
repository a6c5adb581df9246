"""A revision changes the creative's own text, at the paths it has, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.publish.revisions import EditError, apply_edits, editable


def test_a_template_offers_its_text_props_only() -> None:
    spec = {
        "template": "promo_card",
        "props": {"headline": "Sale", "cta": "Buy", "price": 49, "image": "s3://b-b/i.png"},
    }
    assert editable("image", spec) == {"props.headline": "Sale", "props.cta": "Buy"}


def test_a_video_offers_its_scene_texts_and_captions() -> None:
    spec: dict[str, Any] = {
        "scenes": [{"texts": [{"text": "One"}, {"text": "Two"}]}, {"texts": []}],
        "captions": [{"text": "Hello", "start_s": 0, "end_s": 1}],
    }
    assert editable("video", spec) == {
        "scenes.0.texts.0.text": "One",
        "scenes.0.texts.1.text": "Two",
        "captions.0.text": "Hello",
    }
    edited = apply_edits("video", spec, {"scenes.0.texts.1.text": "Deux"})
    assert edited["scenes"][0]["texts"] == [{"text": "One"}, {"text": "Deux"}]
    assert spec["scenes"][0]["texts"][1]["text"] == "Two"  # the original is untouched


def test_a_carousel_offers_each_slides_text() -> None:
    spec = {"carousel": [{"title": "A", "body": "a"}, {"title": "B"}]}
    edited = apply_edits("image", spec, {"carousel.1.title": "Bee"})
    assert edited["carousel"][1] == {"title": "Bee"}


@pytest.mark.parametrize(
    ("edits", "named"),
    [
        ({"props.price": "0"}, "edits.props.price: this creative has no such text"),
        ({"props.headline": "  "}, "edits.props.headline: give 1 to 80 characters"),
        ({"props.cta": "x" * 31}, "edits.props.cta: give 1 to 30 characters"),
        ({"scenes.9.texts.0.text": "x"}, "edits.scenes.9.texts.0.text"),
    ],
)
def test_an_edit_the_creative_cannot_take_is_refused_naming_the_path(
    edits: dict[str, str], named: str
) -> None:
    spec = {"template": "promo_card", "props": {"headline": "Sale", "cta": "Buy", "price": 49}}
    with pytest.raises(EditError, match=named.replace(".", r"\.")):
        apply_edits("image", spec, edits)


def test_the_template_limits_are_the_node_functions_own() -> None:
    """The committed props schemas equal what the Node function checks (make schema)."""
    import json
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    printed = subprocess.run(
        ["node", "scripts/template-schemas.mjs"],
        cwd=root / "functions" / "render_image",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    committed = (root / "layers/runtime/smm_runtime/contract/template_props.json").read_text()
    assert json.loads(committed) == json.loads(printed), "drifted: run 'make schema'"
