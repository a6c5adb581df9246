"""The Node.js image function speaks the Python contract."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from smm_runtime.contract.kinds import ImageResult
from smm_runtime.contract.schema import json_schemas
from smm_runtime.contract.video_spec import BrandKit

FUNCTION = Path(__file__).resolve().parents[2] / "functions" / "render_image"


def node(script: str, payload: Any) -> subprocess.CompletedProcess[str]:
    program = (
        "import fs from 'node:fs';"
        "import {parseEvent, checkResult} from './dist/contract.mjs';"
        "const input = JSON.parse(fs.readFileSync(0, 'utf8'));"
        f"try {{ {script}; console.log('ok'); }} catch (e) {{ console.log(e.message); }}"
    )
    return subprocess.run(
        ["node", "--input-type=module", "-e", program],
        cwd=FUNCTION,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
    )


def image_event(**request_overrides: Any) -> dict[str, Any]:
    request = {
        "template": "quote_card",
        "width": 1080,
        "height": 1080,
        "props": {"quote": "q", "author": "a"},
        "brand": BrandKit(id="acme", fonts={"heading": "s3://assets-bucket/f.ttf"}).model_dump(
            mode="json"
        ),
        "output": {"bucket": "out-bucket", "key": "renders/wf/image-01.png"},
        "fingerprint": "0" * 64,
        **request_overrides,
    }
    return {
        "contract_version": 1,
        "kind": "render_image",
        "task_token": base64.b64encode(b"token").decode(),
        "workflow_id": "wf",
        "activity_id": "1",
        "attempt": 1,
        "request": request,
    }


def test_the_committed_json_schema_matches_the_python_models() -> None:
    for name, schema in json_schemas().items():
        committed = json.loads((FUNCTION / "schema" / name).read_text())
        assert committed == schema, f"{name} drifted from the models: run 'make schema'"


def test_node_accepts_an_event_built_by_python() -> None:
    assert node("parseEvent(input)", image_event()).stdout.strip() == "ok"


def test_node_refuses_a_bad_event_naming_the_field() -> None:
    out = node("parseEvent(input)", image_event(width="wide")).stdout.strip()
    assert out == "invalid event: request.width: must be integer"
    wrong_version = {**image_event(), "contract_version": 2}
    assert "same release" in node("parseEvent(input)", wrong_version).stdout


def test_what_node_sends_is_what_python_decodes() -> None:
    result = {
        "kind": "render_image",
        "output": {"bucket": "b-bucket", "key": "k"},
        "width": 1080,
        "height": 1080,
        "size_bytes": 10,
        "reused": False,
        "usage": {"duration_ms": 5, "memory_mb": 1536, "gb_seconds": 0.0075},
    }
    assert node("checkResult(input)", result).stdout.strip() == "ok"
    assert ImageResult.model_validate(result).size_bytes == 10
    broken = {**result, "size_bytes": "10"}
    assert (
        node("checkResult(input)", broken)
        .stdout.strip()
        .startswith("the result does not match the contract: result.size_bytes")
    )


def test_node_unit_tests_type_check_and_pass() -> None:
    """The Node unit tests are strict TypeScript typed against dist's declarations: compiled
    to test-build/ (beside test/), then run by Node's test runner."""
    shutil.rmtree(FUNCTION / "test-build", ignore_errors=True)  # no test that is gone runs
    built = subprocess.run(
        ["node_modules/.bin/tsc", "-p", "test"],
        cwd=FUNCTION,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout[-3000:]
    done = subprocess.run(
        ["node", "--test", "test-build/"], cwd=FUNCTION, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout


def test_the_function_type_checks_under_strict_typescript() -> None:
    config = (FUNCTION / "tsconfig.json").read_text()
    assert '"strict": true' in config and '"noUncheckedIndexedAccess": true' in config
    assert not list(FUNCTION.glob("*.mjs")), "the function's code lives in src/*.mts"
    done = subprocess.run(
        ["node_modules/.bin/tsc", "-p", ".", "--noEmit"],
        cwd=FUNCTION,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]


def test_a_type_error_fails_the_check() -> None:
    """The check can fail: the same compiler on a strict file that passes a number as a token."""
    probe = FUNCTION / "src" / "zz_probe_type_error.mts"
    probe.write_text(
        "import { extractToken } from './contract.mjs';\n"
        "export const token: string = extractToken(42);\n"
    )
    try:
        done = subprocess.run(
            ["node_modules/.bin/tsc", "-p", ".", "--noEmit"],
            cwd=FUNCTION,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        probe.unlink()
    assert done.returncode != 0
    assert "zz_probe_type_error.mts" in done.stdout and "TS2322" in done.stdout


def test_the_event_and_result_types_are_generated_from_the_committed_schemas() -> None:
    """src/generated/*.ts come from schema/*.json (json-schema-to-typescript): no drift."""
    done = subprocess.run(
        ["node", "scripts/contract-types.mjs", "--check"],
        cwd=FUNCTION,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    event_types = (FUNCTION / "src" / "generated" / "image-event.ts").read_text()
    assert "export interface ImageEvent {" in event_types
    assert "task_token: TaskToken;" in event_types
