"""From inside the publish workflow: follow each post until Postiz says it is live.

``published`` is written only when every channel's post is ``PUBLISHED`` (its permalink
kept); an ``ERROR`` or a post deleted in Postiz ends the publish ``publish_failed`` naming
the channel; a post still ``QUEUE`` long after it was due raises the alarm (Postiz is not
publishing: its workers or its Temporal are down) and is followed less often, up to a bound.
Every wait is a durable timer: a worker restart resumes the following, it does not repeat
the posting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from orchestrator.publish.postiz_follow import PostizFollower
    from smm_runtime.contract.publish_io import (
        ChannelState,
        CreatePostResult,
        DistributionPolicy,
        FollowRequest,
        FollowResult,
    )

# After the alarm, a read every alarm period (at most ten minutes); past this many alarm
# periods, give up.
SLOW_FOLLOW = timedelta(minutes=10)
GIVE_UP_AFTER_ALARMS = 48


@dataclass
class GoingLive:
    channels: dict[str, ChannelState] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # channel -> why

    @property
    def live(self) -> bool:
        return bool(self.channels) and all(c.state == "PUBLISHED" for c in self.channels.values())


def count_alarm(waiting: list[str]) -> None:
    """The alarm an operator can page on: a counter on the worker's SDK metrics endpoint
    (SMM_TEMPORAL_METRICS_PORT), one per publish and channel. The SDK does not record
    metrics while replaying, so a replay never counts an alarm twice."""
    counter = workflow.metric_meter().create_counter(
        "smm_postiz_not_publishing",
        "due posts Postiz has not published an alarm period after they were due",
        "posts",
    )
    for channel in waiting:
        counter.add(1, {"channel": channel})


def failures(result: FollowResult) -> dict[str, str]:
    why = {
        "ERROR": "Postiz could not publish it (its calendar shows the platform's reason)",
        "DELETED": "the post was deleted in Postiz before it was published",
    }
    return {ch: why[c.state] for ch, c in result.channels.items() if c.state in why}


async def follow_until_live(
    created: CreatePostResult,
    distribution: DistributionPolicy,
    on_alarm: Callable[[list[str]], None],
    generation: int = 0,
) -> GoingLive:
    """Read the posts' states on a timer until all are live, one failed, or the bound."""
    # The workflow posts when the post is due (its timer waited for publish_at), so the
    # posts are due from now on; workflow time, so a replay computes the same.
    due = workflow.now()
    request = FollowRequest(
        workflow_id=workflow.info().workflow_id,
        generation=generation,
        date=created.date or "",
        post_ids=created.by_channel,
    )
    alarm_after = timedelta(seconds=distribution.queued_alarm_s)
    alarmed = False
    outcome = GoingLive()
    while True:
        result = await workflow.execute_activity_method(
            PostizFollower.follow_postiz_posts,
            request,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
        )
        outcome.channels = dict(result.channels)
        outcome.failed = failures(result)
        if outcome.live or outcome.failed:
            return outcome
        late = workflow.now() - due
        waiting = [ch for ch, c in result.channels.items() if c.state != "PUBLISHED"]
        if late > alarm_after * GIVE_UP_AFTER_ALARMS:
            outcome.failed = {
                ch: f"Postiz has not published it {late} after it was due" for ch in waiting
            }
            return outcome
        if late > alarm_after and not alarmed:
            alarmed = True
            count_alarm(waiting)
            on_alarm(waiting)
        every = timedelta(seconds=distribution.follow_every_s)
        pause = max(every, min(SLOW_FOLLOW, alarm_after)) if alarmed else every
        await workflow.sleep(pause)
