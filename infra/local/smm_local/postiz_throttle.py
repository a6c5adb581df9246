"""Postiz's rate limit on post creation, as its throttler and Redis storage run it.

- THR  gitroomhq/postiz-app@74b01ada libraries/nestjs-libraries/src/throttler/
  throttler.provider.ts L7-24: only ``POST`` whose URL contains ``/public/v1/posts`` is
  counted; the tracker is ``<org id>_posts``.
- MOD  apps/backend/src/app.module.ts L35-43: one throttler, ttl 3 600 000 ms, limit
  ``API_LIMIT`` (default 90); no ``blockDuration``, so the guard uses the ttl.
- GUARD @nestjs/throttler 6.5.0 dist/throttler.guard.js L102-140: a blocked request gets
  ``Retry-After: <seconds left in the block>`` and a 429; an allowed one gets
  ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset``.
- LUA  @nest-lab/throttler-storage-redis 1.2.0 src/throttler-storage-redis.service.js
  L26-58: every request increments the hit counter (blocked ones too); the counter's expiry
  is set by its first hit; past the limit a block key is set for ``blockDuration``. When the
  block has run out, the counter decides again (with ttl = blockDuration its window, opened
  before the block, has run out too, so counting starts afresh).

The double's only change is the time scale: ``ttl_s`` is configurable so a test can see a
block end (upstream's is an hour).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Verdict:
    allowed: bool
    headers: dict[str, str]


@dataclass
class Throttle:
    limit: int = 90
    ttl_s: float = 3600.0
    clock: Callable[[], float] = time.monotonic
    _hits: dict[str, tuple[int, float]] = field(default_factory=dict)  # tracker -> (n, expiry)
    _blocked: dict[str, float] = field(default_factory=dict)  # tracker -> block expiry

    @staticmethod
    def applies(method: str, url: str) -> bool:
        return method == "POST" and "/public/v1/posts" in url

    def hit(self, tracker: str) -> Verdict:
        now = self.clock()
        hits, expiry = self._hits.get(tracker, (0, 0.0))
        if expiry <= now:
            hits, expiry = 0, now + self.ttl_s
        hits += 1
        block = self._blocked.get(tracker)
        if block is not None and block <= now:  # the block has run out: start again
            del self._blocked[tracker]
            block = None
        if block is None and hits > self.limit:
            block = now + self.ttl_s  # blockDuration defaults to the ttl
            self._blocked[tracker] = block
        self._hits[tracker] = (hits, expiry)
        if block is not None:
            return Verdict(False, {"Retry-After": str(math.ceil(block - now))})
        return Verdict(
            True,
            {
                "X-RateLimit-Limit": str(self.limit),
                "X-RateLimit-Remaining": str(max(0, self.limit - hits)),
                "X-RateLimit-Reset": str(math.ceil(expiry - now)),
            },
        )
