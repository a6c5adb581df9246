"""The creative-engine plugin in a real Payload 3: the engine's fields are the engine's
(editors read them, only its API user writes them), and a late, older report never
overwrites a newer one."""

from __future__ import annotations

import uuid

import pytest

from smm_local.stack import LocalStack

pytestmark = pytest.mark.integration


def test_editors_read_the_engine_fields_but_cannot_change_them(stack: LocalStack) -> None:
    payload = stack.payload
    assert payload is not None
    editor_key = f"editor-{uuid.uuid4().hex}"
    status, _ = payload.call("POST", "users", {
        "email": f"editor-{uuid.uuid4().hex[:6]}@example.com", "password": uuid.uuid4().hex,
        "enableAPIKey": True, "apiKey": editor_key})
    assert status == 201
    doc = f"plug-{uuid.uuid4().hex[:6]}"
    payload.create_doc("posts", doc)
    assert payload.call("PATCH", f"posts/{doc}", {"engineStage": "rendering",
                                                  "engineSeq": 1})[0] == 200
    status, _ = payload.call("PATCH", f"posts/{doc}", {
        "title": "edited by a human", "engineStage": "published",
        "enginePostizPostIds": ["forged"]}, key=editor_key)
    assert status == 200
    held = payload.doc("posts", doc)
    assert held is not None and held["title"] == "edited by a human"
    assert held["engineStage"] == "rendering" and held["enginePostizPostIds"] is None
    status, seen = payload.call("GET", f"posts/{doc}", key=editor_key)
    assert status == 200 and seen["engineStage"] == "rendering"  # and they can read them


def test_a_late_older_report_never_overwrites_a_newer_one(stack: LocalStack) -> None:
    payload = stack.payload
    assert payload is not None
    doc = f"plug-{uuid.uuid4().hex[:6]}"
    payload.create_doc("posts", doc)
    payload.call("PATCH", f"posts/{doc}", {"engineStage": "published", "engineSeq": 6,
                                           "enginePostizPostIds": ["p-1"]})
    status, _ = payload.call("PATCH", f"posts/{doc}", {"engineStage": "approved",
                                                       "engineSeq": 4, "title": "kept"})
    assert status == 200
    held = payload.doc("posts", doc)
    assert held is not None and held["engineStage"] == "published"
    assert held["enginePostizPostIds"] == ["p-1"] and held["title"] == "kept"


def test_a_report_to_a_document_that_does_not_exist_is_a_404(stack: LocalStack) -> None:
    payload = stack.payload
    assert payload is not None
    status, _ = payload.call("PATCH", f"posts/missing-{uuid.uuid4().hex[:6]}",
                             {"engineStage": "rendering"})
    assert status == 404
