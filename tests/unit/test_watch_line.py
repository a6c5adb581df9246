"""`smm-engine watch`'s line: one bar for a single format, a bar per format for several."""

from __future__ import annotations

import pytest

from orchestrator.cli.watch import line


def render(presets: dict[str, list[int]]) -> dict[str, object]:
    done = sum(d for d, _ in presets.values())
    total = sum(t for _, t in presets.values())
    return {
        "stage": "rendering",
        "render": {
            "stage": "rendering",
            "done": done,
            "total": total,
            "unit": "segments",
            "queued": 2,
            "presets": presets,
            "running": [{"activity": "dispatch_segment", "attempt": 2, "percent": 40.0}],
        },
    }


def test_several_formats_get_a_bar_each() -> None:
    text = line(render({"9:16": [3, 4], "16:9": [1, 4]}), eta_s=12)
    assert "9:16 [" in text and "] 3/4" in text and "16:9 [" in text and "] 1/4" in text
    assert "1 running (40%)" in text and "1 retries" in text
    assert "2 waiting for a permit" in text and "ETA 12 s" in text


def test_one_format_keeps_one_bar() -> None:
    text = line(render({"9:16": [2, 8]}), eta_s=None)
    assert "] 2/8 segments" in text and "9:16 [" not in text


def test_slots_refuses_a_bad_interval_naming_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    from orchestrator.cli import main

    with pytest.raises(SystemExit) as done:
        main(["slots", "--watch", "--interval", "0"])
    assert done.value.code == 2
    assert "--interval:" in capsys.readouterr().err
