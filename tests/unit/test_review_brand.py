"""The review page's brand band: readable text on any brand colour, only colours reach the
style, the logo only where the trigger may read it, hostile names escaped."""

from __future__ import annotations

import pytest

from functions.trigger.review_brand import contrast, logo_readable, readable_on, theme
from functions.trigger.review_page import review_page
from smm_runtime.contract.workflow_io import BrandLook


@pytest.mark.parametrize(
    "colour",
    ["#000000", "#1e3a8a", "#777777", "#f59e0b", "#ffff00", "#ffffff", "#00ff00", "#ff0000"],
)
def test_text_on_the_band_is_the_more_readable_of_white_and_ink(colour: str) -> None:
    ink = readable_on(colour)
    other = "#111827" if ink == "#ffffff" else "#ffffff"
    assert contrast(ink, colour) >= contrast(other, colour)
    assert contrast(ink, colour) >= 4.4  # both fail only on mid-greys no brand should pick


def test_contrast_is_wcag_relative_luminance() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert contrast("#1e3a8a", "#1e3a8a") == 1.0


@pytest.mark.parametrize(
    ("uri", "readable"),
    [
        ("s3://demo-bucket/shared/demo/logo.png", True),
        ("s3://demo-bucket/brand-kits/logo.png", True),
        ("s3://demo-bucket/accounts/acme/brand-kits/logo.svg", True),
        ("s3://demo-bucket/accounts/acme/renders/x.png", False),  # not where logos live
        ("s3://demo-bucket/accounts/acme/brand-kits/../../other/secret.png", False),
        ("s3://demo-bucket/elsewhere/logo.png", False),
        ("https://example.com/logo.png", False),
    ],
)
def test_the_logo_is_shown_only_where_the_trigger_may_read(uri: str, readable: bool) -> None:
    assert logo_readable(uri) is readable
    look = BrandLook(name="Acme", logo=uri) if uri.startswith("s3://") else BrandLook(name="A")
    shown = theme(look, lambda u: f"https://signed/{u.rsplit('/', 1)[-1]}")
    assert shown is not None
    assert (shown.logo_url is not None) is (readable and uri.startswith("s3://"))


def test_a_missing_logo_shows_the_name_alone_not_a_broken_image() -> None:
    shown = theme(BrandLook(name="Acme", logo="s3://demo-bucket/shared/gone.png"), lambda _: None)
    assert shown is not None and shown.logo_url is None
    assert "<img" not in shown.header() and "Acme" in shown.header()


def test_the_kit_colours_theme_the_page_and_nothing_else_reaches_the_style() -> None:
    look = BrandLook.model_construct(
        name='<script>alert(1)</script>"',
        colors={"primary": "#FFEE00", "accent": "red;x:url(//e)"},
        logo=None,
    )
    shown = theme(look, None)
    assert shown is not None
    assert (shown.primary, shown.accent, shown.ink) == ("#ffee00", "#f59e0b", "#111827")
    html = review_page(
        workflow_id="wf",
        reviewer="ana",
        round_=1,
        expires="2026-12-01 10:00",
        media=[],
        post=None,
        approvals=[],
        action="x",
        csrf="c",
        editable={},
        brand=shown,
    )
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "url(//e)" not in html
    assert "--brand: #ffee00; --brand-ink: #111827; --brand-accent: #f59e0b; }" in html


def test_renders_from_before_brands_keep_the_plain_page() -> None:
    assert theme(None, None) is None
    html = review_page(
        workflow_id="wf",
        reviewer="ana",
        round_=1,
        expires="x",
        media=[],
        post=None,
        approvals=[],
        action="x",
        csrf="c",
        editable={},
    )
    assert 'class="brand"' not in html
