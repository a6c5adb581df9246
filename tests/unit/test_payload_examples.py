"""The Payload side: generated types match the models and the examples type-check."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

PAYLOAD = Path(__file__).resolve().parents[2] / "infra" / "payload"
# As `make schema` runs it: a field with a default stays optional in what a client sends.
TYPES_ARGS = [
    "../../functions/trigger/openapi.json",
    "--default-non-nullable",
    "false",
    "-o",
    "trigger-api.d.ts",
]


def test_the_committed_typescript_types_match_the_openapi_description() -> None:
    """trigger-api.d.ts is openapi-typescript's output for functions/trigger/openapi.json
    (itself checked against the routes and models in tests/unit/test_trigger_contract.py)."""
    done = subprocess.run(
        [str(PAYLOAD / "node_modules" / ".bin" / "openapi-typescript"), *TYPES_ARGS, "--check"],
        cwd=PAYLOAD,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, (
        "infra/payload/trigger-api.d.ts drifted from openapi.json: run `make schema`\n"
        + done.stdout
        + done.stderr
    )


def test_the_payload_examples_type_check() -> None:
    done = subprocess.run(
        [str(PAYLOAD / "node_modules" / ".bin" / "tsc"), "-p", str(PAYLOAD)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_payload_plugin_type_checks_against_payloads_own_types() -> None:
    """infra/payload/app (the plugin, the config, the server) under tsc --checkJs --strict,
    with the real `payload` package's types."""
    done = subprocess.run(
        [str(PAYLOAD / "node_modules" / ".bin" / "tsc"), "-p", str(PAYLOAD / "app")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


STATUS_PANEL = """
import { renderToStaticMarkup } from 'react-dom/server';
import { EngineStatus } from './engine-status.mjs';
const cases = JSON.parse(await new Promise((ok) => {
  let s = ''; process.stdin.on('data', (d) => { s += d; }).on('end', () => ok(s)); }));
const out = [];
for (const data of cases) out.push(renderToStaticMarkup(await EngineStatus({ data })));
console.log(JSON.stringify(out));
"""


def test_the_admin_status_panel_shows_each_state_and_escapes_what_the_engine_wrote() -> None:
    """The panel's server component, rendered by react-dom/server as Payload's admin would
    (without a trigger it shows what the document holds; the live progress from the trigger
    API is tested against the whole stack in tests/integration/test_payload_admin_panel.py)."""
    cases = [
        {},
        {
            "engineStage": "awaiting_approval",
            "engineRound": 2,
            "engineWorkflowId": "payload-posts-7",
        },
        {"engineStage": "failed", "engineError": "<img src=x onerror=alert(1)>"},
        {"engineStage": "published"},
    ]
    done = subprocess.run(
        ["node", "--input-type=module", "-e", STATUS_PANEL],
        cwd=PAYLOAD / "app",
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
    )
    none, waiting, failed, published = json.loads(done.stdout)
    assert "Not sent to the creative engine yet" in none
    assert 'data-tone="waiting"' in waiting and "awaiting approval" in waiting
    assert "round 2" in waiting and "payload-posts-7" in waiting and "<progress" not in waiting
    assert 'data-tone="stopped"' in failed and 'role="alert"' in failed
    assert "<img" not in failed and "&lt;img src=x" in failed  # text, never markup
    assert 'data-tone="done"' in published
