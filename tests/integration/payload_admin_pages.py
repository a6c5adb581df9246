"""Pages of Payload's admin as the browser tests use them: signing in, a new post, the
media collection, the composer's selects and the channel picker, screenshots."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.async_api import Browser, Page

from smm_local.payload_app import Person
from smm_local.stack import LocalStack
from tests.integration.conftest import ARTIFACTS


async def sign_in(
    browser: Browser, stack: LocalStack, who: Person, viewport: dict[str, int]
) -> Page:
    """Payload's own login form, as a person uses it."""
    assert stack.payload is not None
    page = await browser.new_page(viewport=viewport)  # type: ignore[arg-type]
    await page.goto(f"{stack.payload.url}/admin/login")
    await page.get_by_label("Email").fill(who.email)
    await page.get_by_label("Password").fill(who.password)
    await page.get_by_role("button", name="Login").click()
    await page.wait_for_url("**/admin")
    return page


async def new_post(page: Page, stack: LocalStack, prefix: str) -> str:
    """The posts collection's create view with a fresh id filled in; the id."""
    assert stack.payload is not None
    doc = f"{prefix}{secrets.token_hex(4)}"
    await page.goto(f"{stack.payload.url}/admin/collections/posts/create")
    await page.locator("#field-id").fill(doc)
    return doc


def shot(name: str) -> str:
    return str(Path(ARTIFACTS) / f"admin-{name}.png")


def a_photo(folder: Path) -> Path:
    """An editor's photo: a JPEG with some detail."""
    path = folder / f"team-{secrets.token_hex(3)}.jpg"
    img = Image.new("RGB", (1200, 800), (18, 40, 70))
    draw = ImageDraw.Draw(img)
    for i in range(12):
        x, y, r = (i * 211) % 1200, (i * 137) % 800, 60 + (i * 29) % 120
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(200, 80 + i * 10, 60))
    img.save(path, format="JPEG", quality=90)
    return path


async def upload_photo(page: Page, stack: LocalStack, photo: Path, alt: str) -> None:
    """The media collection's own create view: choose a file, describe it, save."""
    assert stack.payload is not None
    await page.goto(f"{stack.payload.url}/admin/collections/engine-media/create")
    await page.locator("input[type=file]").set_input_files(str(photo))
    await page.get_by_label("Description").fill(alt)
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url(re.compile(r".*/admin/collections/engine-media/\d+$"))


async def choose(page: Page, field: str, option: str) -> None:
    """A Payload select (react-select): open it, pick the option by its label."""
    await page.locator(f"#field-composer__{field}").click()
    await page.locator(".rs__option", has_text=option).first.click()


async def tick(page: Page, channel: str) -> None:
    """A channel of the plugin's picker (the engine's list for the account), by its label."""
    picker = page.locator(".engine-channels")
    await picker.get_by_text(channel, exact=True).click()
    ticked = picker.locator(f"#field-composer__channels-{channel.split(' ')[0]}")
    assert await ticked.is_checked(), channel
