"""Shapes of the cluster-wide concurrency cap (one semaphore workflow per pool)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

POOLS = ("video-segments", "video-finalize", "images", "postiz-posts")
# Postiz counts post creations per organization per hour (its API_LIMIT): one pool, whose
# permits free themselves after the window, is the deployment's budget for them.
POSTIZ_POSTS = "postiz-posts"
GRANT_SIGNAL = "permit_granted"


class PermitRequest(BaseModel):
    permit_id: str = Field(min_length=1, max_length=400)
    workflow_id: str = Field(min_length=1, max_length=400)
    lease_s: float = Field(default=300, ge=5, le=86_400)


class AcquireRequest(BaseModel):
    pool: str = Field(description="The pool as configured, e.g. video-segments.")
    task_queue: str = Field(description="Pools are per task queue.")
    capacity: int = Field(ge=1, le=10_000)
    request: PermitRequest


class Holder(BaseModel):
    workflow_id: str
    acquired_at: datetime
    lease_until: datetime


class SemaphoreState(BaseModel):
    pool: str
    capacity: int = Field(ge=1, le=10_000)
    holders: dict[str, Holder] = Field(default_factory=dict)
    waiters: list[PermitRequest] = Field(default_factory=list)
    granted_total: int = 0
    expired_total: int = 0


def semaphore_pool(task_queue: str, pool: str) -> str:
    """A pool's name across the cluster: pools are per task queue."""
    return f"{task_queue}-{pool}"


def semaphore_id(task_queue: str, pool: str) -> str:
    """The workflow id of a pool's semaphore (one per pool, started on first request)."""
    return f"semaphore-{semaphore_pool(task_queue, pool)}"
