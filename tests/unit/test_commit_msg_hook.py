"""The commit-msg hook in .githooks: short subjects pass, long ones and a body glued to the
subject are refused with a message that says what to do."""

from __future__ import annotations

import subprocess
from pathlib import Path

HOOK = Path(__file__).resolve().parents[2] / ".githooks" / "commit-msg"


def run(message: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "COMMIT_EDITMSG"
    path.write_text(message)
    return subprocess.run([str(HOOK), str(path)], capture_output=True, text=True, check=False)


def test_a_short_subject_with_a_body_passes(tmp_path: Path) -> None:
    result = run("Billing holds as a context manager\n\nThe detail goes here.\n", tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_long_subject_is_refused_naming_its_length(tmp_path: Path) -> None:
    result = run("x" * 73 + "\n", tmp_path)
    assert result.returncode == 1
    assert "73 characters" in result.stderr and "72" in result.stderr


def test_a_body_on_the_second_line_is_refused(tmp_path: Path) -> None:
    result = run("Subject\nbody right under it\n", tmp_path)
    assert result.returncode == 1
    assert "second line blank" in result.stderr


def test_git_comments_do_not_count(tmp_path: Path) -> None:
    result = run("# Please enter the commit message\nShort subject\n", tmp_path)
    assert result.returncode == 0, result.stderr
