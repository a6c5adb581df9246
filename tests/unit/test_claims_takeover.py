"""Two copies of a retried attempt, taking over its dead predecessor's claim at the same
moment: exactly one holds it, the other stops as a duplicate. (Seen in a 300-workflow soak:
both read the dead claim, both overwrote it unconditionally, both rendered the segment.)"""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
from moto import mock_aws

from smm_runtime.claims import Claims, DuplicateDeliveryError
from smm_runtime.work import WorkContext

BUCKET, KEY = "claims-bucket", "intermediates/segments/x.mp4.claim"


def ctx(attempt: int) -> WorkContext:
    return WorkContext(workflow_id="wf", activity_id="7", attempt=attempt, checkpoint=None,
                       memory_mb=3008)


def test_two_copies_taking_over_a_dead_claim_at_once_hold_it_once() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=json.dumps(
            {"workflow_id": "wf", "activity_id": "7", "attempt": 1, "at": 0}).encode())
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
                outcomes.append(Racing(s3, BUCKET).take(KEY, ctx(attempt=2)))
            except DuplicateDeliveryError as err:
                outcomes.append(err)

        threads = [threading.Thread(target=copy) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert outcomes.count(True) == 1
        assert sum(isinstance(o, DuplicateDeliveryError) for o in outcomes) == 1
