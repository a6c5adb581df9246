"""Exactly-once posting against a Postiz that behaves as Postiz does (the double, in process,
on loopback): answered refusals, lost answers, slow commits, racing attempts, rewritten text
and a neighbour's twin post. Counted from the double's store: one post per channel."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from temporalio.exceptions import ApplicationError

from orchestrator.http_json import RATE_LIMITED, REMOTE_ERROR
from orchestrator.publish.postiz import KEY_FIELD, PARTIAL_POST, PostizPublisher
from smm_local.http_double import serve
from smm_local.loopback import free_port
from smm_local.postiz_double import DEFAULT_INTEGRATIONS, Handler, PostizDouble
from smm_local.postiz_model import PostizState
from smm_runtime.contract.errors import INVALID_REQUEST
from smm_runtime.contract.publish_io import CreatePostRequest

BUCKET = "publish-records"
KEY = "postiz-test-key"
SETTINGS = {"x-1": {"who_can_reply_post": "everyone"}, "li-2": {}}
# What Postiz rewrites: a link (shortened), markup characters, an emoji, CRLF and a
# non-breaking space.
HARD_TEXT = "Launch & <learn> more: https://example.com/launch?a=1&b=2 \U0001f680\r\nSee\u00a0you"


@pytest.fixture
def postiz() -> Iterator[tuple[PostizDouble, str]]:
    double = PostizDouble(
        PostizState(KEY, dict(DEFAULT_INTEGRATIONS), short_link_domain="sho.rt", publish_delay_s=0)
    )
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
    workflow_id: str = "pub-1", content: str = "Launch day, exactly once", **post: Any
) -> CreatePostRequest:
    return CreatePostRequest.model_validate(
        {
            "workflow_id": workflow_id,
            "post": {
                "content": content,
                "integrations": ["x-1", "li-2"],
                "type": "now",
                "channel_settings": SETTINGS,
                **post,
            },
            "media": [],
            "http_timeout_s": 1,
            "rate_limited_wait_s": 77,
        }
    )


def creates(double: PostizDouble) -> list[dict[str, Any]]:
    return [r for r in double.requests if r["method"] == "POST" and r["path"].endswith("/posts")]


def live(double: PostizDouble) -> list[dict[str, Any]]:
    """Posts that are or will be published: not deleted, not drafts."""
    double.model.advance(__import__("datetime").datetime.now(__import__("datetime").UTC))
    return [p for p in double.model.posts if p["deletedAt"] is None and p["state"] != "DRAFT"]


def per_channel(double: PostizDouble) -> dict[str, int]:
    counts: dict[str, int] = {}
    for post in live(double):
        counts[post["integration"]["id"]] = counts.get(post["integration"]["id"], 0) + 1
    return counts


def test_one_post_per_channel_and_a_rerun_sends_nothing(
    postiz: tuple[PostizDouble, str], s3: Any
) -> None:
    double, url = postiz
    publisher = PostizPublisher(s3, BUCKET, url, KEY)
    first = publisher.create_sync(request())
    sent = len(creates(double))
    again = publisher.create_sync(request())
    assert first.post_ids == again.post_ids and again.reused
    assert len(creates(double)) == sent == 2  # the drafts in one call, then their promotion
    assert sorted(first.post_ids) == sorted(p["id"] for p in live(double))
    assert per_channel(double) == {"x-1": 1, "li-2": 1}
    drafts = creates(double)[0]["json"]
    assert drafts["type"] == "draft" and "group" not in drafts["posts"][0]
    assert all(KEY_FIELD in p["settings"] for p in drafts["posts"])


@pytest.mark.parametrize("fault", ["drop_answer", "fail_after_commit"])
@pytest.mark.parametrize("step", [0, 1])  # the drafts' create, or a promotion
def test_an_answer_lost_after_the_commit_never_doubles_a_post(
    postiz: tuple[PostizDouble, str], s3: Any, fault: str, step: int
) -> None:
    double, url = postiz
    publisher = PostizPublisher(s3, BUCKET, url, KEY)
    if step:
        double.controls["create_delay_s"] = 0
        publisher.create_sync(request(type="draft"))  # drafts made; now lose a promotion
    double.controls[fault] = True
    with pytest.raises(ApplicationError) as lost:
        publisher.create_sync(request(content=HARD_TEXT))
    assert lost.value.type == REMOTE_ERROR
    result = publisher.create_sync(request(content=HARD_TEXT))
    assert per_channel(double) == {"x-1": 1, "li-2": 1}
    assert sorted(result.post_ids) == sorted(p["id"] for p in live(double))


def test_postiz_stores_rewritten_text_and_recovery_still_finds_the_post(
    postiz: tuple[PostizDouble, str], s3: Any
) -> None:
    double, url = postiz
    publisher = PostizPublisher(s3, BUCKET, url, KEY)
    double.controls["drop_answer"] = True
    with pytest.raises(ApplicationError):
        publisher.create_sync(request(content=HARD_TEXT, short_link=True))
    stored = double.model.posts[0]["content"]
    assert stored != HARD_TEXT  # what a text match would have missed
    # <learn> is an element DOMPurify removes; CRLF is LF; the non-breaking space is an
    # entity; the link is a short link (whose conversion un-escapes the '&amp;' again).
    assert stored == "Launch &  more: https://sho.rt/000000 \U0001f680\nSee&nbsp;you"
    publisher.create_sync(request(content=HARD_TEXT, short_link=True))
    assert per_channel(double) == {"x-1": 1, "li-2": 1}


def test_a_commit_slower_than_any_wait_leaves_at_most_a_draft(
    postiz: tuple[PostizDouble, str], s3: Any
) -> None:
    double, url = postiz
    publisher = PostizPublisher(s3, BUCKET, url, KEY)
    double.controls["create_delay_s"] = 2  # longer than the 1 s HTTP timeout
    with pytest.raises(ApplicationError) as timed_out:
        publisher.create_sync(request())
    assert timed_out.value.type == REMOTE_ERROR
    double.controls["create_delay_s"] = 0
    result = publisher.create_sync(request())  # nothing listed yet: new drafts, promoted
    time.sleep(2.5)  # the first request commits its drafts now
    assert per_channel(double) == {"x-1": 1, "li-2": 1}
    assert sorted(result.post_ids) == sorted(p["id"] for p in live(double))
    publisher.create_sync(request())  # a later look deletes the late drafts
    assert [p for p in double.model.posts if p["deletedAt"] is None and p["state"] == "DRAFT"] == []


def test_two_attempts_racing_agree_on_one_post_per_channel(
    postiz: tuple[PostizDouble, str], s3: Any
) -> None:
    double, url = postiz
    double.controls["create_delay_s"] = 0.3
    results: list[Any] = []

    def attempt() -> None:
        try:
            results.append(PostizPublisher(s3, BUCKET, url, KEY).create_sync(request()))
        except ApplicationError as err:
            results.append(err)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert per_channel(double) == {"x-1": 1, "li-2": 1}


def test_a_rate_limited_create_waits_what_postiz_says(
    postiz: tuple[PostizDouble, str], s3: Any
) -> None:
    double, url = postiz
    double.model.throttle.limit = 1
    double.model.throttle.ttl_s = 40
    publisher = PostizPublisher(s3, BUCKET, url, KEY)
    with pytest.raises(ApplicationError) as limited:
        publisher.create_sync(request())  # the drafts pass, the first promotion is blocked
    assert limited.value.type == RATE_LIMITED
    wait = limited.value.next_retry_delay
    assert wait is not None and timedelta(seconds=38) <= wait <= timedelta(seconds=40)
    double.model.throttle.ttl_s = 0.2  # the window (and block) run out
    double.model.throttle._blocked.clear()
    double.model.throttle._hits.clear()
    double.model.throttle.limit = 90
    publisher.create_sync(request())
    assert per_channel(double) == {"x-1": 1, "li-2": 1}


def test_settings_postiz_refuses_are_a_clear_error_naming_the_field(
    postiz: tuple[PostizDouble, str], s3: Any
) -> None:
    double, url = postiz
    publisher = PostizPublisher(s3, BUCKET, url, KEY)
    with pytest.raises(ApplicationError) as refused:
        publisher.create_sync(request(channel_settings={}))
    assert refused.value.type == INVALID_REQUEST and refused.value.non_retryable
    assert "who_can_reply_post must be one of the following values" in str(refused.value)
    assert live(double) == []


def test_a_channel_postiz_does_not_have_is_refused_before_anything_is_sent(
    postiz: tuple[PostizDouble, str], s3: Any
) -> None:
    double, url = postiz
    with pytest.raises(ApplicationError) as refused:
        PostizPublisher(s3, BUCKET, url, KEY).create_sync(request(integrations=["x-9"]))
    assert refused.value.type == INVALID_REQUEST and "x-9" in str(refused.value)
    assert creates(double) == []


def test_recovery_never_takes_a_twin_post_of_another_workflow(
    postiz: tuple[PostizDouble, str], s3: Any
) -> None:
    double, url = postiz
    publisher = PostizPublisher(s3, BUCKET, url, KEY)
    twin = publisher.create_sync(request("pub-twin"))  # same text, same channels
    double.controls["drop_answer"] = True
    with pytest.raises(ApplicationError):
        publisher.create_sync(request("pub-mine"))
    mine = publisher.create_sync(request("pub-mine"))
    assert not set(mine.post_ids) & set(twin.post_ids)
    assert per_channel(double) == {"x-1": 2, "li-2": 2}


def test_a_record_of_the_release_before_drafts_is_honoured(
    postiz: tuple[PostizDouble, str], s3: Any
) -> None:
    """A publish in flight across the upgrade: its posts went out as 'now' and are live."""
    double, url = postiz
    publisher = PostizPublisher(s3, BUCKET, url, KEY)
    rkey = publisher.record_key(request())
    s3.put_object(
        Bucket=BUCKET,
        Key=rkey,
        Body=b'{"workflow_id": "pub-1", "state": "created", "posts": {"x-1": "p1", "li-2": "p2"}}',
    )
    result = publisher.create_sync(request())
    assert result.post_ids == ["p1", "p2"] and creates(double) == []


def test_an_old_record_of_a_partial_post_is_an_error_not_a_success(
    postiz: tuple[PostizDouble, str], s3: Any
) -> None:
    """The first releases recorded only the ids Postiz answered; one id for two channels was
    a partial post reported as published. It now fails, naming what to check, and posts
    nothing more (a second post could double the channel that has one)."""
    double, url = postiz
    publisher = PostizPublisher(s3, BUCKET, url, KEY)
    rkey = publisher.record_key(request())
    s3.put_object(Bucket=BUCKET, Key=rkey, Body=json.dumps({"post_ids": ["p-only-x"]}))
    with pytest.raises(ApplicationError) as caught:
        publisher.create_sync(request())
    assert caught.value.non_retryable and caught.value.type == PARTIAL_POST
    assert "1 Postiz post(s)" in str(caught.value) and "2 channel(s)" in str(caught.value)
    assert creates(double) == []
    s3.put_object(Bucket=BUCKET, Key=rkey, Body=json.dumps({"post_ids": ["p-x", "p-li"]}))
    whole = publisher.create_sync(request())
    assert whole.post_ids == ["p-x", "p-li"] and whole.reused and creates(double) == []
