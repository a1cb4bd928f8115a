"""Release identity's reading of base lines in a forked process gives the same reports as the
reading in process, survives a failing child, and leaves no process behind."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from drift.config import Settings
from drift.environments import resolve_chain
from drift.findings import base_lines as base_lines_module
from drift.findings.base_lines import BaseLines
from drift.git.repository import GitRepository, LineTrees
from drift.history import read_history
from drift_fixtures.demo import build_demo
from drift_fixtures.expect import Scenario
from drift_fixtures.scenarios import release_lines
from tests.probes import audit_with_jobs as audit

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or len(os.sched_getaffinity(0)) < 2, reason="needs Linux and two cores"
)

BUILDERS: dict[str, Callable[[Path], Scenario]] = {
    "release_lines": release_lines,
    "demo": build_demo,
}


def count_reads_here(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Record the base lines this process reads itself (a child's reads are not seen)."""
    starts: list[str | None] = []
    real = GitRepository.line_trees

    def line_trees(self: GitRepository, start: str | None, stops: Any = ()) -> LineTrees:
        starts.append(start)
        return real(self, start, stops)

    monkeypatch.setattr(GitRepository, "line_trees", line_trees)
    return starts


def count_forks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record, for every audit from here on, whether its base lines were read by a child."""
    seen: list[bool] = []
    real = BaseLines.start

    def start(history: Any) -> BaseLines:
        lines = real(history)
        seen.append(lines.forked)
        return lines

    monkeypatch.setattr(BaseLines, "start", start)
    return seen


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_the_forked_reading_gives_the_same_report(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = BUILDERS[name](tmp_path).path
    forks = count_forks(monkeypatch)
    reads = count_reads_here(monkeypatch)
    here = audit(path, monkeypatch, "1")
    assert reads  # release identity needed lines inside the base
    reads.clear()
    forked = audit(path, monkeypatch, None)
    assert forks == [False, True]
    assert reads == []  # the child's answer was used
    assert forked == here
    assert any(f["kind"] == "untested_release" for f in here["findings"])


def test_a_failing_child_is_replaced_by_the_reading_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = release_lines(tmp_path).path
    expected = audit(path, monkeypatch, "1")

    def broken(*args: Any) -> Any:
        raise RuntimeError("the child cannot read the repository")

    monkeypatch.setattr(base_lines_module, "_read_lines", broken)
    forks = count_forks(monkeypatch)
    reads = count_reads_here(monkeypatch)
    assert audit(path, monkeypatch, None) == expected
    assert forks == [True] and reads


def test_an_unneeded_child_is_reaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRIFT_JOBS", raising=False)
    path = release_lines(tmp_path).path
    repo = GitRepository.open_for_audit(path)
    chain = resolve_chain(repo, Settings())
    lines = BaseLines.start(read_history(repo, chain.envs))
    assert lines.forked and lines._child is not None
    pid = lines._child
    lines.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left
    dev = 0
    assert lines.trees(dev) == repo.line_trees(lines.history.chain_exit(dev))
