from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from orchestrator.render.resolve import resolve
from smm_runtime.contract.errors import INVALID_REQUEST, UNSUPPORTED_CONTRACT
from smm_runtime.contract.events import SegmentEvent, extract_task_token, parse_event
from smm_runtime.contract.kinds import SegmentRequest
from smm_runtime.contract.validation import ContractError
from smm_runtime.contract.video_spec import VideoSpec
from tests.factories import brand_kit, spec

TOKEN = base64.b64encode(b"secret-task-token-bytes").decode()


def event(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "contract_version": 1,
        "kind": "render_segment",
        "task_token": TOKEN,
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "activity_id": "1",
        "attempt": 1,
        "request": {
            "preset": "9:16",
            "width": 1080,
            "height": 1920,
            "crf": 21,
            "start_frame": 0,
            "end_frame": 30,
            "bucket": "out-bucket",
            "timeline": resolve(VideoSpec.model_validate(spec()), brand_kit()).model_dump(
                mode="json"
            ),
        },
    }
    return {**base, **overrides}


def test_valid_event_parses_into_the_kind_model() -> None:
    parsed = parse_event(event())
    assert isinstance(parsed, SegmentEvent)
    assert isinstance(parsed.request, SegmentRequest)
    assert parsed.request.end_frame == 30
    assert parsed.task_token_bytes() == b"secret-task-token-bytes"


def test_unknown_contract_version_is_refused_with_how_to_fix() -> None:
    with pytest.raises(ContractError) as err:
        parse_event(event(contract_version=2))
    assert err.value.error_type == UNSUPPORTED_CONTRACT
    assert err.value.field == "contract_version"
    assert "same release" in str(err.value)


def test_invalid_request_names_the_field() -> None:
    bad = event()
    bad["request"]["crf"] = 99
    with pytest.raises(ContractError) as err:
        parse_event(bad)
    assert err.value.error_type == INVALID_REQUEST
    assert "render_segment.request.crf" in str(err.value)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ContractError) as err:
        parse_event(event(kind="render_hologram"))
    assert "kind" in str(err.value)


def test_task_token_is_masked_in_repr_but_sent_in_json() -> None:
    parsed = parse_event(event())
    assert TOKEN not in repr(parsed)
    assert TOKEN not in str(parsed)
    assert json.loads(parsed.model_dump_json())["task_token"] == TOKEN


def test_token_is_extracted_even_from_an_invalid_event() -> None:
    assert (
        extract_task_token({"task_token": TOKEN, "request": "nonsense"})
        == b"secret-task-token-bytes"
    )
    assert extract_task_token({"task_token": "not base64!!"}) is None
    assert extract_task_token("not an object") is None
