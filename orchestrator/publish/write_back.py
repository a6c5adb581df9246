"""Payload write-back from inside the publish workflow: every stage change reaches the
Payload document, one report at a time and in order, and none ever holds up the flow."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from orchestrator.publish.payload_cms import PayloadReporter
    from smm_runtime.contract.errors import INVALID_REQUEST
    from smm_runtime.contract.publish_io import PayloadRef, PayloadUpdate, PublishStatus

PAYLOAD_TIMEOUT = timedelta(seconds=15)
# Payload write-back: keep trying for a week; it never blocks the flow.
PAYLOAD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=[INVALID_REQUEST],
)
PAYLOAD_SCHEDULE_TO_CLOSE = timedelta(days=7)
WRITE_BACK_DRAIN = timedelta(hours=1)


class PayloadWriteBack:
    """Stage reports for one Payload document, sent one at a time and in order; each is
    retried until Payload takes it, and none ever blocks the flow."""

    def __init__(self) -> None:
        self.updates: list[PayloadUpdate] = []
        self.sent = 0
        self.first_seq = 1  # above the last run's when the workflow continued as new
        self.stopped = False
        self.in_flight = False

    def resume(self, next_seq: int, unsent: list[PayloadUpdate]) -> None:
        self.first_seq = next_seq - len(unsent)
        self.updates = list(unsent)

    def next_seq(self) -> int:
        return self.first_seq + len(self.updates)

    def unsent(self) -> list[PayloadUpdate]:
        return self.updates[self.sent :]

    def add(self, target: PayloadRef, data: dict[str, Any]) -> None:
        self.updates.append(
            PayloadUpdate(
                collection=target.collection, id=target.id, seq=self.next_seq(), data=data
            )
        )

    def report(
        self, target: PayloadRef | None, status: PublishStatus, stage: str, **extra: Any
    ) -> None:
        """The engine fields of a stage change (extra keys become engineCamelCase)."""
        if target is None:
            return
        self.add(
            target,
            {
                "engineStage": stage,
                "engineWorkflowId": workflow.info().workflow_id,
                "engineRound": status.round,
                "engineOutputs": list(status.outputs),
                "enginePostizPostIds": list(status.postiz_post_ids),
                "enginePermalinks": dict(status.permalinks) or None,
                "engineError": status.error,
                **{
                    "engine" + "".join(p.title() for p in k.split("_")): v for k, v in extra.items()
                },
            },
        )

    async def run(self) -> None:
        while not self.stopped:
            await workflow.wait_condition(lambda: self.sent < len(self.updates))
            update = self.updates[self.sent]
            self.in_flight = True
            try:
                await workflow.execute_activity_method(
                    PayloadReporter.update_payload,
                    update,
                    start_to_close_timeout=PAYLOAD_TIMEOUT,
                    schedule_to_close_timeout=PAYLOAD_SCHEDULE_TO_CLOSE,
                    retry_policy=PAYLOAD_RETRY,
                )
            except Exception:
                if self.stopped:
                    return
                workflow.logger.warning("Payload write-back %s gave up", update.seq)
            finally:
                self.in_flight = False
            self.sent += 1

    async def settle(self, within: timedelta) -> None:
        """Wait (a little) for the report in flight, so none is left running when the run
        continues as new; one still in flight after ``within`` is sent again there."""
        with contextlib.suppress(asyncio.TimeoutError):
            await workflow.wait_condition(lambda: not self.in_flight, timeout=within)

    def stop(self) -> None:
        """The run continues as new: schedule nothing more here; what is unsent (the one
        in flight included, which Payload takes once by its seq) goes to the next run."""
        self.stopped = True

    async def drain(self) -> None:
        """Let the last stage reach Payload, but never wait on it for long."""
        with contextlib.suppress(asyncio.TimeoutError):
            await workflow.wait_condition(
                lambda: self.sent == len(self.updates), timeout=WRITE_BACK_DRAIN
            )
