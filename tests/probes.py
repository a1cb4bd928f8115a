"""Probes that watch what the engine reads, for tests of its promises (e.g. never diffing
the common base)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drift.audit import run_audit
from drift.config import Settings
from drift.git.repository import GitRepository


def record_diffs(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The ids of the commits whose diff the engine computes from now on (filled live)."""
    diffed: set[str] = set()
    real = GitRepository._diff

    def recording(
        self: GitRepository, old: str | None, new: str | None, commit_id: str | None
    ) -> Any:
        if commit_id is not None:
            diffed.add(commit_id)
        return real(self, old, new, commit_id)

    monkeypatch.setattr(GitRepository, "_diff", recording)
    return diffed


def audit_with_jobs(
    path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str | None, settings: Settings | None = None
) -> dict[str, Any]:
    """The report of one audit with `DRIFT_JOBS` set to `jobs` ("1": no child process), or
    unset (None: children where the machine allows them), at a pinned time."""
    if jobs is None:
        monkeypatch.delenv("DRIFT_JOBS", raising=False)
    else:
        monkeypatch.setenv("DRIFT_JOBS", jobs)
    data: dict[str, Any] = run_audit(path, settings or Settings(), now=0).to_dict()
    return data
