"""The short upgrade soak in `make test`: workflows of the last release (RELEASED) waiting
for approval (two of them after continuing as new), scheduled for later and mid-render when
this code is deployed beside them, then alone. (`make upgrade-soak FROM=<ref>` runs the
same from any release.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.upgrade.upgrade_soak import UpgradeConfig, run_upgrade

pytestmark = pytest.mark.soak
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.mark.timeout(900)
async def test_a_rolling_deploy_into_the_last_releases_workflows_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    config = UpgradeConfig(videos=2, publishes=3, scheduled=1, overlap_s=10, deadline_s=480)
    report = await run_upgrade(config, tmp_path, ARTIFACTS / "upgrade-short-stack.log")
    print("\n" + "\n".join(report.lines()))
    assert report.started == 6
    assert (report.completed, report.failed, report.lost) == (6, 0, 0), report.failures
    assert report.failures == []  # every publish ended published
    assert report.nondeterminism == 0
    assert (report.duplicate_postiz_posts, report.lost_postiz_posts) == (0, 0)
    assert report.duplicate_charges == 0 and report.stale_holds == 0
    assert report.ledger_invariants_hold and report.leaked_permits == 0
    # The deploy really met workflows at their waiting points.
    assert report.waiting_at_deploy["awaiting_approval"] == 3
    assert report.waiting_at_deploy["scheduled"] == 1
    # Publishes that continued as new on the release's workers (their chains run on here).
    assert report.waiting_at_deploy["publishes_continued_as_new"] >= 2
