"""'published' means live: the publish follows each Postiz post until Postiz reports it
PUBLISHED, ends publish_failed naming the channel when it does not, and raises the alarm
when Postiz sits on a due post (time-skipping server; Postiz's states from the fakes)."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.testing import WorkflowEnvironment

from orchestrator.publish.workflow import PublishCreativeWorkflow
from smm_runtime.contract.errors import INVALID_REQUEST
from smm_runtime.contract.publish_io import PublishStatus
from tests.fakes import PublishFakes as Fakes
from tests.fakes import approval, publish_input, run_with_worker, until_stage


async def approve(handle: WorkflowHandle[Any, PublishStatus]) -> None:
    await until_stage(handle, "awaiting_approval")
    await handle.signal("agent_approval", approval())


async def test_published_is_written_only_once_every_channel_is_live(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Fakes()
    fakes.postiz_states = [{"x-1": "QUEUE", "li-2": "QUEUE"}, {"x-1": "QUEUE"}, {}]
    status = await run_with_worker(skipping_env, fakes, publish_input(), approve)
    assert status.stage == "published" and len(fakes.follows) == 3
    assert status.permalinks == {
        "x-1": "https://x-1.example/post-x-1",
        "li-2": "https://li-2.example/post-li-2",
    }
    stages = [u.data["engineStage"] for u in fakes.payload]
    assert stages[-2:] == ["queued", "published"]
    assert "published" not in stages[:-1]
    assert fakes.follows[0].post_ids == {"x-1": "post-x-1", "li-2": "post-li-2"}


async def test_a_post_postiz_failed_ends_publish_failed_naming_the_channel(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Fakes()
    fakes.postiz_states = [{"x-1": "QUEUE", "li-2": "QUEUE"}, {"li-2": "ERROR"}]
    status = await run_with_worker(skipping_env, fakes, publish_input(), approve)
    assert status.stage == "publish_failed"
    assert status.error is not None and status.error.startswith("not published on li-2:")
    assert status.permalinks == {"x-1": "https://x-1.example/post-x-1"}
    assert status.channels == {"x-1": "PUBLISHED", "li-2": "ERROR"}
    final = fakes.payload[-1].data
    assert final["engineStage"] == "publish_failed" and "li-2" in final["engineError"]
    assert final["enginePermalinks"] == {"x-1": "https://x-1.example/post-x-1"}


async def test_a_due_post_postiz_sits_on_raises_the_alarm_then_goes_live(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Fakes()
    # Followed every 30 s; the alarm after 1800 s late: ~60 reads of QUEUE, then live.
    fakes.postiz_states = [{"x-1": "QUEUE", "li-2": "QUEUE"}] * 70 + [{}]
    # The worker's client runs on a runtime that buffers its metrics, as the worker's own
    # runtime exports them to Prometheus: the alarm an operator pages on is a counter.
    buffer = MetricBuffer(100_000)
    metered = await Client.connect(
        skipping_env.client.service_client.config.target_host,
        namespace=skipping_env.client.namespace,
        data_converter=skipping_env.client.data_converter,
        runtime=Runtime(telemetry=TelemetryConfig(metrics=buffer)),
    )
    status = await run_with_worker(
        skipping_env, fakes, publish_input(), approve, worker_client=metered
    )
    stages = [u.data["engineStage"] for u in fakes.payload]
    assert "postiz_not_publishing" in stages and status.stage == "published"
    alarm = next(u for u in fakes.payload if u.data["engineStage"] == "postiz_not_publishing")
    assert "x-1, li-2" in alarm.data["engineError"]
    updates = buffer.retrieve_updates()
    counted = {
        u.attributes["channel"]: u.value
        for u in updates
        if u.metric.name == "smm_postiz_not_publishing"
    }
    assert counted == {"x-1": 1, "li-2": 1}


async def test_a_post_postiz_never_publishes_fails_after_the_bound(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Fakes()
    fakes.postiz_states = [{"x-1": "QUEUE", "li-2": "QUEUE"}]
    inputs = publish_input(distribution={"queued_alarm_s": 60})
    status = await run_with_worker(skipping_env, fakes, inputs, approve)
    assert status.stage == "publish_failed"
    assert "Postiz has not published it" in (status.error or "")
    assert len(fakes.follows) < 400  # slower reads after the alarm, not one per 30 s


async def test_a_post_deleted_in_postiz_is_a_failure_not_a_wait(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Fakes()
    fakes.postiz_states = [{"x-1": "DELETED"}]
    status = await run_with_worker(skipping_env, fakes, publish_input(), approve)
    assert status.stage == "publish_failed" and "deleted in Postiz" in (status.error or "")


async def test_a_draft_for_postiz_is_not_followed(skipping_env: WorkflowEnvironment) -> None:
    fakes = Fakes()
    inputs = publish_input(
        post={
            "content": "For later",
            "integrations": ["li-2"],
            "type": "draft",
        }
    )
    status = await run_with_worker(skipping_env, fakes, inputs, approve)
    assert status.stage == "published" and fakes.follows == []


async def test_a_publish_a_channel_cannot_take_fails_before_anything_is_rendered(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Fakes()
    inputs = publish_input(
        post={"content": "Spring", "integrations": ["x-1", "tiktok-1"], "type": "now"}
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await run_with_worker(skipping_env, fakes, inputs, _nothing)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == INVALID_REQUEST
    assert "post.channel_settings.x-1.who_can_reply_post" in cause.message
    assert "post.channel_settings.tiktok-1.privacy_level" in cause.message
    assert fakes.images == [] and fakes.posts == []  # nothing rendered, nothing posted
    assert [u.data["engineStage"] for u in fakes.payload][-1] == "failed"


async def _nothing(handle: WorkflowHandle[Any, PublishStatus]) -> None:
    return None


async def test_a_retry_posts_again_only_on_the_channels_that_failed(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Fakes()
    fakes.postiz_states = [{"li-2": "ERROR"}, {}]

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        await approve(handle)
        await until_stage(handle, "publish_failed")
        status = await handle.execute_update(PublishCreativeWorkflow.retry_publish)
        assert status.channels["x-1"] == "PUBLISHED"

    status = await run_with_worker(skipping_env, fakes, publish_input(), script)
    assert status.stage == "published"
    assert [p.post.integrations for p in fakes.posts] == [["x-1", "li-2"], ["li-2"]]
    assert [p.generation for p in fakes.posts] == [0, 1]
    assert status.postiz_post_ids == ["post-x-1", "post-li-2-g1"]
    assert status.permalinks == {
        "x-1": "https://x-1.example/post-x-1",
        "li-2": "https://li-2.example/post-li-2-g1",
    }
    stages = [u.data["engineStage"] for u in fakes.payload]
    assert stages[-5:] == ["queued", "publish_failed", "publishing", "queued", "published"]


async def test_only_a_failed_publish_can_be_retried_and_it_ends_when_nobody_does(
    skipping_env: WorkflowEnvironment,
) -> None:
    fakes = Fakes()
    fakes.postiz_states = [{"li-2": "ERROR"}]

    async def script(handle: WorkflowHandle[Any, PublishStatus]) -> None:
        await until_stage(handle, "awaiting_approval")
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(PublishCreativeWorkflow.retry_publish)
        assert "only a publish that ended publish_failed" in str(refused.value.cause)
        await handle.signal("agent_approval", approval())

    inputs = publish_input(distribution={"retry_window_s": 3600})
    status = await run_with_worker(skipping_env, fakes, inputs, script)
    assert status.stage == "publish_failed" and len(fakes.posts) == 1
