"""The review page in a real browser (Debian's Chromium, headless, driven by Playwright):
open the link, watch the video play, approve, and the workflow publishes; request changes
and the next round's link arrives; tampered and expired links are refused. Screenshots at
phone and desktop widths are saved under test-artifacts/."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from smm_local.demo_assets import carousel_spec
from smm_local.stack import LocalStack
from smm_runtime.review_links import ReviewClaim, sign_link
from tests.integration.conftest import ARTIFACTS, video_spec
from tests.integration.test_review_links import link_for, stage
from tests.integration.test_trigger_api import call, default_queue_worker, publish_body

pytestmark = [pytest.mark.integration, pytest.mark.browser]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
__all__ = ["default_queue_worker"]  # the module fixture, shared


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        await launched.close()


def contrast(fg: str, bg: str) -> float:
    def luminance(css: str) -> float:
        r, g, b = (int(v) / 255 for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


async def accessible(page: Page) -> None:
    unlabeled = await page.evaluate("""() => [...document.querySelectorAll(
        'textarea, input:not([type=hidden])')].filter(e => !e.labels || !e.labels.length)
        .map(e => e.name)""")
    assert unlabeled == []
    for name in ("Approve", "Reject", "Request changes"):
        button = page.get_by_role("button", name=name)
        colours: dict[str, Any] = await button.evaluate(
            "b => ({fg: getComputedStyle(b).color, bg: getComputedStyle(b).backgroundColor})"
        )
        assert contrast(colours["fg"], colours["bg"]) >= 4.5, (name, colours)
    # Keyboard order: comment, the creative's text fields, then the decisions.
    await page.locator("form textarea, form input[type=text]").last.focus()
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Approve"


async def on_brand(page: Page) -> None:
    """The page wears the render's brand kit (the demo kit: Demo Co., #1E3A8A and #F59E0B,
    an orange logo): a band in its primary colour with the logo (loaded) and the name in a
    readable colour, the accent under it."""
    band = page.locator("header.brand")
    assert await band.locator(".name").inner_text() == "Demo Co."
    look: dict[str, Any] = await band.evaluate("""async (h) => { const img = h.querySelector('img');
        await img.decode(); const s = getComputedStyle(h);
        return {bg: s.backgroundColor, fg: getComputedStyle(h.querySelector('.name')).color,
                accent: s.borderBottomColor, logo: img.naturalWidth, alt: img.alt}; }""")
    assert look["bg"] == "rgb(30, 58, 138)" and look["accent"] == "rgb(245, 158, 11)", look
    assert look["logo"] == 512 and look["alt"] == "Demo Co. logo", look
    assert contrast(look["fg"], look["bg"]) >= 4.5, look
    # The post comes from the brand: its logo as the avatar, its name above the text.
    assert await page.locator(".post .author").inner_text() == "Demo Co."
    assert (
        await page.locator(".post img.avatar").evaluate(
            "async (i) => { await i.decode(); return i.naturalWidth; }"
        )
        == 512
    )


async def test_a_reviewer_watches_the_video_and_approves_on_a_phone(
    stack: LocalStack, assets: dict[str, str], browser: Browser, default_queue_worker: None
) -> None:
    doc = f"vid{uuid.uuid4().hex[:8]}"
    body = publish_body(assets, doc)
    body["creative"] = {"kind": "video", "spec": video_spec(assets, presets=["9:16", "16:9"])}
    code, started = call(stack, "POST", "/v1/publish", body)
    assert code == 202, started
    await stage(stack, started["workflow_id"], "awaiting_approval")
    link = await link_for(stack, doc, 1)

    desktop = await browser.new_page(viewport={"width": 1280, "height": 900})
    await desktop.goto(link)
    # A tab per format; each player has a poster that loads and the video's own shape, and
    # fits the screen (no 1,000-pixel black box).
    assert await desktop.locator(".formats > label").all_inner_texts() == [
        "9:16 portrait",
        "16:9 landscape",
    ]
    await on_brand(desktop)
    chosen = await desktop.locator(".formats > input:checked + label").evaluate(
        "l => ({bg: getComputedStyle(l).backgroundColor, fg: getComputedStyle(l).color})"
    )
    assert chosen["bg"] == "rgb(30, 58, 138)" and contrast(chosen["fg"], chosen["bg"]) >= 4.5
    for tab, ratio in (("9:16 portrait", 9 / 16), ("16:9 landscape", 16 / 9)):
        await desktop.get_by_text(tab, exact=True).click()
        player = desktop.locator(".panel:visible .player")
        box = await player.bounding_box()
        assert box is not None and box["height"] <= 0.8 * 900, box
        assert abs(box["width"] / box["height"] - ratio) < 0.02, box
        poster = await player.locator("video").get_attribute("poster")
        assert poster is not None
        loaded = await desktop.evaluate(
            """async (url) => { const i = new Image(); i.src = url;
            await i.decode(); return i.naturalWidth; }""",
            poster,
        )
        assert loaded > 0
        # Under the player, a contact sheet: a still from each scene (rows of four).
        sheet = desktop.locator(".panel:visible .sheet img")
        assert "each scene" in (await sheet.get_attribute("alt") or "")
        size = await sheet.evaluate("""async (img) => { await img.decode();
            return {w: img.naturalWidth, h: img.naturalHeight}; }""")
        assert size["w"] > size["h"] > 0, size  # two scenes: one row of two
        await desktop.screenshot(
            path=str(ARTIFACTS / f"review-page-desktop-{tab[:4]}.png"), full_page=True
        )
    assert await desktop.locator(".post .thumb").count() == 1
    await desktop.close()

    page = await browser.new_page(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    await page.goto(link)
    assert await page.title() == "Review round 1"
    await accessible(page)
    await on_brand(page)
    played = await page.evaluate("""async () => {
        const v = document.querySelector('video');
        v.muted = true; await v.play();
        await new Promise(r => setTimeout(r, 800));
        return {time: v.currentTime, width: v.videoWidth, ready: v.readyState}; }""")
    assert played["time"] > 0 and played["width"] > 0, played
    box = await page.locator(".panel:visible .player").bounding_box()
    assert box is not None and box["width"] <= 390 and box["height"] <= 0.8 * 844, box
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390  # nothing wider than the phone
    await page.screenshot(path=str(ARTIFACTS / "review-page-phone.png"), full_page=True)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Approve").tap()
    content = await page.content()
    assert "Round 1 was approved" in content, content[:3000]
    assert (await stage(stack, started["workflow_id"], "published"))["postiz_post_ids"]
    await page.close()


async def test_request_changes_then_the_new_link_and_refusals_in_the_browser(
    stack: LocalStack, assets: dict[str, str], browser: Browser, default_queue_worker: None
) -> None:
    doc = f"img{uuid.uuid4().hex[:8]}"
    code, started = call(stack, "POST", "/v1/publish", publish_body(assets, doc))
    assert code == 202, started
    workflow_id = started["workflow_id"]
    await stage(stack, workflow_id, "awaiting_approval")
    first = await link_for(stack, doc, 1)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(first)
    await page.get_by_label("Comment").fill("More contrast, please")
    # The page offers the creative's own text (a quote card: quote and author), nothing else.
    offered = await page.locator("fieldset input").evaluate_all("es => es.map(e => e.name)")
    assert offered == ["edit:props.quote", "edit:props.author"]
    await page.get_by_label("Quote").fill("Ship it today, with contrast")
    await page.get_by_role("button", name="Request changes").click()
    await page.wait_for_selector("text=sent back for changes (1 text changes)")
    second = await link_for(stack, doc, 2)
    await page.goto(second)
    assert await page.title() == "Review round 2"
    assert await page.get_by_label("Quote").input_value() == "Ship it today, with contrast"
    assert "More contrast, please" in await page.inner_text("section[aria-labelledby=hist-h]")

    await page.goto(first)  # the older round's link
    assert "out of date" in await page.inner_text("h1")
    await page.goto(second[:-4] + "AAAA")
    assert "cannot be used" in await page.inner_text("h1")
    expired = f"{stack.trigger_url}/review/" + quote(
        sign_link(
            stack.review_secret.encode(),
            ReviewClaim(
                workflow_id, 2, "ana@example.com", datetime.now(UTC) - timedelta(minutes=1)
            ),
        )
    )
    await page.goto(expired)
    assert "expired" in await page.inner_text("main")
    assert (await stage(stack, workflow_id, "awaiting_approval"))["round"] == 2
    await page.close()


async def test_a_carousel_is_a_strip_of_slides_to_swipe_on_a_phone(
    stack: LocalStack, assets: dict[str, str], browser: Browser, default_queue_worker: None
) -> None:
    doc = f"car{uuid.uuid4().hex[:8]}"
    body = publish_body(assets, doc)
    body["creative"] = {"kind": "image", "spec": carousel_spec(assets)}
    code, started = call(stack, "POST", "/v1/publish", body)
    assert code == 202, started
    await stage(stack, started["workflow_id"], "awaiting_approval")
    page = await browser.new_page(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    await page.goto(await link_for(stack, doc, 1))
    await on_brand(page)
    strip = page.locator(".strip")
    assert await strip.locator("figure").count() == 3
    sizes = await strip.evaluate("s => ({scroll: s.scrollWidth, client: s.clientWidth})")
    assert sizes["scroll"] > sizes["client"] * 2, sizes  # one slide at a time, the rest aside
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390  # the page not
    await strip.evaluate("s => s.scrollBy({left: s.clientWidth})")
    await page.wait_for_timeout(300)
    assert await strip.evaluate("s => s.scrollLeft") > 0
    await page.screenshot(path=str(ARTIFACTS / "review-page-carousel-phone.png"), full_page=True)
    await page.close()
