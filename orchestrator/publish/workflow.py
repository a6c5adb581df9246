"""PublishCreativeWorkflow: generate a creative, wait for a human, publish through Postiz.

rendering (a child render workflow) -> awaiting_approval (signal `agent_approval` or the
`approve` update; reminders on a timer; expiry) -> revise loops back to rendering with the
requested changes -> approved -> scheduled (a durable timer, months if need be) -> publishing
(media to Postiz through the transfer function, then one post per channel) -> queued (Postiz
has the posts and publishes them itself) -> published once every channel's post is live, or
publish_failed naming the channel.

Every stage change and ending reaches Payload in order (a background writer that never holds
up the flow). Waiting is a timer in history; a long wait (reminders for months) continues as new
before its history grows large, carrying the round's state into the next run.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
)

with workflow.unsafe.imports_passed_through():
    from orchestrator.billing.holds import CreditHold, settle_all
    from orchestrator.cap.permits import Permits
    from orchestrator.publish.carry import PublishCarry
    from orchestrator.publish.channel_check import account_may_post, checked, postiz_channels
    from orchestrator.publish.distribute import distribute
    from orchestrator.publish.endings import ending, root_cause
    from orchestrator.publish.going_live import follow_until_live
    from orchestrator.publish.merge_patch import merge_patch
    from orchestrator.publish.render_round import creative_price, render_creative
    from orchestrator.publish.review_links import announce_review
    from orchestrator.publish.revisions import Rejected, apply_edits, check_decision, editable
    from orchestrator.publish.write_back import PayloadWriteBack
    from orchestrator.render.ownership import owner_of
    from orchestrator.visibility.in_workflow import Visible
    from smm_runtime.contract.basetypes import ComputeUsage, S3Object
    from smm_runtime.contract.errors import INVALID_REQUEST
    from smm_runtime.contract.preflight import Preflight
    from smm_runtime.contract.publish_io import (
        SIGNAL_NAME,
        ApprovalDecision,
        ApprovalRecord,
        PublishInput,
        PublishStatus,
        ReviewAnnouncement,
    )
    from smm_runtime.contract.validation import ContractError, parse_image_spec, parse_spec

REVIEW_LINKS_PATCH = "review-links"
ENDINGS_PATCH = "every-ending-reported"  # older executions replay without those reports
BUDGET_PATCH = "postiz-budget"  # and without waiting on the deployment's Postiz budget
FOLLOW_PATCH = "follow-until-live"  # and ended 'published' once Postiz accepted the posts
PREFLIGHT_PATCH = "channel-preflight"  # and never asked Postiz what its channels take
FPS_PRICING_PATCH = "price-at-spec-fps"  # and priced every video at 30 fps
ACCOUNT_CHANNELS_PATCH = "account-channels"  # and let an account post to any channel
REVISION_FAILURE_PATCH = "revision-failure-back-to-review"  # and ended failed on one
REMINDER_FLOOR_PATCH = "reminder-floor"  # and reminded as often as the policy said
MIN_REMINDER_S = 300.0  # a reminder (a message to every reviewer) at most every 5 minutes
# Continue as new past this many events: far under the server's 51,200 limit (and its 10,240
# warning), with room for the round's decision, publishing and reports.
CONTINUE_AS_NEW_AFTER = 5_000
MAX_APPROVALS = 100  # decisions kept in the status (the newest)


@workflow.defn
class PublishCreativeWorkflow:
    @workflow.init
    def __init__(self, params: PublishInput, carried: PublishCarry | None = None) -> None:
        # Built from the input here, not in run(): a continued run's first activation applies
        # the signals that arrived meanwhile before run() starts, and they need it.
        # (Started with one argument, the SDK decodes without type hints — they apply only
        # when the counts match — so validate; a no-op for an already typed input.)
        self._params = params = PublishInput.model_validate(params)
        self._status = PublishStatus(stage="rendering", post=params.post)
        self._pending: ApprovalDecision | None = None
        self._payload = PayloadWriteBack()
        self._permits = Permits()  # registers its signal handlers
        self._creative: dict[str, Any] = params.creative.spec
        self._media: list[tuple[S3Object, str]] = []
        self._bills: list[tuple[CreditHold, ComputeUsage | None]] = []
        self._carried: PublishCarry | None = carried
        self._runs = 1
        self._continuing = False
        self._owner: str | None = None
        self._visible = Visible()
        self._providers: dict[str, str] | None = None  # Postiz channel -> provider
        self._channel_media: dict[str, list[int]] = {}
        self._retry_asked = False
        if carried is not None:  # a continued run: the waiting round goes on
            self._runs, self._status, self._owner = carried.runs, carried.status, carried.owner
            self._creative, self._media = carried.creative, list(carried.media)
            self._bills = [CreditHold.resume(b) for b in carried.bills]
            self._payload.resume(carried.payload_next_seq, carried.payload_unsent)
            self._providers, self._channel_media = carried.providers, dict(carried.channel_media)

    @workflow.query
    def status(self) -> PublishStatus:
        return self._status

    @workflow.signal(name=SIGNAL_NAME)
    def agent_approval(self, raw: dict[str, Any]) -> None:
        # Raw on purpose: a malformed decision must be visible in the status, not dropped
        # by payload decoding.
        try:
            self._accept(self._check(raw))
        except Rejected as err:
            self._record(raw, accepted=False, reason=str(err))

    @workflow.update(name="approve")
    def approve(self, raw: dict[str, Any]) -> PublishStatus:
        self._accept(self._check(raw))
        return self._status

    @approve.validator
    def _validate_approve(self, raw: dict[str, Any]) -> None:
        self._check(raw)  # raises: the caller gets a synchronous no, history stays clean

    def _check(self, raw: dict[str, Any]) -> ApprovalDecision:
        waiting = self._status.stage == "awaiting_approval" and self._pending is None
        return check_decision(raw, self._params.approval, self._status, waiting, self._revised)

    def _accept(self, decision: ApprovalDecision) -> None:
        self._pending = decision
        self._record(decision.model_dump(), accepted=True)

    def _record(self, raw: dict[str, Any], *, accepted: bool, reason: str | None = None) -> None:
        # The newest MAX_APPROVALS only: a flood of (refused) signals must not grow the
        # status, the carried state and every query without bound.
        del self._status.approvals[: max(0, len(self._status.approvals) - MAX_APPROVALS + 1)]
        self._status.approvals.append(
            ApprovalRecord(
                at=workflow.now(),
                round=self._status.round,
                decision=str(raw.get("decision", "?")),
                reviewer=str(raw.get("reviewer", "?"))[:200],
                comment=str(raw.get("comment", ""))[:2000],
                accepted=accepted,
                reason=reason,
            )
        )

    @workflow.run
    async def run(self, params: PublishInput, carried: PublishCarry | None = None) -> PublishStatus:
        params = self._params
        if carried is None:
            self._owner = owner_of(params.account)
        self._visible.start("publish", self._status.stage, params.account, params.payload)
        writer = asyncio.ensure_future(self._payload.run())
        try:
            return await self._flow(params, self._creative)
        except workflow.ContinueAsNewError:
            raise  # not an ending: the holds travel on
        except BaseException:
            await self._settle(capture=False)  # refund on failure and on cancellation
            raise
        finally:
            if self._continuing:
                self._payload.stop()  # cancelling it would add a command after the last
            else:
                await self._payload.drain()
                writer.cancel()

    async def _flow(self, params: PublishInput, creative: dict[str, Any]) -> PublishStatus:
        try:
            if self._carried is None:
                self._validate(creative)
                if workflow.patched(PREFLIGHT_PATCH):
                    await self._preflight(creative)
                await self._render(creative)
            decision = await self._await_decision()
            while decision is not None and decision.decision == "revise":
                if decision.changes or decision.edits:
                    creative = self._revised(decision)
                    if self._providers is not None:
                        self._channel_media = self._checked(creative).media
                self._status.round += 1
                if workflow.patched(REVISION_FAILURE_PATCH):
                    creative = await self._render_revision(creative)
                else:
                    await self._render(creative)
                decision = await self._await_decision()
            if decision is None or decision.decision == "reject":
                await self._settle(capture=False)
                self._stage("expired" if decision is None else "rejected")
                return self._status
            await self._settle(capture=True)  # the render was accepted: charge what it cost
            self._stage("approved")
            await self._wait_for_publish_time()
            await self._post(params)
            return self._status
        except (ApplicationError, ChildWorkflowError, ActivityError, asyncio.CancelledError) as err:
            # Older executions reported only application and child failures.
            reported = not isinstance(err, ActivityError | asyncio.CancelledError)
            if reported or workflow.patched(ENDINGS_PATCH):
                self._stage(*ending(err))
            raise

    async def _post(self, params: PublishInput) -> None:
        """Create the posts, follow them until live; after publish_failed, wait for a retry
        of the failed channels (``retry_publish``), which get posts of their own."""
        by_channel: dict[str, str] = {}
        channels, generation = list(params.post.integrations), 0
        following = params.post.type != "draft" and workflow.patched(FOLLOW_PATCH)
        while True:
            self._stage("publishing")
            created = await distribute(
                self._media,
                params.post.model_copy(update={"integrations": channels}),
                params.dispatch,
                params.distribution,
                self._permits if workflow.patched(BUDGET_PATCH) else None,
                self._owner,
                self._channel_media,
                generation,
            )
            # Results recorded before by_channel existed: the ids in the channels' order.
            by_channel.update(
                created.by_channel or dict(zip(channels, created.post_ids, strict=False))
            )
            self._status.postiz_post_ids = [
                by_channel[i] for i in params.post.integrations if i in by_channel
            ]
            if not following:
                self._stage("published")
                return
            self._stage("queued")
            going = await follow_until_live(created, params.distribution, self._alarm, generation)
            for channel, state in going.channels.items():
                self._status.channels[channel] = state.state
                if state.url is not None:
                    self._status.permalinks[channel] = state.url
            if not going.failed:
                self._stage("published")
                return
            why = "; ".join(f"{ch}: {reason}" for ch, reason in sorted(going.failed.items()))
            self._stage("publish_failed", f"not published on {why}")
            self._retry_asked = False
            try:
                await workflow.wait_condition(
                    lambda: self._retry_asked,
                    timeout=timedelta(seconds=params.distribution.retry_window_s),
                )
            except TimeoutError:
                return
            channels, generation = sorted(going.failed), generation + 1
            self._status.error = None

    @workflow.update(name="retry_publish")
    def retry_publish(self) -> PublishStatus:
        """Post again on the channels that failed; the live ones are left alone."""
        self._retry_asked = True
        return self._status

    @retry_publish.validator
    def _validate_retry(self) -> None:
        if self._status.stage != "publish_failed" or self._retry_asked:
            raise ValueError(
                f"only a publish that ended publish_failed can be retried; this one is "
                f"{self._status.stage}"
            )

    async def _settle(self, *, capture: bool) -> None:
        """Capture (on approval) or release (otherwise) every round's hold, once."""
        bills, self._bills = self._bills, []
        charged, released = await settle_all(bills, capture=capture)
        self._status.credits_charged += charged
        self._status.credits_held -= released

    def _validate(self, spec: dict[str, Any]) -> None:
        try:
            (parse_spec if self._params.creative.kind == "video" else parse_image_spec)(spec)
        except ContractError as err:
            raise ApplicationError(str(err), type=err.error_type, non_retryable=True) from None

    def _revised(self, decision: ApprovalDecision) -> dict[str, Any]:
        """The creative with the decision's merge patch and text edits, validated, and
        still taken by every channel (a revision that breaks one is refused)."""
        kind = self._params.creative.kind
        revised: dict[str, Any] = merge_patch(self._creative, decision.changes or {})
        revised = apply_edits(kind, revised, decision.edits) if decision.edits else revised
        (parse_spec if kind == "video" else parse_image_spec)(revised)
        if self._providers is not None:
            self._checked(revised)
        return revised

    def _checked(self, creative: dict[str, Any]) -> Preflight:
        return checked(self._params, creative, self._providers)

    async def _preflight(self, creative: dict[str, Any]) -> None:
        """Before anything is rendered or held: may the account post to every channel, and
        will every channel take this publish?"""
        account, channels = self._params.account, list(self._params.post.integrations)
        if account is not None and workflow.patched(ACCOUNT_CHANNELS_PATCH):
            await account_may_post(account, channels)
        self._providers = await postiz_channels()
        try:
            self._channel_media = self._checked(creative).media
        except ContractError as err:
            raise ApplicationError(str(err), type=INVALID_REQUEST, non_retryable=True) from None

    async def _render(self, creative: dict[str, Any]) -> None:
        p = self._params
        self._creative = creative
        self._status.editable = editable(p.creative.kind, creative)
        child_id = f"{workflow.info().workflow_id}/render-{self._status.round}"
        self._status.render_workflow_id = child_id
        self._stage("rendering")
        hold = None
        if p.account is not None:
            hold = CreditHold(p.account, child_id)
            exact = workflow.patched(FPS_PRICING_PATCH)
            price = creative_price(p.creative.kind, creative, spec_fps=exact)
            self._status.credits_held += await hold.reserve(price)
            self._bills.append((hold, None))
        self._media, usage, self._status.brand = await render_creative(
            p, creative, child_id, self._owner
        )
        if hold is not None:
            self._bills[-1] = (hold, usage)
        self._status.outputs = [obj.uri for obj, _ in self._media]

    async def _render_revision(self, creative: dict[str, Any]) -> dict[str, Any]:
        """Render a revision; when it fails, release its hold and go back to review with the
        last good render (the revision is dropped, the reviewer is told why)."""
        kept = self._creative, self._status.editable, self._status.render_workflow_id
        bills = len(self._bills)
        try:
            await self._render(creative)
            self._status.error = None  # a revision that failed before is behind us
            return creative
        except ChildWorkflowError as err:
            if isinstance(err.cause, CancelledError):
                raise  # cancelled with the publish: that ending, not a new round
            if len(self._bills) > bills:  # its hold: released now, not at the decision
                hold, _ = self._bills.pop()
                await hold.release()
                self._status.credits_held -= hold.held
            self._creative, self._status.editable, self._status.render_workflow_id = kept
            if self._providers is not None:  # each channel's outputs, of the kept render
                self._channel_media = self._checked(self._creative).media
            self._status.error = f"the revision's render failed: {root_cause(err)}"
            return self._creative

    async def _await_decision(self) -> ApprovalDecision | None:
        policy = self._params.approval
        every = policy.reminder_every_s  # at most one reminder per MIN_REMINDER_S since the patch
        every = max(every, MIN_REMINDER_S) if workflow.patched(REMINDER_FLOOR_PATCH) else every
        carried, self._carried = self._carried, None
        if carried is not None:  # the round was announced in an earlier run; a decision
            deadline, links = carried.deadline, carried.review_links  # may be here already
        else:
            self._pending = None
            self._stage("awaiting_approval")
            deadline = workflow.now() + timedelta(seconds=policy.expire_after_s)
            # Executions that began before review links existed replay without them.
            if links := workflow.patched(REVIEW_LINKS_PATCH):
                await self._announce(deadline)
        while True:
            left = (deadline - workflow.now()).total_seconds()
            if left <= 0:
                return None
            try:
                await workflow.wait_condition(
                    lambda: self._pending is not None,
                    timeout=timedelta(seconds=min(every, left)),
                )
                return self._pending
            except TimeoutError:
                if (deadline - workflow.now()).total_seconds() > 0:
                    self._status.reminders_sent += 1
                    self._report("awaiting_approval", reminder=self._status.reminders_sent)
                    if links:
                        await self._announce(deadline)
                    if (
                        workflow.info().get_current_history_length() > CONTINUE_AS_NEW_AFTER
                        or workflow.info().is_continue_as_new_suggested()
                    ):
                        await self._continue_as_new(deadline, links)

    async def _continue_as_new(self, deadline: datetime, links: bool) -> None:
        """Carry the waiting round into a fresh run (its history starts empty again)."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._payload.settle(timedelta(minutes=1))
        if self._pending is not None:
            return  # a decision arrived meanwhile: the loop takes it
        self._continuing = True
        workflow.continue_as_new(
            args=[
                self._params,
                PublishCarry(
                    status=self._status,
                    creative=self._creative,
                    media=self._media,
                    bills=[hold.carry(usage) for hold, usage in self._bills],
                    deadline=deadline,
                    review_links=links,
                    runs=self._runs + 1,
                    payload_next_seq=self._payload.next_seq(),
                    payload_unsent=self._payload.unsent(),
                    owner=self._owner,
                    providers=self._providers,
                    channel_media=self._channel_media,
                ),
            ]
        )

    async def _announce(self, deadline: datetime) -> None:
        """This round's private review links, one to each reviewer (again on reminders)."""
        p, s = self._params, self._status
        announcement = ReviewAnnouncement(
            workflow_id=workflow.info().workflow_id, round=s.round, expires_at=deadline,
            reviewers=p.approval.reviewers, content=p.post.content, reminder=s.reminders_sent,
        )  # fmt: skip
        issued = await announce_review(announcement)
        if issued is not None and (sent := issued.delivered or sorted(issued.links)):
            self._report("awaiting_approval", review_sent_to=sent)  # who, never the links

    async def _wait_for_publish_time(self) -> None:
        when = self._params.post.publish_at
        if when is not None and when > workflow.now():
            self._status.publish_at = when
            self._stage("scheduled")
            await workflow.sleep(when - workflow.now())

    def _alarm(self, waiting: list[str]) -> None:
        """Postiz accepted the posts and has not published them long after they were due."""
        message = (
            f"Postiz has not published {', '.join(waiting)} "
            f"{self._params.distribution.queued_alarm_s:.0f}s after it was due: its workers may "
            "be down; the engine keeps checking"
        )
        workflow.logger.error("postiz not publishing: %s", message)
        self._stage("postiz_not_publishing", message)

    def _stage(self, stage: str, error: str | None = None) -> None:
        self._status.stage, self._status.error = stage, error or self._status.error
        self._visible.stage(stage, f"round {self._status.round}")
        self._report(stage)

    def _report(self, stage: str, **extra: Any) -> None:
        self._payload.report(self._params.payload, self._status, stage, **extra)
