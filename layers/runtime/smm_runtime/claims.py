"""One delivery does the work: a claim object written only when absent (S3 `If-None-Match`).

Lambda delivers an async event at least once, and two copies can run at the same moment;
botocore may also retry an Invoke that in fact arrived. The first delivery to write the claim
does the work; a copy of the same attempt stops quietly (the holder completes the activity
with the same task token); a later attempt of the same activity takes over (Temporal retries
only a dead attempt); anyone else waits for the holder's result. A claim older than
``stale_s`` (the holder refreshes it while it works) was left by a delivery that died: taken
over. The holder refreshes only the claim it wrote (If-Match on its own ETag): a holder
that was taken for dead but lives finds its refresh refused, stops its work and fails the
attempt (retryable: the retry waits for the successor's result), and leaves the successor's
claim alone. The claim is removed when the holder is done, whatever happened.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from smm_runtime.contract.errors import WorkError
from smm_runtime.work import WorkContext

logger = logging.getLogger(__name__)


class DuplicateDeliveryError(Exception):
    """This event is already being worked on by another delivery of the same attempt."""


@dataclass
class Claims:
    s3: Any
    bucket: str
    # The holder refreshes its claim every refresh_s; one not refreshed for stale_s belongs
    # to a delivery that died (killed, out of memory, timed out).
    stale_s: float = 90.0
    refresh_s: float = 20.0
    # S3 object tags for every claim written (a URL-encoded query, as PutObject takes it):
    # checkpoint claims carry the intermediates' retention tag.
    tagging: str | None = None

    def _read(self, key: str) -> tuple[dict[str, Any], str | None]:
        """The claim and its ETag ({} and None when there is none)."""
        try:
            got = self.s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return {}, None
            raise
        found: dict[str, Any] = json.loads(got["Body"].read())
        return found, got.get("ETag")

    def _put(self, key: str, body: dict[str, Any], **condition: str) -> str | None:
        """Write the claim if ``condition`` holds: its new ETag, or None when S3 refuses
        (412; also 409, S3's answer to a conditional write racing another)."""
        try:
            put = self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=json.dumps(body).encode(),
                ContentType="application/json",
                **({"Tagging": self.tagging} if self.tagging else {}),
                **condition,
            )
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code")
            if code not in {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}:
                raise
            return None
        return str(put["ETag"])

    @staticmethod
    def _mine(ctx: WorkContext) -> dict[str, Any]:
        return {
            "workflow_id": ctx.workflow_id,
            "activity_id": ctx.activity_id,
            "attempt": ctx.attempt,
            "at": time.time(),
        }

    def take(self, key: str, ctx: WorkContext) -> str | None:
        """The claim's ETag when this delivery now holds ``key``. A copy of the very same
        attempt raises DuplicateDeliveryError; another attempt or workflow gets None (and
        should wait)."""
        mine = self._mine(ctx)
        for _ in range(5):
            if (etag := self._put(key, mine, IfNoneMatch="*")) is not None:
                return etag
            held, etag = self._read(key)
            if not held or etag is None:
                continue  # released meanwhile, or refused but not yet readable: ask again
            same_activity = all(held.get(k) == mine[k] for k in ("workflow_id", "activity_id"))
            if same_activity and held.get("attempt") == ctx.attempt:
                raise DuplicateDeliveryError(f"{key} is held by another copy of this delivery")
            # Temporal starts a new attempt only once the last one failed or timed out, so an
            # older attempt's claim is dead; so is any claim older than an invocation can live.
            dead = (
                same_activity and int(held.get("attempt", 0)) < ctx.attempt
            ) or time.time() - float(held.get("at", 0)) > self.stale_s
            if not dead:
                return None
            # Take it over only as it was read (If-Match): of two copies taking over the same
            # dead claim at once, one wins and the other, looking again, sees its twin.
            if (taken := self._put(key, mine, IfMatch=etag)) is not None:
                return taken
        return None  # someone holds it and we could not settle who: wait, never take over

    @contextmanager
    def exclusive(
        self, key: str, ctx: WorkContext, done: Callable[[], bool], waiting: str
    ) -> Iterator[bool]:
        """Yields True when ``done()`` (another delivery finished the work), False while
        this delivery holds ``key``; the claim is refreshed while held and removed after."""
        while True:
            if done():
                yield True
                return
            if (etag := self.take(key, ctx)) is not None:
                # The previous holder may have finished and released between our look and
                # our take: look again while holding, or the work would be done twice.
                if done():
                    self.s3.delete_object(Bucket=self.bucket, Key=key)
                    yield True
                    return
                break
            ctx.report(stage=waiting)
            ctx.raise_if_cancelled()
            ctx.wait_cancelled(1.0)
        held = _Held(key, etag)
        stop = threading.Event()
        refresher = threading.Thread(target=self._refresh, args=(held, ctx, stop), daemon=True)
        refresher.start()
        try:
            yield False
        finally:
            stop.set()
            refresher.join(timeout=5)
            if not held.lost:
                # Only as we wrote it: a successor's claim is not ours to remove.
                self._delete_if_mine(held)

    def _refresh(self, held: _Held, ctx: WorkContext, stop: threading.Event) -> None:
        while not stop.wait(self.refresh_s):
            try:
                etag = self._put(held.key, self._mine(ctx), IfMatch=held.etag)
            except ClientError as err:  # S3 briefly unavailable: the next refresh may work
                logger.warning("claim refresh failed: %s", err.response.get("Error", {}))
                continue
            if etag is None:
                held.lost = True
                ctx.abandon(
                    WorkError(
                        f"{held.key}: another delivery took this claim over (no refresh got "
                        f"through for {self.stale_s:.0f} s); stopping so the work is done once — "
                        "the retry waits for that delivery's result"
                    )
                )
                return
            held.etag = etag

    def _delete_if_mine(self, held: _Held) -> None:
        """Remove the claim only as we last wrote it (S3 conditional delete, If-Match; the
        role needs s3:GetObject besides s3:DeleteObject for it). S3 answers 412 when the
        ETag differs, 404 when the key is gone and 409 when a write to it raced ours
        (AWS S3 user guide, "How to perform conditional deletes"): in each case the claim is
        not ours to remove any more."""
        try:
            self.s3.delete_object(Bucket=self.bucket, Key=held.key, IfMatch=held.etag)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in {
                "PreconditionFailed",
                "412",
                "NoSuchKey",
                "404",
                "ConditionalRequestConflict",
                "409",
            }:
                raise


@dataclass
class _Held:
    """The claim this delivery holds: its key and the ETag of our last write."""

    key: str
    etag: str
    lost: bool = False
