"""The review page a signed link opens: the creative, the post, the history, three buttons.

Plain server-rendered HTML (no script needed to decide), every value escaped, readable on a
phone. Media come as short-lived presigned URLs; the page never holds a task token or a
secret, only the link it was opened with and the form's anti-forgery value.
"""

from __future__ import annotations

from html import escape
from typing import Any

from functions.trigger.review_brand import BRAND_STYLE, Theme
from functions.trigger.review_media import MEDIA_STYLE, Media, creative, post_preview

STYLE = """
:root { color-scheme: light; --ink: #111827; --muted: #4b5563; --line: #d1d5db;
        --ok: #065f46; --bad: #991b1b; --ask: #1e3a8a; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #f9fafb; }
main { max-width: 960px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.4rem; margin: 0 0 8px; }
.media { display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px;
        margin: 12px 0; }
.muted { color: var(--muted); }
label { display: block; font-weight: 600; margin: 8px 0 4px; }
textarea, input[type=text] { width: 100%; font: inherit; padding: 8px; border-radius: 6px;
                             border: 1px solid #6b7280; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 12px; }
button { font: inherit; font-weight: 600; color: #fff; border: 0; border-radius: 6px;
         padding: 12px 18px; min-height: 44px; cursor: pointer; flex: 1 1 140px; }
button:focus-visible, a:focus-visible, textarea:focus-visible, input:focus-visible {
  outline: 3px solid #f59e0b; outline-offset: 2px; }
.approve { background: var(--ok); } .reject { background: var(--bad); }
.revise { background: var(--ask); }
"""


def page(title: str, body: str, status_note: str = "") -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)}</title><style>{STYLE}{MEDIA_STYLE}{BRAND_STYLE}</style></head>"
        f"<body><main>{status_note}{body}</main></body></html>"
    )


def message_page(title: str, text: str, live: dict[str, str] | None = None) -> str:
    """A refusal or a confirmation: what happened and what to do next, nothing else; and,
    once Postiz has published them, where the posts are live."""
    links = "".join(
        f'<li>{escape(channel)}: <a href="{escape(url)}" rel="noopener noreferrer">'
        f"{escape(url)}</a></li>"
        for channel, url in sorted((live or {}).items())
        if url.startswith("https://")  # a permalink Postiz reported, never a script URL
    )
    listed = f'<h2>Live</h2><ul class="live">{links}</ul>' if links else ""
    return page(title, f'<h1>{escape(title)}</h1><p role="status">{escape(text)}</p>{listed}')


def edit_label(path: str) -> str:
    """'scenes.0.texts.1.text' -> 'Scene 1, text 2'; 'props.quote' -> 'Quote'."""
    parts = path.split(".")
    if parts[0] == "scenes":
        return f"Scene {int(parts[1]) + 1}, text {int(parts[3]) + 1}"
    if parts[0] == "captions":
        return f"Caption {int(parts[1]) + 1}"
    if parts[0] == "carousel":
        return f"Slide {int(parts[1]) + 1} {parts[2]}"
    return parts[-1].replace("_", " ").capitalize()


def _edit_fields(editable: dict[str, str]) -> str:
    """One field per text the creative has (and nothing else): changed ones are sent."""
    fields = "".join(
        f'<label for="edit-{i}">{escape(edit_label(path))}</label>'
        f'<input type="text" id="edit-{i}" name="edit:{escape(path)}" value="{escape(text)}" '
        f'maxlength="2000">'
        for i, (path, text) in enumerate(editable.items())
    )
    return (
        (f"<fieldset><legend>Text (change it, then Request changes)</legend>{fields}</fieldset>")
        if fields
        else ""
    )


def review_page(
    *,
    workflow_id: str,
    reviewer: str,
    round_: int,
    expires: str,
    media: list[Media],
    post: dict[str, Any] | None,
    approvals: list[dict[str, Any]],
    action: str,
    csrf: str,
    editable: dict[str, str],
    brand: Theme | None = None,
) -> str:
    post = post or {}
    history = (
        "".join(
            f"<li>{escape(str(a.get('at', '')))[:16]} — {escape(str(a.get('reviewer', '')))}: "
            f"{escape(str(a.get('decision', '')))}"
            f"{' (refused)' if not a.get('accepted') else ''}"
            f"{': ' + escape(str(a['comment'])) if a.get('comment') else ''}</li>"
            for a in approvals
        )
        or "<li>No decisions yet.</li>"
    )
    body = f"""{brand.header() if brand else ""}
<h1>Review: round {round_}</h1>
<p class="muted">For {escape(reviewer)} · link valid until {escape(expires)} UTC ·
<span>{escape(workflow_id)}</span></p>
{creative(media)}
{post_preview(post, media, *((brand.name, brand.logo_url) if brand else ()))}
<section class="card" aria-labelledby="hist-h"><h2 id="hist-h">Approval history</h2>
<ul>{history}</ul></section>
<form class="card" method="post" action="{escape(action)}">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<label for="comment">Comment</label>
<textarea id="comment" name="comment" rows="3" maxlength="2000"></textarea>
{_edit_fields(editable)}
<div class="actions">
<button class="approve" type="submit" name="decision" value="approve">Approve</button>
<button class="reject" type="submit" name="decision" value="reject">Reject</button>
<button class="revise" type="submit" name="decision" value="revise">Request changes</button>
</div></form>"""
    return page(f"Review round {round_}", body)
