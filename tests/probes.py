"""Probes that watch what the engine reads, for tests of its promises (e.g. never diffing
the common base)."""

from __future__ import annotations

from typing import Any

import pytest

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
