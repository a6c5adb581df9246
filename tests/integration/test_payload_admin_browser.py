"""Payload's real admin (Next.js, `@payloadcms/next`, built by `make admin`) with the
creative-engine plugin, in Debian's Chromium: editors and viewers sign in with a password as
they would in production, and the plugin's status panel is part of each post. Screenshots at
phone and desktop widths are saved under test-artifacts/ (admin-*.png)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from orchestrator.publish.workflow import PublishCreativeWorkflow
from smm_local.demo_assets import upload_demo_assets
from smm_local.payload_app import Person
from smm_local.stack import LocalStack
from smm_runtime.ledger import Ledger
from smm_runtime.temporal_conn import connect
from tests.integration.conftest import ARTIFACTS
from tests.integration.payload_admin_pages import (
    a_photo,
    choose,
    new_post,
    shot,
    sign_in,
    tick,
    upload_photo,
)
from tests.integration.test_cli_status import cli
from tests.integration.test_review_page_browser import browser

pytestmark = [pytest.mark.integration, pytest.mark.browser]
__all__ = ["browser"]  # the review page tests' Chromium fixture, shared
EDITOR = Person("editor@example.com", secrets.token_urlsafe(12), ("editor",))
VIEWER = Person("viewer@example.com", secrets.token_urlsafe(12), ("viewer",))
PHONE = {"width": 390, "height": 844}
ACCOUNT = "editors"
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
            payload_account=ACCOUNT,
        ) as running,
    ):
        upload_demo_assets(running.s3(), running.bucket, music_seconds=4)  # the "demo" kit
        # The editors' account: credits, and the channels the operator lets it post to.
        Ledger(running.dynamodb(), running.ledger_table).grant(ACCOUNT, 100_000, "admin-test")
        allowed = cli(running, "channels", "allow", ACCOUNT, "x-1", "li-2")
        assert allowed.returncode == 0, allowed.stderr
        running.start_worker()
        yield running
        # Payload's uploads and reads went through as template.yaml's PayloadMediaPolicy.
        denied = [d for d in running.iam_seen()["denials"] if "iam-probe" not in d["resource"]]
    assert not denied, f"the template's IAM denied: {denied}"


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
        # The engine's fields are the engine's: the panel presents them, no raw field shows.
        assert not await page.locator("#field-engineStage").is_visible()
        # Composing needs no JSON: the plugin's fields, and no JSON editor on the page.
        await page.get_by_label("Headline").wait_for()
        assert await page.locator(".json-field, .code-editor").count() == 0
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


async def test_editors_choose_among_the_channels_the_engine_lists_for_the_account(
    admin_stack: LocalStack, browser: Browser
) -> None:
    """The picker offers what the operator allowed the account (x-1, li-2) as Postiz names
    them, not the organisation's other channels; a save naming one of those is refused on
    the Channels field by Payload (the field's server-side check), before the engine."""
    assert admin_stack.payload is not None
    page = await sign_in(browser, admin_stack, EDITOR, DESKTOP)
    await new_post(page, admin_stack, "chn")
    picker = page.locator(".engine-channels")
    await picker.locator("input[type=checkbox]").first.wait_for()
    assert await picker.locator("label").all_inner_texts() == [
        "Channels",
        "li-2 (linkedin)",
        "x-1 (x)",
    ]
    composed = {
        "kind": "image",
        "headline": "Elsewhere",
        "caption": "Not ours",
        "brandKit": "demo",
        "channels": ["x-1", "fb-3"],
        "ready": True,
    }
    url = f"{admin_stack.payload.url}/api/posts"
    refused = await page.request.post(url, data={"id": "chn-refused", "composer": composed})
    assert refused.status == 400, await refused.text()
    problem = (await refused.json())["errors"][0]["data"]["errors"][0]
    assert problem["path"] == "composer.channels", problem
    assert problem["message"].startswith("fb-3: not a channel this account may post to")
    assert admin_stack.payload.doc("posts", "chn-refused") is None
    # The list itself is for people signed in to this Payload only.
    listing = await page.request.get(f"{url}/engine-channels")
    assert [c["id"] for c in (await listing.json())["channels"]] == ["li-2", "x-1"]
    anonymous = await browser.new_page()
    assert (await anonymous.request.get(f"{url}/engine-channels")).status == 401
    await anonymous.close()
    await page.close()


async def test_the_plugin_speaks_the_admins_language(
    admin_stack: LocalStack, browser: Browser
) -> None:
    """A German browser gets Payload's admin in German, and the plugin's fields, picker,
    panel and refusals in German too (Payload's i18n: `{en, de}` labels, the plugin's
    strings registered under `creativeEngine` and read with Payload's `t`)."""
    assert admin_stack.payload is not None
    context = await browser.new_context(locale="de-DE", viewport=DESKTOP)  # type: ignore[arg-type]
    page = await context.new_page()
    await page.goto(f"{admin_stack.payload.url}/admin/login")
    await page.get_by_label("E-Mail").fill(EDITOR.email)
    await page.get_by_label("Passwort").fill(EDITOR.password)
    await page.get_by_role("button", name="Anmelden").click()
    await page.wait_for_url("**/admin")
    await page.goto(f"{admin_stack.payload.url}/admin/collections/posts/create")
    panel = page.locator(".creative-engine-status")
    await panel.wait_for()
    assert await panel.inner_text() == "Noch nicht an die Creative Engine gesendet."
    await page.get_by_label("Überschrift").wait_for()
    picker = page.locator(".engine-channels")
    await picker.locator("input[type=checkbox]").first.wait_for()
    assert (await picker.locator("label").all_inner_texts())[0] == "Kanäle"
    assert "Wo es veröffentlicht wird" in await picker.inner_text()
    await page.screenshot(path=shot("new-post-german"), full_page=True)
    refused = await page.request.post(
        f"{admin_stack.payload.url}/api/posts",
        data={"id": "chn-de", "composer": {"kind": "image", "channels": ["fb-3"]}},
        headers={"Accept-Language": "de-DE"},
    )
    problem = (await refused.json())["errors"][0]["data"]["errors"][0]
    assert problem["message"].startswith("fb-3: Auf diesem Kanal darf dieses Konto nicht"), problem
    await context.close()


async def test_an_editor_composes_with_an_uploaded_photo_and_the_engine_renders_it(
    admin_stack: LocalStack, browser: Browser, tmp_path: Path
) -> None:
    assert admin_stack.payload is not None
    page = await sign_in(browser, admin_stack, EDITOR, DESKTOP)
    photo = a_photo(tmp_path)
    await upload_photo(page, admin_stack, photo, "The team at work")
    # The storage adapter wrote it to the engine's bucket, under the account's prefix.
    media = f"accounts/{ACCOUNT}/payload-media/"
    keys = [
        o["Key"]
        for o in admin_stack.s3()
        .list_objects_v2(Bucket=admin_stack.bucket, Prefix=media)
        .get("Contents", [])
    ]
    assert keys == [f"{media}{photo.name}"]

    doc = await new_post(page, admin_stack, "adm")
    await page.locator("#field-title").fill("Spring launch")
    await page.get_by_label("Headline").fill("Made for spring")
    await page.get_by_label("Byline").fill("Ana")
    await page.locator("#field-composer__caption").fill("Our spring range is here")
    await page.get_by_role("button", name="Choose from existing").click()
    await page.locator(".list-drawer").get_by_text("The team at work").first.click()
    await tick(page, "x-1 (x)")
    await page.get_by_label("Ready: send it to the creative engine").check()
    await page.screenshot(path=shot("composed-desktop"), full_page=True)
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url(f"**/admin/collections/posts/{doc}")

    # The panel follows the engine by itself (no reload): sending, rendering, then the
    # render to review, with the decision form for an editor.
    panel = page.locator(".creative-engine-status")
    await page.locator('.creative-engine-status[data-stage="awaiting_approval"]').wait_for(
        timeout=90_000
    )
    preview = page.locator(".creative-engine-previews img").first
    assert await preview.evaluate("async (i) => { await i.decode(); return i.naturalWidth; }") > 0
    assert await page.get_by_role("button", name="Approve").is_visible()
    await page.screenshot(path=shot("awaiting-approval-desktop"), full_page=True)
    # The engine was asked for what the editor composed: the uploaded photo as an s3://
    # object (never a URL), the headline, the channel with its settings.
    client = await connect(environ=admin_stack.env())
    history = await client.get_workflow_handle(f"payload-posts-{doc}").fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    (asked,) = await client.data_converter.decode(started.input.payloads)  # JSON, untyped
    props = asked["creative"]["spec"]["props"]
    assert props == {
        "quote": "Made for spring",
        "author": "Ana",
        "avatar": f"s3://{admin_stack.bucket}/{media}{photo.name}",
    }
    assert asked["account"] == ACCOUNT
    assert asked["post"]["integrations"] == ["x-1"]
    assert asked["post"]["channel_settings"] == {"x-1": {"who_can_reply_post": "everyone"}}

    # A viewer sees the same panel and preview, and no decision.
    viewer = await sign_in(browser, admin_stack, VIEWER, PHONE)
    await viewer.goto(f"{admin_stack.payload.url}/admin/collections/posts/{doc}")
    await viewer.locator('.creative-engine-status[data-stage="awaiting_approval"]').wait_for()
    await viewer.locator(".creative-engine-previews img").first.wait_for()
    assert await viewer.get_by_role("button", name="Approve").count() == 0
    assert await viewer.get_by_role("button", name="Request changes").count() == 0
    assert await viewer.locator("#field-composer__headline").is_disabled()  # read-only post
    await viewer.screenshot(path=shot("viewer-phone"), full_page=True)
    # Nor can the viewer decide through the API behind the buttons.
    refused = await viewer.request.post(
        f"{admin_stack.payload.url}/api/posts/{doc}/engine-decision",
        data={"decision": "approve"},
    )
    assert refused.status == 403
    await viewer.close()

    # Bad input through the API behind the buttons: a clear 400 naming the field, and the
    # publish still waits for a decision (nothing taken, nothing lost).
    api = f"{admin_stack.payload.url}/api/posts/{doc}/engine-decision"
    for body, field in (
        ({"decision": "maybe"}, "decision"),
        ({"decision": "revise", "edits": {"props.quote": 5}}, "edits"),
    ):
        answer = await page.request.post(api, data=body)
        error = (await answer.json())["errors"][0]
        assert answer.status == 400 and field in error.get("field", ""), (body, error)
    retry = await page.request.post(f"{admin_stack.payload.url}/api/posts/{doc}/engine-retry")
    assert retry.status == 409  # only a publish Postiz failed can be retried
    await page.reload()
    await panel.wait_for()
    assert await panel.get_attribute("data-stage") == "awaiting_approval"

    # The editor asks for a warmer headline; round 2 renders it and waits again.
    await page.get_by_label("Comment").fill("Warmer, please")
    await page.get_by_label("Quote").fill("Made for a warm spring")
    await page.get_by_role("button", name="Request changes").click()
    await page.get_by_text("round 2").wait_for(timeout=90_000)
    await page.locator('.creative-engine-status[data-stage="awaiting_approval"]').wait_for(
        timeout=90_000
    )
    assert await page.get_by_label("Quote").input_value() == "Made for a warm spring"
    last = page.locator(".creative-engine-last-decision")
    assert await last.inner_text() == "Round 1: revise by editor@example.com"
    await page.get_by_role("button", name="Approve").click()
    live = page.locator(".creative-engine-live a")
    await live.wait_for(timeout=120_000)
    assert (await live.inner_text()).startswith("https://")
    await panel.get_by_text("published").wait_for()
    await page.screenshot(path=shot("published-desktop"), full_page=True)
    phone = await sign_in(browser, admin_stack, EDITOR, PHONE)
    await phone.goto(f"{admin_stack.payload.url}/admin/collections/posts/{doc}")
    await phone.locator(".creative-engine-live a").wait_for()
    await phone.screenshot(path=shot("published-phone"), full_page=True)
    await phone.close()

    # Recorded as the person who decided, in the workflow and on the document.
    handle = client.get_workflow_handle(f"payload-posts-{doc}")
    status = await handle.query(PublishCreativeWorkflow.status)
    decided = [(a.decision, a.reviewer, a.accepted) for a in status.approvals]
    assert decided == [
        ("revise", "editor@example.com", True),
        ("approve", "editor@example.com", True),
    ]
    assert admin_stack.payload.stages("posts", doc)[-1] == "published"
    await page.close()


async def test_an_editor_watches_a_video_render_and_retries_the_channel_postiz_failed(
    admin_stack: LocalStack, browser: Browser
) -> None:
    assert admin_stack.payload is not None
    page = await sign_in(browser, admin_stack, EDITOR, DESKTOP)
    doc = await new_post(page, admin_stack, "vid")
    await page.get_by_text("Video", exact=True).click()
    await page.get_by_label("Headline").fill("Spring, in motion")
    await page.locator("#field-composer__caption").fill("Watch our spring range")
    await choose(page, "formats", "16:9")
    await tick(page, "x-1 (x)")
    await tick(page, "li-2 (linkedin)")
    await page.get_by_label("Ready: send it to the creative engine").check()
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url(f"**/admin/collections/posts/{doc}")

    # The bar moves while the segments render, never backwards, with no reload.
    seen: list[int] = []
    awaiting = page.locator('.creative-engine-status[data-stage="awaiting_approval"]')
    for _ in range(600):
        if await awaiting.count():
            break
        bar = page.locator(".creative-engine-status progress")
        if await bar.count():
            value = await bar.get_attribute("value")
            if value is not None and (not seen or int(value) != seen[-1]):
                seen.append(int(value))
        await page.wait_for_timeout(200)
    await awaiting.wait_for()
    assert len(seen) >= 2 and seen == sorted(seen), seen
    # A player per format, each with its poster, both loaded from short-lived links.
    players = page.locator(".creative-engine-previews video")
    assert await players.count() == 2
    for i in range(2):
        video = players.nth(i)
        assert "X-Amz-Expires=900" in (await video.get_attribute("src") or "")
        ready = await video.evaluate(
            """v => new Promise((ok) => { if (v.readyState >= 1) ok(v.duration);
            v.addEventListener('loadedmetadata', () => ok(v.duration)); v.load(); })"""
        )
        assert abs(ready - 5.5) < 0.1  # two three-second scenes, less the cross-fade
        poster = await video.get_attribute("poster")
        assert poster is not None and await page.evaluate(
            "async (u) => { const i = new Image(); i.src = u; await i.decode(); return i.width; }",
            poster,
        )
    await page.screenshot(path=shot("video-awaiting-approval-desktop"), full_page=True)

    # Postiz fails one channel's post: the document says which, keeps the other's permalink,
    # and offers the retry of that channel only.
    admin_stack.double_control("postiz", fail_next=["the platform refused the media"])
    await page.get_by_role("button", name="Approve").click()
    failed = page.get_by_role("button", name=re.compile(r"^Retry "))
    await failed.wait_for(timeout=120_000)
    channel = (await failed.inner_text()).removeprefix("Retry ")
    assert channel in ("x-1", "li-2")
    other = "li-2" if channel == "x-1" else "x-1"
    assert f"Not published on {channel}" in await page.locator(".creative-engine").inner_text()
    live = page.locator(".creative-engine-live li")
    assert [t.split(":")[0] for t in await live.all_inner_texts()] == [f"Live on {other}"]
    await page.screenshot(path=shot("publish-failed-desktop"), full_page=True)
    await failed.click()
    await page.locator('.creative-engine-status[data-stage="published"]').wait_for(timeout=120_000)
    channels = [t.split(":")[0] for t in await live.all_inner_texts()]
    assert sorted(channels) == ["Live on li-2", "Live on x-1"]
    await page.close()


async def test_a_post_the_engine_refuses_names_the_field_to_fix_and_goes_once_fixed(
    admin_stack: LocalStack, browser: Browser
) -> None:
    assert admin_stack.payload is not None
    page = await sign_in(browser, admin_stack, EDITOR, DESKTOP)
    doc = await new_post(page, admin_stack, "bad")
    await page.get_by_label("Headline").fill("Too much to say")
    # Longer than X takes (280 weighted characters): the engine's preflight refuses it.
    await page.locator("#field-composer__caption").fill("Spring " * 60)
    await tick(page, "x-1 (x)")
    await page.get_by_label("Ready: send it to the creative engine").check()
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url(f"**/admin/collections/posts/{doc}")
    await page.locator('.creative-engine-status[data-stage="invalid"]').wait_for(timeout=60_000)
    alert = await page.locator(".creative-engine-status [role=alert]").inner_text()
    assert alert.startswith("Caption: ") and "x-1" in alert, alert
    await page.screenshot(path=shot("refused-desktop"), full_page=True)
    # Nothing was started: no workflow, no charge; fixed and saved, it goes.
    assert (admin_stack.payload.doc("posts", doc) or {}).get("engineWorkflowId") is None
    await page.locator("#field-composer__caption").fill("Spring is here")
    await page.get_by_role("button", name="Save").click()
    await page.locator('.creative-engine-status[data-stage="awaiting_approval"]').wait_for(
        timeout=90_000
    )
    await page.close()
