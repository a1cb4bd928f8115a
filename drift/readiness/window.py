"""The metrics window: recent commits, when each reached each environment, grouped into changes.

The engine's `History` reads only commits outside the common base, but a change promoted all
the way by merges *is* in the common base: metrics read from History alone would see only the
changes that got stuck. The window adds every commit committed in the `window_days` before
`as_of` (plus a lead-in, so changes already pending when the window opens are seen), each
environment's first-parent line over that time, and exact introductions by the rule of
findings.md: a non-merge first-parent commit introduces itself, a merge what its other parents
reach that its first parent does not (here: among the scanned commits; an ancestor is never
committed after its descendant except by clock skew). Commits outside the common base, of any
age, keep the introductions History computed.

Changes: the engine's `Grouping` for commits outside the common base (same commit, trailer,
patch id); scanned commits inside it are grouped by same commit and cherry-pick trailers
only, and recognised as reverts by message only: the common base is never diffed.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from drift.changes import Change, Grouping, is_empty_commit, resolve_commit
from drift.commits import CommitInfo
from drift.config import Settings
from drift.findings.merges import merge_kind, merged_from
from drift.git import GitRepository
from drift.history import SKEW_SECONDS, History, Introduction
from drift.topology import Topology
from drift.trailers import cherry_picked_from, reverts
from drift.unionfind import UnionFind

DAY = 86400
#: Days read before the window opens, so a change pending at its start is seen.
LEAD_IN_DAYS = 90
#: Strongest first: the method that names a copy several links point at.
METHODS = ("trailer", "patch-id", "similar")


class Arrival(NamedTuple):
    """The change's commit introduced first into one environment, by `via`, at `time`.

    A named tuple, as immutable as a frozen dataclass and made at C speed: a window makes one
    per change and environment it reached (45k in the metrics child of a re-run at 100k
    commits, on its critical path), and a frozen dataclass's __init__ sets each field through
    object.__setattr__."""

    commit: str
    via: str
    time: int


@dataclass(slots=True, unsafe_hash=True)
class WindowChange:
    """A change seen by the window, with its first arrival in each environment (or None).

    Never changed once made, but not frozen: a frozen dataclass's __init__ sets each field
    through object.__setattr__, and a window makes one per change (21k in a re-run at 100k
    commits). With the arrivals as named tuples, making one costs half what it did (3.2 ->
    1.6 us). Equal and hashed by its fields, as it was."""

    id: str
    commits: tuple[str, ...]
    is_revert: bool
    in_base: bool
    """No commit outside the common base: the engine has no finding about it."""
    arrivals: tuple[Arrival | None, ...]
    _first: int = field(init=False, repr=False, compare=False, hash=False)
    """The environment of `origin`, or -1: found once (every metric asks, and the arrivals
    never change), kept as an index rather than a tuple per change."""

    def __post_init__(self) -> None:
        first, when = -1, 0  # the earliest arrival; on a tie, the most upstream (lowest) env
        for env, arrival in enumerate(self.arrivals):
            if arrival is not None and (first < 0 or arrival.time < when):
                first, when = env, arrival.time
        self._first = first

    def origin(self) -> tuple[int, int] | None:
        """(time, environment) of its first arrival anywhere; ties: the most upstream."""
        arrival = self.arrivals[self._first] if self._first >= 0 else None
        return None if arrival is None else (arrival.time, self._first)


@dataclass
class Window:
    """What the metrics read: commits, first-parent lines, introductions and changes."""

    start: int
    end: int
    scan_start: int
    commits: dict[str, CommitInfo]
    """Reachable from an environment and committed in [scan_start, end]."""
    first_parent: list[list[str]]
    """Per environment, its first-parent commits among `commits`, oldest first."""
    intro: list[dict[str, Introduction]]
    base: set[str]
    """The scanned commits that lie in the common base."""
    topology: Topology
    """Which environment feeds which (arrivals are indexed like its names)."""
    changes: list[WindowChange] = field(default_factory=list)
    change_of: dict[str, WindowChange] = field(default_factory=dict)
    copies: dict[str, str] = field(default_factory=dict)
    """Copy commit -> how it was recognised (its strongest method)."""
    base_picks: list[str] = field(default_factory=list)
    """Commits in the common base carrying a usable cherry-pick trailer."""
    base_reverts: list[str] = field(default_factory=list)
    """Commits in the common base whose message says they revert another."""
    base_changes: list[str] = field(default_factory=list)
    """The base's commits that are changes (non-merge, non-empty, not ignored), in id order."""
    base_trailers: list[tuple[str, str]] = field(default_factory=list)
    """(copy, original) for each usable cherry-pick trailer of those, in the same order."""
    base_merges: list[tuple[str, str]] = field(default_factory=list)
    """(monthly event, merge) for merges inside the common base between environments'
    first-parent lines (drift.readiness.timeline)."""
    base_singles: dict[str, WindowChange] = field(default_factory=dict)
    """Each of `base_changes` as a change of its own, as the grouping will make it unless a
    link joins it or the engine's grouping holds it: made before the grouping arrives
    (most of the window's changes at 100k commits; the metrics child waits for nothing
    then)."""
    possible_copies: list[tuple[str, str]] = field(default_factory=list)
    """(original, copy) in different changes, one in the common base, with the same message,
    author and author time (what `git cherry-pick` without -x keeps): probably one change,
    but not grouped, because the common base is never diffed."""
    _own_lines: dict[int, frozenset[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @cached_property
    def series_start(self) -> int:
        """Where time series begin: the window's start, or the oldest commit when the history
        is younger than the window (weeks before it would read as zeros). Kept once read:
        every series asks, and the commits are not changed after `build_window`."""
        oldest = min((c.commit_time for c in self.commits.values()), default=self.start)
        return max(self.start, oldest)

    def in_window(self, timestamp: int) -> bool:
        """Whether a time falls in [start, end]."""
        return self.start <= timestamp <= self.end

    def counted_changes(self) -> list[WindowChange]:
        """The changes first introduced anywhere inside the window."""
        return [c for c in self.changes if (o := c.origin()) is not None and self.in_window(o[0])]

    def introduced_by_itself(self, env: int) -> frozenset[str]:
        """The commits the environment's introductions name as their own `via`: its
        first-parent commits (where a branch created or fast-forwarded there shows up on an
        upstream line too). Kept per environment: arrivals and releases ask per commit."""
        found = self._own_lines.get(env)
        if found is None:
            found = frozenset(c for c, i in self.intro[env].items() if i.via == c)
            self._own_lines[env] = found
        return found

    def first_env(self, commit_id: str) -> int | None:
        """The environment the commit was introduced into first (ties: most upstream)."""
        found = [(i[commit_id].time, env) for env, i in enumerate(self.intro) if commit_id in i]
        return min(found)[1] if found else None


def build_window(
    repo: GitRepository,
    history: History,
    grouping: Grouping,
    as_of: int,
    window_days: int = 365,
    *,
    lead_in_days: int = LEAD_IN_DAYS,
    settings: Settings | None = None,
) -> Window:
    """Read the window ending at `as_of` (commits after it are left out)."""
    window = read_window(
        repo, history, as_of, window_days, lead_in_days=lead_in_days, settings=settings
    )
    group_window(window, history, grouping)
    return window


def read_window(
    repo: GitRepository,
    history: History,
    as_of: int,
    window_days: int = 365,
    *,
    lead_in_days: int = LEAD_IN_DAYS,
    settings: Settings | None = None,
) -> Window:
    """The window's commits, lines and introductions, and what the common base's commits say
    of themselves (trailers, reverts, merges between lines), without its changes: all that
    needs no grouping (drift.readiness.ahead reads it while the engine groups changes).

    `settings`, when given, applies the ignore rules (time, authors, messages; path rules
    need a diff) to commits inside the common base as the engine applies them outside it."""
    start = as_of - window_days * DAY
    scan_start = start - lead_in_days * DAY
    tips = sorted({env.commit for env in history.envs})
    commits = {c.id: c for c in repo.walk_window(tips, scan_start) if c.commit_time <= as_of}
    lines = [_line(history, env, commits, scan_start) for env in range(len(history.envs))]
    intro = [_introductions(history, env, line, commits, as_of) for env, line in enumerate(lines)]
    full = history.full_mask
    base = {c for c in commits if history.masks.get(c, full) == full}
    window = Window(start, as_of, scan_start, commits, lines, intro, base, history.topology)
    _scan_base(window, history, settings)
    window.base_merges = list(_base_merges(window, history))
    reverting = set(window.base_reverts)
    window.base_singles = {c: _single(window, c, None, c in reverting) for c in window.base_changes}
    return window


def group_window(window: Window, history: History, grouping: Grouping) -> None:
    """Fill the window's changes and possible copies. Of the grouping it reads each change's
    id, commits and revert status, and each copy link's copy and method."""
    _group(window, history, grouping)
    window.possible_copies = _possible_copies(window, history)


def _line(history: History, env: int, commits: dict[str, CommitInfo], scan_start: int) -> list[str]:
    line: list[str] = []
    for commit in history.first_parent_line(env):
        if commit.time < scan_start - SKEW_SECONDS:
            break
        if commit.id in commits:
            line.append(commit.id)
    line.reverse()
    return line


def _introductions(
    history: History, env: int, line: list[str], commits: dict[str, CommitInfo], end: int
) -> dict[str, Introduction]:
    """Oldest first, as history.py does; then History's exact answers outside the base."""
    intro: dict[str, Introduction] = {}
    for via in line:
        info = commits[via]
        here = Introduction(via, info.commit_time)  # immutable: one record for all it brought
        intro[via] = here
        merged = history.other_parents(via, env) if via in history.commits else info.parents[1:]
        stack = list(merged)
        while stack:
            commit_id = stack.pop()
            if commit_id in intro or commit_id not in commits:
                continue
            intro[commit_id] = here
            stack.extend(commits[commit_id].parents)
    exact = history.intro[env]
    masks, full = history.masks, history.full_mask  # history.outside_base, without a call each
    for commit_id in [c for c in intro if masks.get(c, full) != full and c not in exact]:
        del intro[commit_id]
    intro.update((c, i) for c, i in exact.items() if i.time <= end)
    return intro


def _group(window: Window, history: History, grouping: Grouping) -> None:
    """Fill the window's changes: the engine's, joined with the base's by trailers.

    Only commits some link joins go through the union-find; every other commit (at 100k
    commits, 19.3k of the window's 19.6k changes) is a change of its own, built without the
    sets, lookups and tie-breaks a joined group needs. Group order does not matter: changes
    are sorted by id, and an id is a member of its change, so no two changes share one."""
    links = UnionFind()
    for found in grouping.changes:
        if len(found.commits) > 1:
            for commit_id in found.commits:
                links.union(commit_id, found.id)
    for link in sorted(grouping.copies, key=lambda link: _strength(link.method)):
        window.copies.setdefault(link.copy, link.method)
    _link_base(window, links)
    candidates = window.base_changes
    ours = set(candidates)
    base_reverts = set(window.base_reverts)
    key = _intro_key(window, history.repo)
    for members in links.groups():
        _add(window, _joined(window, history.repo, grouping, members, ours, base_reverts, key))
    alone = [c for found in grouping.changes if len(found.commits) == 1 for c in found.commits]
    ready = window.base_singles
    for commit_id in [*alone, *candidates]:
        if commit_id not in links.parent:
            part = grouping.change_of.get(commit_id)
            if part is None and commit_id in ready:
                _add(window, ready[commit_id])
                continue
            is_revert = (part is None or part.is_revert) and (
                commit_id not in ours or commit_id in base_reverts
            )
            _add(window, _single(window, commit_id, part, is_revert))
    window.changes.sort(key=lambda c: c.id)


def _add(window: Window, change: WindowChange) -> None:
    window.changes.append(change)
    window.change_of.update(dict.fromkeys(change.commits, change))


def _joined(
    window: Window,
    repo: GitRepository,
    grouping: Grouping,
    members: list[str],
    ours: set[str],
    base_reverts: set[str],
    key: Callable[[str], tuple[int, int, int, str]],
) -> WindowChange:
    """A group some link joined: named like the engine names a change (its first-introduced
    commit), a revert only when all its parts are."""
    parts = {grouping.change_of[m] for m in members if m in grouping.change_of}
    arrivals = tuple(_first_arrival(intro, members, repo) for intro in window.intro)
    if len(parts) == 1:
        change_id = next(iter(parts)).id
    elif not parts and len(members) == 1:
        change_id = members[0]
    else:
        change_id = min((p.id for p in parts), key=key) if parts else min(members, key=key)
    is_revert = all(p.is_revert for p in parts) and all(
        m in base_reverts for m in members if m in ours
    )
    return WindowChange(change_id, tuple(sorted(members)), is_revert, not parts, arrivals)


def _single(window: Window, commit_id: str, part: Change | None, is_revert: bool) -> WindowChange:
    """A change of one commit: it arrives wherever that commit was introduced."""
    arrivals = tuple(
        [
            None if (i := intro.get(commit_id)) is None else Arrival(commit_id, i.via, i.time)
            for intro in window.intro
        ]
    )
    change_id = commit_id if part is None else part.id
    return WindowChange(change_id, (commit_id,), is_revert, part is None, arrivals)


def _scan_base(window: Window, history: History, settings: Settings | None) -> None:
    """The base's changes (non-merge, non-empty, not ignored), their reverts by message, and
    their usable trailers (a trailer naming an empty commit is not used, as in the engine)."""
    for commit_id in sorted(window.base):
        info = window.commits[commit_id]
        if info.is_merge or is_empty_commit(history, commit_id) or _ignored(info, settings):
            continue
        window.base_changes.append(commit_id)
        if reverts(info.message) is not None:
            window.base_reverts.append(commit_id)
        for named in cherry_picked_from(info.message):
            original = resolve_commit(history, named)[0]
            if original is None or original == commit_id or is_empty_commit(history, original):
                continue
            window.base_trailers.append((commit_id, original))


def _link_base(window: Window, links: UnionFind) -> None:
    """Join the base's changes by their trailers as the engine joins them; a trailer's copy
    the engine did not already name is one of the base's picks. Only the commits a trailer
    joins enter `links`."""
    for commit_id, original in window.base_trailers:
        links.union(commit_id, original)
        if commit_id not in window.copies:
            window.copies[commit_id] = "trailer"
            window.base_picks.append(commit_id)


def _base_merges(window: Window, history: History) -> Iterator[tuple[str, str]]:
    """Merges inside the common base between environments' first-parent lines."""
    seen: set[str] = set()
    for into, line in enumerate(window.first_parent):
        for merge_id in line:
            info = window.commits[merge_id]
            if merge_id in seen or merge_id not in window.base or not info.is_merge:
                continue
            seen.add(merge_id)
            for parent in info.parents[1:]:
                found = merged_from(history, into, parent)
                if found is not None:
                    kind = merge_kind(history, found[0], into)
                    if kind != "cross_merge":  # not a monthly series; listed as evidence
                        yield f"{kind.removesuffix('_merge')}_merges", merge_id
                    break


def _possible_copies(window: Window, history: History) -> list[tuple[str, str]]:
    """Commits of different changes that git would have written for one pick without -x.
    Only commits sharing an author time with another can share all four: the rest (nearly
    all) are counted by that time, not given a key and a list each."""
    repo = history.repo
    infos = [(c, info) for c in window.change_of if not (info := repo.commit(c)).is_merge]
    times = Counter(info.author_time for _, info in infos)
    by_ident: dict[tuple[str, str, int, str], list[str]] = {}
    for commit_id, info in infos:
        if times[info.author_time] > 1:
            ident = (info.author_name, info.author_email, info.author_time, info.message)
            by_ident.setdefault(ident, []).append(commit_id)
    pairs: list[tuple[str, str]] = []
    for same in by_ident.values():
        same.sort(key=lambda c: (repo.commit(c).commit_time, c))
        for copy in same[1:]:
            original = same[0]
            if window.change_of[copy] is window.change_of[original]:
                continue
            if not (history.outside_base(original) and history.outside_base(copy)):
                pairs.append((original, copy))
    return sorted(pairs)


def _strength(method: str) -> int:
    return METHODS.index(method) if method in METHODS else len(METHODS)


def _first_arrival(
    intro: dict[str, Introduction], members: list[str], repo: GitRepository
) -> Arrival | None:
    if len(members) == 1:  # most changes: one commit, no commit to read for a tie
        commit_id = members[0]
        if commit_id not in intro:
            return None
    else:
        found = [(intro[m].time, repo.commit(m).commit_time, m) for m in members if m in intro]
        if not found:
            return None
        commit_id = min(found)[2]
    return Arrival(commit_id, intro[commit_id].via, intro[commit_id].time)


def _intro_key(window: Window, repo: GitRepository) -> Callable[[str], tuple[int, int, int, str]]:
    """First introduced anywhere, then most upstream, then older, then id (as the engine)."""

    def key(commit_id: str) -> tuple[int, int, int, str]:
        found = [(i[commit_id].time, env) for env, i in enumerate(window.intro) if commit_id in i]
        when = repo.commit(commit_id).commit_time
        first = min(found) if found else (when, -1)
        return (first[0], first[1], when, commit_id)

    return key


def _ignored(info: CommitInfo, settings: Settings | None) -> bool:
    """Config's ignore rules by time, author and message (paths would need a diff)."""
    if settings is None:
        return False
    if settings.since is not None and info.commit_time < settings.since:
        return True
    rules = settings.ignore
    if rules.authors:  # most configurations have no rules: no tuple or generator per commit
        who = (info.author_name, info.author_email)
        if any(p in who or any(fnmatch.fnmatchcase(w, p) for w in who) for p in rules.authors):
            return True
    return bool(rules.messages) and any(re.search(p, info.message) for p in rules.messages)
