"""Payload's real admin (Next.js, `@payloadcms/next`, built by `make admin`) with the
creative-engine plugin, in Debian's Chromium: editors and viewers sign in with a password as
they would in production, and the plugin's status panel is part of each post. Screenshots at
phone and desktop widths are saved under test-artifacts/ (admin-*.png)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from smm_local.payload_app import Person
from smm_local.stack import LocalStack
from tests.integration.conftest import ARTIFACTS
from tests.integration.test_review_page_browser import ARGS, CHROMIUM

pytestmark = [pytest.mark.integration, pytest.mark.browser]
EDITOR = Person("editor@example.com", secrets.token_urlsafe(12), ("editor",))
VIEWER = Person("viewer@example.com", secrets.token_urlsafe(12), ("viewer",))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def admin_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack of its own whose Payload is the Next.js admin (the session's stack serves
    Payload's REST handler only)."""
    ARTIFACTS.mkdir(exist_ok=True)
    with (
        (ARTIFACTS / "admin-stack.log").open("w") as log,
        LocalStack(
            state_dir=tmp_path_factory.mktemp("admin-stack"),
            log=log,
            payload_admin=True,
            payload_people=(EDITOR, VIEWER),
        ) as running,
    ):
        running.start_worker()
        yield running


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        await launched.close()


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


def shot(name: str) -> str:
    return str(Path(ARTIFACTS) / f"admin-{name}.png")


async def test_the_admin_refuses_a_wrong_password_and_keeps_the_api_closed(
    admin_stack: LocalStack, browser: Browser
) -> None:
    assert admin_stack.payload is not None
    page = await browser.new_page()
    await page.goto(f"{admin_stack.payload.url}/admin/login")
    await page.get_by_label("Email").fill(EDITOR.email)
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Login").click()
    await page.get_by_text("The email or password provided is incorrect.").wait_for()
    assert page.url.endswith("/admin/login")
    # The same Next.js server answers the REST API, with the same access control.
    answer = await page.request.get(f"{admin_stack.payload.url}/api/posts")
    assert answer.status == 403
    await page.close()


async def test_an_editor_signs_in_and_each_post_carries_the_engine_panel(
    admin_stack: LocalStack, browser: Browser
) -> None:
    assert admin_stack.payload is not None
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = await sign_in(browser, admin_stack, EDITOR, viewport)
        await page.goto(f"{admin_stack.payload.url}/admin/collections/posts/create")
        panel = page.locator(".creative-engine-status")
        await panel.wait_for()
        assert await panel.get_attribute("data-stage") == "none"
        assert await panel.inner_text() == "Not sent to the creative engine yet."
        # The engine's fields are the engine's: read-only for an editor.
        assert await page.locator("#field-engineStage").is_disabled()
        await page.screenshot(path=shot(f"new-post-{name}"), full_page=True)
        await page.close()


async def test_the_engine_keeps_writing_through_the_admins_api(admin_stack: LocalStack) -> None:
    """The worker's API key works against the Next.js server as against the REST one."""
    assert admin_stack.payload is not None
    doc = admin_stack.payload.create_doc("posts", f"adm-{secrets.token_hex(4)}")
    status, answer = admin_stack.payload.call(
        "PATCH", f"posts/{doc['id']}", {"engineStage": "rendering", "engineSeq": 1}
    )
    assert status == 200 and answer["doc"]["engineStage"] == "rendering"
