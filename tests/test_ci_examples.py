"""The ready-made CI in examples/: what the definitions promise, and their commands, run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from drift_fixtures.scenarios import hotfix_forgotten_on_dev

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def test_github_workflow_promises() -> None:
    flow: dict[Any, Any] = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    triggers = flow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"] and triggers["push"]["branches"] == [
        "dev",
        "test",
        "staging",
        "prod",
    ]
    steps = flow["jobs"]["drift"]["steps"]
    by_use = {s.get("uses", "").split("@")[0]: s for s in steps}
    assert by_use["actions/checkout"]["with"]["fetch-depth"] == 0
    assert by_use["actions/cache"]["with"]["path"].split() == [".drift-cache", ".drift-history"]
    upload = by_use["actions/upload-artifact"]
    assert upload["if"] == "always()" and upload["with"]["path"] == "drift-out/"
    (audit,) = [s for s in steps if "drift-ci.sh" in s.get("run", "")]
    assert audit["run"] == 'DRIFT_SUMMARY="$GITHUB_STEP_SUMMARY" sh examples/drift-ci.sh'


def test_gitlab_job_promises() -> None:
    job = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())["drift"]
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in job["rules"]
    assert job["variables"]["GIT_DEPTH"] == "0"
    assert job["cache"]["paths"] == [".drift-cache/", ".drift-history/"]
    assert job["artifacts"]["when"] == "always" and job["artifacts"]["paths"] == ["drift-out/"]
    assert job["script"] == ["sh examples/drift-ci.sh"]


def run_example(work: Path, repo: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """examples/drift-ci.sh as CI runs it, with `drift` (this Python's) on PATH."""
    bin_dir = work / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "drift"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m drift "$@"\n')
    shim.chmod(0o755)
    environment = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
        "PYTHONPATH": str(ROOT),
        "DRIFT_REPO": str(repo),
        # The fixtures' pinned clock is in January 2025: measured at the real "now", their
        # history would lie outside every time window the metrics look at.
        "DRIFT_AS_OF": "2025-02-01",
        **env,
    }
    return subprocess.run(
        ["sh", str(EXAMPLES / "drift-ci.sh")],
        cwd=work,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_example_commands_on_a_fixture_repository(tmp_path: Path) -> None:
    repo = hotfix_forgotten_on_dev(tmp_path).path
    work = tmp_path / "job"
    work.mkdir()
    first = run_example(work, repo)
    assert first.returncode == 1, first.stderr  # the forgotten hotfix trips the gate
    assert "gate fail-on missing_hotfix tripped" in first.stdout
    assert "\x1b[" not in first.stdout + first.stderr  # plain text in CI logs
    report = json.loads((work / "drift-out" / "report.json").read_text())
    assert re.search(r"cache \S+commits-v1.sqlite3: 0 hits, [1-9]\d* misses", first.stdout)
    assert len(list((work / ".drift-history").glob("drift-*.json"))) == 1

    # The team accepts today's drift: the next scheduled run passes, served by the cache.
    accept_all = ["baseline", "write", ".drift-baseline.json", "--from", "drift-out/report.json"]
    subprocess.run(
        [work / "bin" / "drift", *accept_all],
        cwd=work,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    second = run_example(work, repo)
    assert second.returncode == 0, second.stdout + second.stderr
    report = json.loads((work / "drift-out" / "report.json").read_text())
    assert re.search(r"cache \S+reports-v1/\w+: report reused", second.stdout)
    assert report["summary"]["accepted"]["total"] == len(report["findings"])
    assert len(list((work / ".drift-history").glob("drift-*.json"))) == 2
    diff = json.loads((work / "drift-out" / "diff.json").read_text())
    assert diff["appeared"] == [] and diff["resolved"] == []
    summary = (work / "drift-out" / "summary.md").read_text()
    assert "## drift: changes since the last report" in summary
    assert (work / "drift-out" / "report.html").is_file()
