"""Shapes of the cluster-wide concurrency cap (one semaphore workflow per pool)."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import datetime

from pydantic import BaseModel, Field

from smm_runtime.contract.kinds import KINDS

# Postiz counts post creations per organization per hour (its API_LIMIT): one pool, whose
# permits free themselves after the window, is the deployment's budget for them.
POSTIZ_POSTS = "postiz-posts"
# The pools dispatches wait in (each kind's row names its own), then the Postiz budget.
POOLS = (*dict.fromkeys(k.pool for k in KINDS if k.pool is not None), POSTIZ_POSTS)
# The worker settings naming the functions whose concurrency each pool caps: a cap above a
# function's reserved concurrency would grant permits whose invocations Lambda throttles
# into its hidden async queue, the very queue the cap exists to avoid.
POOL_FUNCTIONS = {
    pool: tuple(dict.fromkeys(k.setting for k in KINDS if k.pool == pool))
    for pool in POOLS
    if pool != POSTIZ_POSTS
}
GRANT_SIGNAL = "permit_granted"
# The semaphore tells a holder whose lease ran out (an outage longer than the lease, a
# renew lost): the holder renews at once, or loses its slot after the grace period.
EXPIRED_SIGNAL = "permit_expired"
# At most this many requests queue in the semaphore (its state is carried across
# continue-as-new); a request beyond it is not queued, and its requester asks again later.
MAX_WAITERS = 20_000


class PermitRequest(BaseModel):
    permit_id: str = Field(min_length=1, max_length=400)
    workflow_id: str = Field(min_length=1, max_length=400)
    lease_s: float = Field(default=300, ge=5, le=86_400)
    # False for a take (a rate budget): it frees itself when its lease ends, untold.
    renewable: bool = True


class AcquireRequest(BaseModel):
    pool: str = Field(description="The pool as configured, e.g. video-segments.")
    task_queue: str = Field(description="Pools are per task queue.")
    capacity: int = Field(ge=1, le=10_000)
    request: PermitRequest


class Holder(BaseModel):
    workflow_id: str
    acquired_at: datetime
    lease_until: datetime
    # The lease granted; each renewal extends by exactly this much. None in states carried
    # over from before it was recorded: the default lease then.
    lease_s: float | None = None
    renewable: bool = True
    told_expired: bool = False  # told, and inside its grace period


class SemaphoreState(BaseModel):
    pool: str
    capacity: int = Field(ge=1, le=10_000)
    holders: dict[str, Holder] = Field(default_factory=dict)
    waiters: list[PermitRequest] = Field(default_factory=list)
    # Across continue-as-new the queue travels packed (zlib, base64 of compact rows), so
    # 20,000 waiters stay far under the payload limit; the snapshot query shows the head.
    packed_waiters: str = ""
    waiting: int = 0
    granted_total: int = 0
    expired_total: int = 0
    readmitted_total: int = 0
    refused_total: int = 0
    # Permits released lately (newest last, at most RELEASED_KEPT): a renewal that arrives
    # after its release is late news, not a holder to readmit.
    released: list[str] = Field(default_factory=list)


RELEASED_KEPT = 2_000


def pack_waiters(waiters: list[PermitRequest]) -> str:
    """The queue as compact rows (permit, workflow, lease, renewable), compressed."""
    rows = [[w.permit_id, w.workflow_id, w.lease_s, int(w.renewable)] for w in waiters]
    raw = json.dumps(rows, separators=(",", ":")).encode()
    return base64.b64encode(zlib.compress(raw, 9)).decode()


def unpack_waiters(packed: str) -> list[PermitRequest]:
    if not packed:
        return []
    rows = json.loads(zlib.decompress(base64.b64decode(packed)))
    return [
        PermitRequest(permit_id=p, workflow_id=w, lease_s=lease, renewable=bool(r))
        for p, w, lease, r in rows
    ]


class RenewRequest(BaseModel):
    """A holder's renewal; an expired holder (still working) is readmitted with it."""

    permit_id: str = Field(min_length=1, max_length=400)
    workflow_id: str = Field(min_length=1, max_length=400)
    lease_s: float = Field(default=300, ge=5, le=86_400)


def semaphore_pool(task_queue: str, pool: str) -> str:
    """A pool's name across the cluster: pools are per task queue."""
    return f"{task_queue}-{pool}"


def semaphore_id(task_queue: str, pool: str) -> str:
    """The workflow id of a pool's semaphore (one per pool, started on first request)."""
    return f"semaphore-{semaphore_pool(task_queue, pool)}"
