"""Find any creative in Temporal: the workflows keep their search attributes current, the
activities and child workflows carry summaries the Web UI shows, `smm-engine list` queries
them, and infra/temporal/setup.sh registers exactly what the workflows set."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from orchestrator.cli.listing import list_engine_workflows, table, visibility_query
from orchestrator.visibility.attributes import ACCOUNT, DOCUMENT, KIND, SEARCH_ATTRIBUTES, STAGE
from smm_runtime.contract.publish_io import PublishStatus
from tests.fakes import approval, publish_input, run_with_worker, until_stage
from tests.workflows.test_publish_endings import Endings

SETUP = Path(__file__).resolve().parents[2] / "infra" / "temporal" / "setup.sh"


def test_setup_registers_exactly_what_the_workflows_set() -> None:
    loop = re.search(r"^for attribute in (.+); do$", SETUP.read_text(), re.MULTILINE)
    assert loop is not None
    registered = dict(item.split(":") for item in loop.group(1).split())
    assert registered == SEARCH_ATTRIBUTES


@pytest.mark.parametrize(
    ("stage", "account", "kind", "field"),
    [
        ("awaiting approval", None, None, "--stage"),
        (None, "acme' OR 1=1", None, "--account"),
        (None, None, "podcast", "--kind"),
    ],
)
def test_list_filters_are_checked_before_they_reach_the_query(
    stage: str | None, account: str | None, kind: str | None, field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        visibility_query(stage, account, kind)


async def listed(client: Client, query: str, workflow_id: str) -> list[dict[str, Any]]:
    """The rows of ``query`` once ``workflow_id`` shows (visibility lags a moment)."""
    rows: list[dict[str, Any]] = []
    for _ in range(100):
        rows = await list_engine_workflows(client, query, 100)
        if any(r["workflow_id"] == workflow_id for r in rows):
            break
        await asyncio.sleep(0.1)
    return rows


async def summaries(client: Client, workflow_id: str) -> list[str]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    found = []
    for event in history.events:
        if (
            event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            and event.user_metadata.HasField("summary")
        ):
            found.append(json.loads(event.user_metadata.summary.data))
    return found


async def test_a_waiting_creative_is_found_by_stage_and_account_and_reads_well(
    dev_env: WorkflowEnvironment,
) -> None:
    client, fakes = dev_env.client, Endings()
    seen: dict[str, Any] = {}

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        await until_stage(handle, "awaiting_approval")
        query = visibility_query("awaiting_approval", "acme", "publish")
        seen["rows"] = await listed(client, query, handle.id)
        seen["attributes"] = (await handle.describe()).typed_search_attributes
        seen["id"] = handle.id
        await handle.signal("agent_approval", approval())

    await run_with_worker(dev_env, fakes, publish_input(account="acme"), script)
    row = next(r for r in seen["rows"] if r["workflow_id"] == seen["id"])
    assert (row["kind"], row["stage"], row["account"], row["document"]) == (
        "publish",
        "awaiting_approval",
        "acme",
        "posts/doc-1",
    )
    assert seen["id"] in table(seen["rows"]) and "AWAITING_APPROVAL" not in table(seen["rows"])
    attributes = seen["attributes"]
    assert attributes.get(DOCUMENT) == "posts/doc-1" and attributes.get(KIND) == "publish"

    done = await client.get_workflow_handle(seen["id"]).describe()
    assert done.typed_search_attributes.get(STAGE) == "published"  # kept current to the end
    render = await client.get_workflow_handle(f"{seen['id']}/render-1").describe()
    assert render.typed_search_attributes.get(KIND) == "image"
    assert render.typed_search_attributes.get(ACCOUNT) == "acme"
    assert render.typed_search_attributes.get(STAGE) == "done"
    assert await render.static_summary() == f"image render for {seen['id']}"
    assert await summaries(client, f"{seen['id']}/render-1") == [
        "image · quote_card · image-01.png"
    ]
    assert await summaries(client, seen["id"]) == ["upload to Postiz · 01-image-01.png"]
