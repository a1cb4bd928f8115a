"""What every finding module reads: the history, the changes, the settings, the clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from drift.changes import Change, Grouping
from drift.config import Settings
from drift.history import History, Introduction
from drift.topology import Topology

DAY = 86400


@dataclass
class AuditContext:
    """The analysed repository, shared read-only by the finding modules."""

    history: History
    grouping: Grouping
    settings: Settings
    as_of: int
    notes: list[str] = field(default_factory=list)
    """Things the finding modules could not check, for the report's notes."""
    cache: dict[str, object] = field(default_factory=dict)
    """Structures several finding modules reuse (built once per audit)."""
    reverted_by: dict[str, list[str]] = field(init=False)
    """Reverted commit -> the commits that revert it."""
    _reach: dict[str, int] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.reverted_by = {}
        for link in self.grouping.reverts:
            if link.reverted is not None:
                self.reverted_by.setdefault(link.reverted, []).append(link.revert)

    @property
    def topology(self) -> Topology:
        """Which environment feeds which; findings are defined per edge of it."""
        return self.history.topology

    @property
    def names(self) -> list[str]:
        """Environment names in chain order."""
        return [env.name for env in self.history.envs]

    def present(self, change: Change, env: int) -> bool:
        """A change is present when any of its commits is reachable from the env's tip."""
        return bool(self.reach(change) >> env & 1)

    def reach(self, change: Change) -> int:
        """The environments whose tips reach some commit of the change, as a bit mask. Kept
        per change: `pending` asks of every change for every pair (86k questions for 12k
        changes at 300k commits), which asked every commit each time."""
        found = self._reach.get(change.id)
        if found is None:
            if not self._reach:  # the first question: the base's part of every change at once
                self.history.settle_below_bases(
                    c for each in self.grouping.changes for c in each.commits
                )
            history, found = self.history, 0
            for commit_id in change.commits:
                mask = history.masks.get(commit_id)
                if mask is None:  # not walked: in the common base (every tip), or on none
                    mask = history.full_mask if history.present(commit_id, 0) else 0
                found |= mask
            self._reach[change.id] = found
        return found

    def first_into(self, change: Change, env: int) -> tuple[str, Introduction] | None:
        """The change's commit introduced first into `env`, and how (when, by which commit)."""
        intro = self.history.intro[env]
        found = [
            (intro[c].time, self.history.repo.commit(c).commit_time, c)
            for c in change.commits
            if c in intro
        ]
        if not found:
            return None
        commit_id = min(found)[2]
        return commit_id, intro[commit_id]

    def age_days(self, since: int) -> int:
        """Whole days from `since` to the audit's `as_of` time (never negative)."""
        return max(0, (self.as_of - since) // DAY)
