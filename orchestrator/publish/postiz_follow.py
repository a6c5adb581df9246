"""What Postiz has done with a publish's posts since it accepted them.

Postiz accepts a post into its queue and publishes it later, in its own workflow: the post
becomes ``PUBLISHED`` with a ``releaseURL``, or ``ERROR``, or stays ``QUEUE`` when Postiz's
workers are not running (gitroomhq/postiz-app@74b01ada
apps/orchestrator/src/workflows/post-workflows/post.workflow.v1.0.9.ts L138-160, L446-451).
The public API's list is the only place to read that (``GET /public/v1/posts``, by publish
date); it does not return the reason of an ``ERROR`` (posts.repository.ts L168-192 select no
``error``), so the engine says where to read it: Postiz's own calendar.
"""

from __future__ import annotations

from temporalio import activity

from orchestrator.executors import on_http
from orchestrator.publish.postiz import PostizPublisher, publish_key
from smm_runtime.contract.publish_io import ChannelState, FollowRequest, FollowResult


class PostizFollower:
    def __init__(self, publisher: PostizPublisher) -> None:
        self._postiz = publisher

    def follow_sync(self, request: FollowRequest) -> FollowResult:
        key = publish_key(request.workflow_id, request.generation)
        rows = {p["id"]: p for p in self._postiz.listed(request.date)}
        channels: dict[str, ChannelState] = {}
        for channel, post_id in request.post_ids.items():
            row = rows.get(post_id)
            if row is None or PostizPublisher.key_of(row) != key:
                channels[channel] = ChannelState(state="DELETED")
                continue
            state = str(row.get("state"))
            url = row.get("releaseURL") if state == "PUBLISHED" else None
            known = state if state in ("QUEUE", "PUBLISHED", "ERROR", "DRAFT") else "QUEUE"
            channels[channel] = ChannelState.model_validate(
                {"state": known, "url": str(url) if url else None}
            )
        return FollowResult(channels=channels)

    @activity.defn(name="follow_postiz_posts")
    async def follow_postiz_posts(self, request: FollowRequest) -> FollowResult:
        return await on_http("postiz", self.follow_sync, request)
