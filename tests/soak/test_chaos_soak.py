"""The short chaos soak in `make test`: a few of each workflow through worker SIGKILLs, a
Temporal restart, killed functions, double and late event deliveries. Nothing may be lost or
doubled. (`make soak` runs the long one and prints the same figures.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.soak.chaos import SoakConfig
from tests.soak.chaos_soak import run_soak

pytestmark = pytest.mark.soak
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.mark.timeout(900)
async def test_nothing_is_lost_or_doubled_through_kills_restarts_and_redeliveries(
    tmp_path: Path,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    config = SoakConfig(
        videos=2,
        images=2,
        publishes=2,
        worker_kills=3,
        server_restarts=1,
        function_kill_fraction=0.2,
        kill_every_s=6,
        duplicate_every=3,
        late_every=4,
        late_delay_s=8,
        deadline_s=600,
    )
    report = await run_soak(config, tmp_path, ARTIFACTS / "soak-short-stack.log")
    print("\n" + "\n".join(report.lines()))
    assert report.started == 6
    assert (report.completed, report.failed, report.lost) == (6, 0, 0), report.failures
    assert report.duplicate_segment_renders == 0
    assert report.duplicate_charges == 0
    assert report.duplicate_postiz_posts == 0
    assert report.payload_wrong == []  # every document ends in its publish's stage
    assert report.ledger_invariants_hold
    assert (report.stale_holds, report.leaked_permits) == (0, 0)
    # The chaos really happened: otherwise the zeros above would prove nothing.
    assert report.worker_kills == 3 and report.server_restarts == 1
    assert report.function_kills >= 1
    assert report.duplicated_events >= 1 and report.late_events >= 1
    assert report.postiz_faults >= 1 and report.payload_faults >= 1
    assert report.segment_renders >= 6
    assert report.captures == 6  # every workflow charged, exactly once
