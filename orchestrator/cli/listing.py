"""`smm-engine list`: the engine's workflows by stage, account and kind, from Temporal's
visibility store (the search attributes the workflows keep current,
orchestrator.visibility.attributes).
A table for people, `--json` for scripts; each row with its Web UI link when one is set."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from typing import Any

from temporalio.client import Client

from orchestrator.cli.settings import settings
from orchestrator.visibility.attributes import ACCOUNT, DOCUMENT, KIND, STAGE
from smm_runtime.contract.ownership import ACCOUNT_PATTERN
from smm_runtime.temporal_conn import connect

KINDS = ("publish", "video", "image")
TYPES = ("PublishCreativeWorkflow", "RenderVideoWorkflow", "GenerateImageWorkflow")


def visibility_query(stage: str | None, account: str | None, kind: str | None) -> str:
    """The list filter; every value is checked first, so none can change the query."""
    clauses = ["WorkflowType IN (" + ", ".join(f"'{t}'" for t in TYPES) + ")"]
    if stage is not None:
        if not re.fullmatch(r"[a-z_]{1,40}", stage):
            raise ValueError(f"--stage: {stage!r} is not a stage (e.g. awaiting_approval)")
        clauses.append(f"{STAGE.name} = '{stage}'")
    if account is not None:
        if not re.fullmatch(ACCOUNT_PATTERN, account):
            raise ValueError(f"--account: {account!r} is not an account id")
        clauses.append(f"{ACCOUNT.name} = '{account}'")
    if kind is not None:
        if kind not in KINDS:
            raise ValueError(f"--kind: {kind!r} is not one of {', '.join(KINDS)}")
        clauses.append(f"{KIND.name} = '{kind}'")
    return " AND ".join(clauses)


async def list_engine_workflows(client: Client, query: str, limit: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    async for execution in client.list_workflows(query, limit=limit):
        found = execution.typed_search_attributes
        rows.append(
            {
                "workflow_id": execution.id,
                "workflow_type": execution.workflow_type,
                "kind": found.get(KIND),
                "stage": found.get(STAGE),
                "account": found.get(ACCOUNT),
                "document": found.get(DOCUMENT),
                "execution": execution.status.name if execution.status else None,
                "started": execution.start_time.isoformat(timespec="seconds"),
                "link": settings().workflow_link(execution.id) or None,
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    columns = ("workflow_id", "kind", "stage", "account", "document", "started", "link")
    shown = [c for c in columns if any(r.get(c) for r in rows) or c in columns[:3]]
    cells = [[str(r.get(c) or "") for c in shown] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(shown)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(shown, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def cmd_list(args: argparse.Namespace) -> int:
    query = visibility_query(args.stage, args.account, args.kind)

    async def read() -> list[dict[str, Any]]:
        return await list_engine_workflows(await connect(), query, args.limit)

    rows = asyncio.run(read())
    print(
        json.dumps(rows, indent=2)
        if args.json
        else (table(rows) if rows else f"no workflow matches {query}")
    )
    return 0
