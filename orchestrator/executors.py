"""Where the worker's blocking calls run: one bounded pool for AWS, one per third party.

The Lambda invokes that start every render, and the S3 and DynamoDB calls around them, must
never queue behind a slow third party (a Payload answering in 20 s, a webhook that hangs):
with one shared pool, a few slow HTTP calls held every thread and dispatch stalled. Each
pool is bounded, and third-party calls get a deadline below their activity's time left, so
the activity sees the HTTP timeout (and retries) rather than timing out itself. Each third
party has its own pool too: a Payload answering slowly must not hold up Postiz (whose
posts have a budget and a rate limit) or the review webhooks, nor the other way round.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from temporalio import activity

T = TypeVar("T")
AWS_THREADS = 32  # Lambda, S3, DynamoDB: quick calls, many at once
# Third parties, slow at times: never allowed to crowd AWS out, nor one another.
HTTP_THREADS = {"payload": 8, "postiz": 8, "webhooks": 4}
HTTP_MARGIN_S = 2.0  # an HTTP call ends this long before its activity would time out

_aws = ThreadPoolExecutor(AWS_THREADS, thread_name_prefix="smm-aws")
_http = {
    party: ThreadPoolExecutor(threads, thread_name_prefix=f"smm-{party}")
    for party, threads in HTTP_THREADS.items()
}


async def on_aws(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(
        _aws, functools.partial(fn, *args, **kwargs)
    )


async def on_http(party: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking call to ``party`` (payload, postiz or webhooks) on its own pool."""
    return await asyncio.get_running_loop().run_in_executor(
        _http[party], functools.partial(fn, *args, **kwargs)
    )


def http_deadline(default_s: float) -> float:
    """Seconds an HTTP call may take inside the current activity: the default, cut to what
    is left of the activity's start-to-close timeout minus a margin (at least one second)."""
    info = activity.info()
    limit = info.start_to_close_timeout
    if limit is None:
        return default_s
    elapsed = (datetime.now(UTC) - info.started_time).total_seconds()
    left = limit.total_seconds() - elapsed - HTTP_MARGIN_S
    return max(1.0, min(default_s, left))
