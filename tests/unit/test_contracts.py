from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from smm_runtime.contracts import (
    BrandedVideoSpec,
    ContractError,
    RenderVideoEvent,
    extract_task_token,
    parse_event,
    parse_spec,
)
from smm_runtime.errors import INVALID_REQUEST, UNSUPPORTED_CONTRACT

TOKEN = base64.b64encode(b"secret-task-token-bytes").decode()


def spec(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "duration_s": 6,
        "background": {"color": "#102030"},
        "title": "Hello",
        "font": "s3://assets-bucket/fonts/brand.ttf",
    }
    return {**base, **overrides}


def event(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "contract_version": 1,
        "kind": "render_video",
        "task_token": TOKEN,
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "activity_id": "1",
        "attempt": 1,
        "request": {"spec": spec(), "output": {"bucket": "out-bucket", "key": "renders/x.mp4"}},
    }
    return {**base, **overrides}


def test_valid_event_parses_into_the_kind_model() -> None:
    parsed = parse_event(event())
    assert isinstance(parsed, RenderVideoEvent)
    assert parsed.request.spec.duration_s == 6
    assert parsed.task_token_bytes() == b"secret-task-token-bytes"


def test_unknown_contract_version_is_refused_with_how_to_fix() -> None:
    with pytest.raises(ContractError) as err:
        parse_event(event(contract_version=2))
    assert err.value.error_type == UNSUPPORTED_CONTRACT
    assert err.value.field == "contract_version"
    assert "same release" in str(err.value)


def test_invalid_request_names_the_field() -> None:
    bad = event()
    bad["request"]["spec"]["duration_s"] = -1
    with pytest.raises(ContractError) as err:
        parse_event(bad)
    assert err.value.error_type == INVALID_REQUEST
    assert "request.spec.duration_s" in str(err.value)


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
    assert extract_task_token({"task_token": TOKEN, "request": "nonsense"}) == \
        b"secret-task-token-bytes"
    assert extract_task_token({"task_token": "not base64!!"}) is None
    assert extract_task_token("not an object") is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"background": {"color": "#102030", "image": "s3://assets-bucket/bg.png"}},
         "spec.background"),
        ({"background": {"color": "blue"}}, "spec.background.color"),
        ({"title": ""}, "spec.title"),
        ({"font": "https://example.com/font.ttf"}, "spec.font"),
        ({"duration_s": 301}, "spec.duration_s"),
        ({"unexpected": 1}, "spec.unexpected"),
    ],
)
def test_bad_specs_name_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ContractError) as err:
        parse_spec(spec(**overrides))
    assert field in str(err.value)
    assert err.value.error_type == INVALID_REQUEST


def test_asset_uris_are_listed_by_field() -> None:
    parsed = BrandedVideoSpec.model_validate(spec(logo="s3://assets-bucket/l.png",
                                                  music="s3://assets-bucket/m.mp3"))
    assert parsed.asset_uris() == {"font": "s3://assets-bucket/fonts/brand.ttf",
                                   "logo": "s3://assets-bucket/l.png",
                                   "music": "s3://assets-bucket/m.mp3"}
