"""The terminal: a progress bar on a real pseudo-terminal only, and the summary's wording."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from drift.cli import main
from tests.small_repos import four_envs


def test_progress_bar_on_a_terminal_only(tmp_path: Path) -> None:
    b = four_envs(tmp_path)
    main_fd, child_fd = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "drift", "audit", str(b.path), "--json", str(tmp_path / "r.json")],
        stdout=subprocess.PIPE,
        stderr=child_fd,
        check=False,
    )
    os.close(child_fd)
    chunks = []
    while True:
        try:
            data = os.read(main_fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(main_fd)
    shown = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0
    assert "Walking history" in shown or "Grouping changes" in shown
    plain = subprocess.run(
        [sys.executable, "-m", "drift", "audit", str(b.path)], capture_output=True, text=True
    )
    assert plain.returncode == 0 and plain.stderr == ""


def test_the_delivery_table_says_a_window_of_one_week_has_no_trend(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A history shorter than a week has one week end: the pending count there, and no
    direction (the terminal printed Python's `None` for it, and "1 weeks")."""
    b = four_envs(tmp_path)
    assert main(["audit", str(b.path), "--color", "never"]) == 0
    shown = capsys.readouterr().out
    rows = [line for line in shown.splitlines() if "pending dev -> test" in line]
    assert rows and all("too short for a trend" in row for row in rows), rows
    assert "None" not in shown


def test_the_pending_trend_reads_as_counts_over_weeks() -> None:
    from drift.render.terminal import _over_time

    trend = {"weeks": 5, "first": 3, "last": 9, "slope_per_week": 1.5, "direction": "growing"}
    assert _over_time(trend) == "3 -> 9 over 5 weeks (growing)"
    empty = {"weeks": 0, "first": None, "last": None, "slope_per_week": None, "direction": None}
    assert _over_time(empty) == "no week end in the window"
