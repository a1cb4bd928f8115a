"""On a real pseudo-terminal drift shows a progress bar on stderr; off one it shows none."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

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
