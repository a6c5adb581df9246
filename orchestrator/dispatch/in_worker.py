"""The in-worker baseline of the no-op activity, for `make bench` only."""

from __future__ import annotations

import asyncio

from temporalio import activity

from smm_runtime.contract.kinds import NoopRequest, NoopResult


@activity.defn(name="noop_in_worker")
async def noop_in_worker(request: NoopRequest) -> NoopResult:
    if request.sleep_ms:
        await asyncio.sleep(request.sleep_ms / 1000)
    return NoopResult(echo=request.echo, cold_start=False)
