"""Live progress of a render: the workflow's stage plus the function's last heartbeat.

Heartbeats go to the server, not to the workflow (recording each one as an event would bloat
history), so a client reads them from the pending activity in the workflow's description.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import WorkflowHandle

from smm_runtime.contract.workflow_io import RenderProgress


async def live_progress(handle: WorkflowHandle[Any, Any]) -> dict[str, Any]:
    stage = await handle.query("progress", result_type=RenderProgress)
    result: dict[str, Any] = stage.model_dump()
    description = await handle.describe()
    running = []
    for pending in description.raw_description.pending_activities:
        entry: dict[str, Any] = {"activity": pending.activity_type.name, "attempt": pending.attempt}
        if pending.heartbeat_details.payloads:
            details = await handle._client.data_converter.decode(pending.heartbeat_details.payloads)
            if details and isinstance(details[0], dict):
                entry.update(details[0])
        running.append(entry)
    result["running"] = running
    return result
