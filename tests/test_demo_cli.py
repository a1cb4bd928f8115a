"""The quick start's first command: `drift demo` prints the audit and writes its reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_drift_demo_end_to_end(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "drift", "demo", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for heading in (
        "Divergence per adjacent pair",
        "Readiness for trunk-based delivery",
        "Verdict",
    ):
        assert heading in proc.stdout
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.lower().startswith("<!doctype html>")
    assert "acme-shop" in html
    assert (tmp_path / "out" / "report.md").read_text().startswith("#")
    # every kind a chain can have (cross_merge needs release lines beside each other)
    counts = data["summary"]["by_kind"]
    assert all(count > 0 for kind, count in counts.items() if kind != "cross_merge")
    assert [e["name"] for e in data["environments"]] == ["dev", "test", "staging", "prod"]
