"""The review page in the brand's clothes: a band in the kit's primary colour with its logo and
name, the kit's accent on the chosen format tab. The reviewer sees whose creative this is
before anything else.

Colours come from the render's result (the kit it was drawn with, validated as #RRGGBB when
the kit was loaded); a value of any other shape is dropped here too, so nothing but a colour
reaches the style attribute. Text on the band is white or ink, whichever contrasts more with
the brand's colour (WCAG 2 relative luminance), so a pale brand still gets readable text.

The logo is shown when it sits where the trigger may read: beside brand kits
(``brand-kits/``, ``accounts/<account>/brand-kits/``) or in ``shared/`` (the template grants
the trigger exactly those, and this check keeps the local stack and AWS alike); elsewhere
the band shows the name alone rather than a broken image.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from smm_runtime.contract.workflow_io import BrandLook

HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
INK, WHITE = "#111827", "#ffffff"
DEFAULTS = {"primary": "#1e3a8a", "accent": "#f59e0b"}
LOGO_PREFIXES = (
    re.compile(r"^brand-kits/"),
    re.compile(r"^shared/"),
    re.compile(r"^accounts/[a-z0-9][a-z0-9_-]{0,62}/brand-kits/"),
)

BRAND_STYLE = """
.brand { display: flex; align-items: center; gap: 12px; padding: 12px 16px; margin: -16px -16px
         12px; background: var(--brand); color: var(--brand-ink);
         border-bottom: 4px solid var(--brand-accent); }
.brand img { height: 40px; width: auto; max-width: 160px; object-fit: contain; display: block; }
.brand .name { font-weight: 700; font-size: 1.1rem; }
.formats > input:checked + label { background: var(--brand, var(--ink));
                                   color: var(--brand-ink, #fff);
                                   border-color: var(--brand-accent, var(--ink)); }
"""


@dataclass(frozen=True)
class Theme:
    name: str
    primary: str
    accent: str
    ink: str  # the text colour on the primary band
    logo_url: str | None

    def header(self) -> str:
        logo = (
            f'<img src="{escape(self.logo_url)}" alt="{escape(self.name or "Brand")} logo">'
            if self.logo_url
            else ""
        )
        name = f'<span class="name">{escape(self.name)}</span>' if self.name else ""
        # On the root, so the format tabs further down wear the brand too.
        return (
            f"<style>:root {{ --brand: {self.primary}; --brand-ink: {self.ink}; "
            f"--brand-accent: {self.accent}; }}</style>"
            f'<header class="brand">{logo}{name}</header>'
        )


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def readable_on(background: str) -> str:
    return WHITE if contrast(WHITE, background) >= contrast(INK, background) else INK


def logo_readable(uri: str) -> bool:
    """Whether the trigger may read the logo (see the module docstring)."""
    if not uri.startswith("s3://"):
        return False
    key = uri.removeprefix("s3://").partition("/")[2]
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return False
    return any(prefix.match(key) for prefix in LOGO_PREFIXES)


def theme(look: BrandLook | None, present: Callable[[str], str | None] | None) -> Theme | None:
    """The page's theme for the render's brand; None for renders from before brands."""
    if look is None:
        return None
    colours = {k: v.lower() for k, v in look.colors.items() if HEX.match(v)}
    primary = colours.get("primary", DEFAULTS["primary"])
    accent = colours.get("accent", DEFAULTS["accent"])
    logo_url = present(look.logo) if look.logo and present and logo_readable(look.logo) else None
    return Theme(
        name=look.name[:80],
        primary=primary,
        accent=accent,
        ink=readable_on(primary),
        logo_url=logo_url,
    )
