"""Probes that watch what the engine reads, for tests of its promises (e.g. never diffing
the common base)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from drift.audit import run_audit
from drift.ci.cache import FILENAME
from drift.config import Settings
from drift.git.repository import GitRepository


def record_listings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tree ids the delivery scan lists from the object store from now on, in order."""
    listed: list[str] = []
    real = GitRepository.tree_entries

    def tree_entries(self: GitRepository, tree_id: str) -> list[tuple[bytes, bytes, int]]:
        listed.append(tree_id)
        return real(self, tree_id)

    monkeypatch.setattr(GitRepository, "tree_entries", tree_entries)
    return listed


def stored_rows(cache_folder: Path, query: str) -> list[tuple[Any, ...]]:
    """The rows a query finds in the per-commit cache file in `cache_folder`."""
    conn = sqlite3.connect(cache_folder / FILENAME)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


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
