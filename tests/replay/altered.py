"""A deliberately altered PublishCreativeWorkflow, for proving the replay check bites.

Its own module because the workflow sandbox re-imports the module a workflow lives in, and
this one imports nothing with side effects.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow


@workflow.defn(name="PublishCreativeWorkflow")
class ReorderedPublish:
    """What a careless edit looks like: a new timer ahead of everything the old code did."""

    @workflow.run
    async def run(self, params: Any) -> None:
        await workflow.sleep(timedelta(seconds=1))
