"""Two copies of a retried attempt, taking over its dead predecessor's claim at the same
moment: exactly one holds it, the other stops as a duplicate. (Seen in a 300-workflow soak:
both read the dead claim, both overwrote it unconditionally, both rendered the segment.)"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import pytest
from moto import mock_aws

from smm_runtime.claims import Claims, DuplicateDeliveryError
from smm_runtime.contract.errors import WorkError
from smm_runtime.work import WorkContext

BUCKET, KEY = "claims-bucket", "intermediates/segments/x.mp4.claim"


def ctx(attempt: int) -> WorkContext:
    return WorkContext(
        workflow_id="wf", activity_id="7", attempt=attempt, checkpoint=None, memory_mb=3008
    )


def test_two_copies_taking_over_a_dead_claim_at_once_hold_it_once() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(
            Bucket=BUCKET,
            Key=KEY,
            Body=json.dumps(
                {"workflow_id": "wf", "activity_id": "7", "attempt": 1, "at": 0}
            ).encode(),
        )
        both_read = threading.Barrier(2)

        class Racing(Claims):
            reads = 0

            def _read(self, key: str) -> tuple[dict[str, Any], str | None]:
                found = super()._read(key)
                Racing.reads += 1
                if Racing.reads <= 2:
                    both_read.wait(timeout=10)  # both see the dead claim before either writes
                return found

        outcomes: list[Any] = []

        def copy() -> None:
            try:
                outcomes.append(Racing(s3, BUCKET).take(KEY, ctx(attempt=2)) is not None)
            except DuplicateDeliveryError as err:
                outcomes.append(err)

        threads = [threading.Thread(target=copy) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert outcomes.count(True) == 1
        assert sum(isinstance(o, DuplicateDeliveryError) for o in outcomes) == 1


def test_a_holder_taken_for_dead_stops_and_leaves_its_successor_s_claim() -> None:
    """A holder whose refreshes did not get through for ``stale_s`` (a frozen process, a
    network partition) is taken over; when it comes back its refresh is refused (If-Match on
    its own last write), it stops its work, and the successor's claim stays as written —
    neither overwritten by the refresh nor removed on the way out. (Before: the refresh was
    an unconditional PUT, and both rendered.)"""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        claims = Claims(s3, BUCKET, refresh_s=0.1)
        holder = ctx(attempt=1)
        with claims.exclusive(KEY, holder, lambda: False, "waiting") as done:
            assert done is False
            for _ in range(3):  # its own refreshes go through meanwhile
                assert not holder.wait_cancelled(0.15)
            _, etag = claims._read(KEY)
            assert etag is not None
            successor = {
                "workflow_id": "other-wf",
                "activity_id": "3",
                "attempt": 1,
                "at": time.time(),
            }
            s3.put_object(Bucket=BUCKET, Key=KEY, Body=json.dumps(successor).encode(), IfMatch=etag)
            assert holder.wait_cancelled(5)  # the next refresh is refused: the work stops
            with pytest.raises(WorkError, match="took this claim over"):
                holder.raise_if_cancelled()
        after, _ = claims._read(KEY)
        assert after == successor


def test_a_holder_removes_only_its_own_claim_when_done() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        claims = Claims(s3, BUCKET, refresh_s=60)
        with claims.exclusive(KEY, ctx(attempt=1), lambda: False, "waiting"):
            pass
        assert claims._read(KEY) == ({}, None)  # its own: removed


def test_a_live_claim_of_another_workflow_is_not_taken() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        live = {"workflow_id": "other-wf", "activity_id": "3", "attempt": 1, "at": time.time()}
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=json.dumps(live).encode())
        assert Claims(s3, BUCKET).take(KEY, ctx(attempt=1)) is None  # wait for it
        assert Claims(s3, BUCKET)._read(KEY)[0] == live
