"""Exactly-once posting against a Postiz that behaves as Postiz does (the double, in process,
on loopback): answered refusals, lost answers, late commits, and a neighbour's twin post."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from temporalio.exceptions import ApplicationError

from orchestrator.http_json import RATE_LIMITED, REMOTE_ERROR
from orchestrator.publish.postiz import UNSETTLED, PostizPublisher
from smm_local.http_double import serve
from smm_local.loopback import free_port
from smm_local.postiz_double import DEFAULT_INTEGRATIONS, Handler, PostizDouble
from smm_local.postiz_model import PostizState
from smm_runtime.contract.publish_io import CreatePostRequest

BUCKET = "publish-records"
KEY = "postiz-test-key"


@pytest.fixture
def postiz() -> Iterator[tuple[PostizDouble, str]]:
    double = PostizDouble(PostizState(KEY, dict(DEFAULT_INTEGRATIONS)))
    port = free_port()
    server = serve(double, Handler, port)
    yield double, f"http://127.0.0.1:{port}/public/v1"
    server.shutdown()


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def request(
    workflow_id: str = "pub-1", content: str = "Launch day, exactly once", **overrides: Any
) -> CreatePostRequest:
    return CreatePostRequest.model_validate(
        {
            "workflow_id": workflow_id,
            "post": {"content": content, "integrations": ["x-1", "li-2"], "type": "now"},
            "media": [],
            "settle_s": 30,
            "http_timeout_s": 1,
            "rate_limited_wait_s": 77,
            **overrides,
        }
    )


def creates(double: PostizDouble) -> list[dict[str, Any]]:
    return [r for r in double.requests if r["method"] == "POST" and r["path"].endswith("/posts")]


def live(double: PostizDouble) -> list[dict[str, Any]]:
    return [p for p in double.model.posts if p["deletedAt"] is None]


def test_one_post_per_channel_and_a_rerun_sends_nothing(
    postiz: tuple[PostizDouble, str], s3: Any
) -> None:
    double, url = postiz
    publisher = PostizPublisher(s3, BUCKET, url, KEY)
    first = publisher.create_sync(request())
    again = publisher.create_sync(request())
    assert first.post_ids == again.post_ids and again.reused
    assert sorted(first.post_ids) == sorted(p["id"] for p in live(double))
    assert len(creates(double)) == 1
    assert "group" not in creates(double)[0]["json"]["posts"][0]  # Postiz would not keep it


def test_an_answer_lost_after_the_commit_is_found_not_posted_again(
    postiz: tuple[PostizDouble, str], s3: Any
) -> None:
    double, url = postiz
    publisher = PostizPublisher(s3, BUCKET, url, KEY)
    double.controls["fail_after_commit"] = True
    with pytest.raises(ApplicationError) as lost:
        publisher.create_sync(request())
    assert lost.value.type == REMOTE_ERROR
    result = publisher.create_sync(request())  # committed: found at once, by what it stored
    assert result.reused and len(creates(double)) == 1
    assert sorted(result.post_ids) == sorted(p["id"] for p in live(double))


def test_a_create_that_commits_after_our_timeout_is_waited_for(
    postiz: tuple[PostizDouble, str], s3: Any
) -> None:
    double, url = postiz
    publisher = PostizPublisher(s3, BUCKET, url, KEY)
    double.controls["create_delay_s"] = 2  # longer than the 1 s HTTP timeout
    with pytest.raises(ApplicationError) as timed_out:
        publisher.create_sync(request())
    assert timed_out.value.type == REMOTE_ERROR
    with pytest.raises(ApplicationError) as pending:  # nothing listed yet: do not re-post
        publisher.create_sync(request())
    assert pending.value.type == UNSETTLED
    double.controls["create_delay_s"] = 0
    import time

    time.sleep(2.5)  # Postiz finishes the first request
    result = publisher.create_sync(request(), now=datetime.now(UTC) + timedelta(seconds=31))
    assert len(creates(double)) == 1 and len(live(double)) == 2
    assert sorted(result.post_ids) == sorted(p["id"] for p in live(double))


def test_nothing_found_after_the_settle_posts_only_the_missing_channels(
    postiz: tuple[PostizDouble, str], s3: Any
) -> None:
    double, url = postiz
    publisher = PostizPublisher(s3, BUCKET, url, KEY)
    double.controls["fail_after_commit"] = True
    with pytest.raises(ApplicationError):
        publisher.create_sync(request())
    # Someone deleted one channel's post in Postiz before we looked: only that one is
    # posted again, the other is found and kept.
    gone = next(p for p in live(double) if p["integration"]["id"] == "li-2")
    gone["deletedAt"] = datetime.now(UTC).isoformat()
    result = publisher.create_sync(request(), now=datetime.now(UTC) + timedelta(seconds=31))
    assert [p["integration"]["id"] for p in creates(double)[-1]["json"]["posts"]] == ["li-2"]
    assert sorted(result.post_ids) == sorted(p["id"] for p in live(double))


def test_a_rate_limited_create_created_nothing_and_waits_the_configured_time(
    postiz: tuple[PostizDouble, str], s3: Any
) -> None:
    double, url = postiz
    publisher = PostizPublisher(s3, BUCKET, url, KEY)
    double.controls["force_429"] = 1
    with pytest.raises(ApplicationError) as limited:
        publisher.create_sync(request())
    assert limited.value.type == RATE_LIMITED
    assert limited.value.next_retry_delay == timedelta(seconds=77)
    result = publisher.create_sync(request())  # answered 429: post at once, no settle
    assert not result.reused and len(live(double)) == 2


def test_recovery_never_takes_a_twin_post_of_another_workflow(
    postiz: tuple[PostizDouble, str], s3: Any
) -> None:
    double, url = postiz
    publisher = PostizPublisher(s3, BUCKET, url, KEY)
    twin = publisher.create_sync(request("pub-twin"))  # same text, same channels
    double.controls["fail_after_commit"] = True
    with pytest.raises(ApplicationError):
        publisher.create_sync(request("pub-mine"))
    mine = publisher.create_sync(request("pub-mine"), now=datetime.now(UTC) + timedelta(seconds=31))
    assert not set(mine.post_ids) & set(twin.post_ids)
    assert len(live(double)) == 4 and len(creates(double)) == 2


def test_postiz_discards_a_sent_group_and_deletes_its_older_posts(
    postiz: tuple[PostizDouble, str],
) -> None:
    double, _ = postiz
    body = {
        "type": "now",
        "date": "2026-11-27T10:00:00Z",
        "shortLink": False,
        "tags": [],
        "posts": [
            {
                "integration": {"id": "x-1"},
                "group": "g-ours",
                "value": [{"content": "same group twice", "image": []}],
            }
        ],
    }
    now = datetime.now(UTC)
    first = double.model.create(body, now)
    assert double.model.posts[0]["group"] != "g-ours"
    double.model.posts[0]["group"] = "g-ours"  # as if an earlier post had that group
    second = double.model.create(body, now)
    assert first[0]["postId"] != second[0]["postId"]
    assert [p["id"] for p in live(double)] == [second[0]["postId"]]
