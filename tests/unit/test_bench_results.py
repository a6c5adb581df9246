"""The bench figures' bookkeeping (tests/bench/results.py): a figure is the median of three
or more runs with its spread; a change is flagged only outside the old spread by more than
10 %; each figure has one writer."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.bench import results


@pytest.fixture
def results_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "results.json"
    monkeypatch.setattr(results, "RESULTS", path)
    monkeypatch.setattr(results, "_writer", lambda: "dispatch_bench")
    return path


def test_a_figure_is_the_median_of_its_runs_with_their_spread(results_file: Path) -> None:
    line = results.record("dispatch.lambda_median", [12.0, 30.0, 11.0], "ms")
    stored = json.loads(results_file.read_text())["figures"]["dispatch.lambda_median"]
    assert stored["median"] == 12.0 and stored["spread"] == [11.0, 30.0] and stored["runs"] == 3
    assert "12 ms [11..30, n=3] (no earlier figure)" in line


def test_fewer_than_three_runs_is_refused(results_file: Path) -> None:
    with pytest.raises(ValueError, match="1 run"):
        results.record("dispatch.lambda_median", [12.0], "ms")
    assert not results_file.exists()


@pytest.mark.parametrize(
    ("runs", "better", "flag"),
    [
        ([11.5, 12.0, 12.5], "lower", None),  # inside the old spread: noise
        ([13.0, 13.1, 13.2], "lower", None),  # above the spread, by less than 10 %
        ([14.0, 14.5, 15.0], "lower", "WORSE"),  # above the spread by more than 10 %
        ([8.0, 8.5, 9.0], "lower", "better"),
        ([14.0, 14.5, 15.0], "higher", "better"),
        ([8.0, 8.5, 9.0], "higher", "WORSE"),
    ],
)
def test_a_change_is_flagged_only_outside_the_old_spread_by_more_than_10_percent(
    results_file: Path, runs: list[float], better: str, flag: str | None
) -> None:
    results.record("dispatch.ratio", [10.0, 11.0, 12.5], "x", better)
    line = results.record("dispatch.ratio", runs, "x", better)
    assert "was 11 [10..12.5]" in line
    marks = re.findall(r"<-- (WORSE|better)", line)
    assert marks == ([flag] if flag else []), line


def test_a_figure_recorded_before_spreads_compares_against_its_value(results_file: Path) -> None:
    results_file.write_text(json.dumps({"figures": {"dispatch.ratio": {"value": 2.0}}}))
    assert "WORSE" in results.record("dispatch.ratio", [2.3, 2.3, 2.4], "x")


def test_each_figure_has_one_writer(results_file: Path) -> None:
    with pytest.raises(ValueError, match="belongs to image_bench"):
        results.record("images.warm_card_median", [1.0, 1.0, 1.0], "ms")
    with pytest.raises(ValueError, match="no bench owns it"):
        results.record("mystery.figure", [1.0, 1.0, 1.0], "ms")
    # The committed figures all have an owner.
    committed = json.loads((Path(results.__file__).parent / "results.json").read_text())
    for name in committed["figures"]:
        assert results.owner(name)
