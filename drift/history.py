"""Which commits each environment holds, and how and when each one got there.

One walk from all environment tips, stopped at the common base, visits each commit outside
it exactly once (children before parents); reachability is then a bitmask per commit,
propagated from children to parents. The common base is never walked: it is the same in
every environment, so it can hold no drift.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cached_property

from drift.commits import CommitInfo
from drift.environments import Environment
from drift.errors import DriftError
from drift.git import GitRepository, LineCommit
from drift.merge_messages import EnvNames, parse
from drift.topology import Topology

#: Clock skew tolerated when walking a first-parent chain back to an old commit.
SKEW_SECONDS = 86400
SETTLE_MIN = 8
"""Questions below the bases answered by one walk (`settle_below_bases`) rather than each
its own: one walk costs a few of libgit2's."""


@dataclass(frozen=True, slots=True)
class Introduction:
    """How a commit entered one environment: by which first-parent commit, and when."""

    via: str
    time: int


@dataclass
class History:
    """Commits outside the common base, with reachability and introductions per environment."""

    repo: GitRepository
    envs: list[Environment]
    bases: list[str]
    commits: dict[str, CommitInfo]
    order: list[str]
    """Commits outside the common base, children before parents."""
    masks: dict[str, int]
    first_parent: list[list[str]]
    """Per environment, its first-parent chain outside the common base, tip first."""
    intro: list[dict[str, Introduction]]
    env_names: EnvNames
    """Branch names (with the configured aliases) -> environment, for merge messages."""
    reversed_merges: list[dict[str, str]] = field(default_factory=list)
    """Per environment: merges on its line read with their parents reversed (a `git pull`
    pushed as a fast-forward), with the message that says so."""
    _fp_extended: dict[int, tuple[set[str], Iterator[LineCommit]]] = field(default_factory=dict)
    _sorted_ids: list[str] = field(default_factory=list)
    _in_base: dict[str, bool] = field(default_factory=dict)

    @cached_property
    def topology(self) -> Topology:
        """Which environment feeds which (a chain, or a tree of release lines)."""
        return Topology.of([e.name for e in self.envs], [e.upstream for e in self.envs])

    @property
    def full_mask(self) -> int:
        """The mask of a commit reachable from every environment."""
        return (1 << len(self.envs)) - 1

    def outside_base(self, commit_id: str) -> bool:
        """Reachable from some environment but not from all of them."""
        mask = self.masks.get(commit_id)
        return mask is not None and mask != self.full_mask

    def in_common_base(self, commit_id: str) -> bool:
        """Reachable from every environment (so never diffed)."""
        mask = self.masks.get(commit_id)
        if mask is not None:
            return mask == self.full_mask
        return self._below_bases(commit_id)

    def present(self, commit_id: str, env: int) -> bool:
        """Whether an environment's tip reaches the commit (`git merge-base --is-ancestor`)."""
        mask = self.masks.get(commit_id)
        if mask is not None:
            return bool(mask >> env & 1)
        return self._below_bases(commit_id)

    def _below_bases(self, commit_id: str) -> bool:
        """For a commit the walk did not reach: whether every tip reaches it, else none does.
        The walk took every commit some tip reaches except the ancestors of the merge bases,
        and those are reached by every tip; so one question per commit answers for every
        environment, asked of the bases, which lie nearer to it than any tip (at 100k
        commits each question asked of a tip walked 8 ms of history, for each environment)."""
        found = self._in_base.get(commit_id)
        if found is None:
            found = any(self.repo.is_ancestor(commit_id, base) for base in self.bases)
            self._in_base[commit_id] = found
        return found

    def settle_below_bases(self, commit_ids: Iterable[str]) -> None:
        """Answer `_below_bases` for many commits the walk did not take, with one walk down
        from the bases to a day before the oldest of them (`GitRepository.reached_since`).
        Each such question walks from the bases down to the commit in libgit2: after a
        release, in a repository whose environments had drifted, the pending changes' copies
        sank into the base and 1,130 of them cost 2.2 s at 100k commits. A commit the walk
        reaches is an ancestor of a base; one it does not reach (clocks skewed by more than a
        day, or on no environment) is left to its own exact question."""
        asked = {c for c in commit_ids if c not in self.masks and c not in self._in_base}
        if len(asked) < SETTLE_MIN or not self.bases:
            return
        times = []
        for commit_id in asked:
            with suppress(DriftError):  # unreadable: left to its own question
                times.append(self.repo.commit(commit_id).commit_time)
        if not times:
            return
        reached = self.repo.reached_since(list(self.bases), min(times) - SKEW_SECONDS)
        for commit_id in asked & reached:
            self._in_base[commit_id] = True

    def envs_of(self, commit_id: str) -> list[int]:
        """Indexes of the environments whose tips reach the commit."""
        return [i for i in range(len(self.envs)) if self.present(commit_id, i)]

    def commits_with_prefix(self, prefix: str) -> list[str]:
        """Walked commits whose id starts with `prefix` (at most two: enough to see ambiguity)."""
        if not self._sorted_ids:
            self._sorted_ids = sorted(self.commits)
        start = bisect.bisect_left(self._sorted_ids, prefix)
        return [c for c in self._sorted_ids[start : start + 2] if c.startswith(prefix)]

    def first_introduction(self, commit_id: str) -> tuple[int, int] | None:
        """(time, environment) of the commit's earliest introduction; ties: most upstream."""
        found = [
            (intro[commit_id].time, i) for i, intro in enumerate(self.intro) if commit_id in intro
        ]
        return min(found) if found else None

    def on_first_parent_chain(self, commit_id: str, env: int) -> bool:
        """Whether the commit lies on the environment's first-parent chain (as of its tip).

        Outside the common base this is exact. Inside it, the chain is extended lazily from
        where it entered the base, back to the commit's time less a day of clock skew.
        """
        if commit_id in self.intro[env]:
            return self.intro[env][commit_id].via == commit_id
        if self.outside_base(commit_id):
            return False
        if env not in self._fp_extended:
            walk = self.repo.first_parent_walk(self.chain_exit(env))
            self._fp_extended[env] = (set(), walk)
        seen, rest = self._fp_extended[env]
        target_time = self.repo.commit(commit_id).commit_time - SKEW_SECONDS
        while commit_id not in seen:
            line = next(rest, None)
            if line is None:
                break
            seen.add(line.id)
            if line.time < target_time:
                break
        return commit_id in seen

    def first_parent_line(self, env: int, described: bool = False) -> Iterator[LineCommit]:
        """The environment's whole first-parent line, tip first, into the common base.

        Commits inside the base are read without decoding or caching them (a line can be
        tens of thousands of commits long), unless the report will describe them
        (`described`: GitRepository.described_line)."""
        for commit_id in self.first_parent[env]:
            info = self.commits[commit_id]
            yield LineCommit(commit_id, info.tree, info.commit_time, info.parents)
        exit_ = self.chain_exit(env)
        yield from (
            self.repo.described_line(exit_) if described else self.repo.first_parent_walk(exit_)
        )

    def chain_exit(self, env: int) -> str | None:
        """The first commit of the environment's first-parent line inside the common base."""
        chain = self.first_parent[env]
        if not chain:
            return self.envs[env].commit
        return self.line_parent(chain[-1], env)

    def line_parent(self, commit_id: str, env: int) -> str | None:
        """The parent the environment's line runs through: the first, except at a merge read
        with reversed parents (see `reversed_merges`)."""
        parents = (
            self.repo.commit(commit_id).parents
            if commit_id not in self.commits
            else (self.commits[commit_id].parents)
        )
        if not parents:
            return None
        if self.reversed_merges and commit_id in self.reversed_merges[env]:
            return parents[1]
        return parents[0]

    def other_parents(self, commit_id: str, env: int) -> tuple[str, ...]:
        """The parents a commit on the environment's line merged in (all but `line_parent`)."""
        parents = self.commits[commit_id].parents
        if self.reversed_merges and commit_id in self.reversed_merges[env]:
            return (parents[0], *parents[2:])
        return parents[1:]


def merge_bases(repo: GitRepository, tips: list[str]) -> list[str]:
    """Commits whose ancestry is (a subset of) the common base of all tips.

    Pairwise merge bases folded over the tips. libgit2 returns one base per pair, so for
    criss-cross histories the walked set is a superset of what is strictly needed: commits
    reachable from every tip are then recognised by their mask and still never diffed.
    """
    bases = {tips[0]}
    for tip in tips[1:]:
        bases = {b for base in bases if (b := repo.merge_base(base, tip)) is not None}
        if not bases:
            return []
    return sorted(bases)


Progress = Callable[[int], None]


def read_history(
    repo: GitRepository,
    envs: list[Environment],
    progress: Progress | None = None,
    aliases: tuple[tuple[str, str], ...] = (),
    outside: Callable[[str], None] | None = None,
) -> History:
    """Walk every environment down to the common base and index what it holds.

    An environment's line runs through a merge's second parent when the merge's message says
    it merged that very environment into another one (`Merge branch 'prod' of URL into dev`
    on prod's line): a `git pull` made on dev and pushed to prod as a fast-forward put dev's
    line first, and prod's own history is the merged side (findings.md: merge messages are
    evidence where a pull replaced an environment's first-parent history).

    `outside` is called with each non-merge commit outside the common base as soon as the
    walk meets it, in walk order (drift.git.repository.ChangesFeed: git reads their trees
    while the walk goes on). The walk gives every commit after its children, so a commit's
    mask is final when it is met."""
    tips = [env.commit for env in envs]
    bases = merge_bases(repo, tips)
    commits: dict[str, CommitInfo] = {}
    order: list[str] = []
    full = (1 << len(envs)) - 1
    masks: dict[str, int] = {}  # the environments that reach each walked commit
    reached: dict[str, int] = {}  # the environments a commit's children reach, so far
    for bit, tip in enumerate(tips):
        reached[tip] = reached.get(tip, 0) | 1 << bit
    for n, info in enumerate(repo.walk(sorted(set(tips)), bases), 1):
        commits[info.id] = info
        order.append(info.id)
        mask = masks[info.id] = reached.pop(info.id, 0)  # final: its children came first
        for parent in info.parents:
            reached[parent] = reached.get(parent, 0) | mask
        if outside is not None and mask != full and len(info.parents) < 2:
            outside(info.id)
        if progress is not None and n % 1000 == 0:
            progress(1000)
    names = EnvNames(envs, aliases)
    lines = [
        _first_parent_chain(commits, masks, tip, full, _pulled_onto(names, env))
        for env, tip in enumerate(tips)
    ]
    first_parent = [chain for chain, _ in lines]
    reversed_merges = [flipped for _, flipped in lines]
    intro = [
        _introductions(commits, masks, chain, full, flipped)
        for chain, flipped in zip(first_parent, reversed_merges, strict=True)
    ]
    return History(
        repo, envs, bases, commits, order, masks, first_parent, intro, names, reversed_merges
    )


def _pulled_onto(names: EnvNames, env: int) -> Callable[[CommitInfo], str | None]:
    """Whether a merge on `env`'s line says it merged `env` itself into another environment:
    the message then, else None."""

    def check(info: CommitInfo) -> str | None:
        said = parse(info.message)
        if said is None or said.target is None or names.lookup(said.source) != env:
            return None
        target = names.lookup(said.target)
        return info.message.split("\n", 1)[0] if target is not None and target != env else None

    return check


def _first_parent_chain(
    commits: dict[str, CommitInfo],
    masks: dict[str, int],
    tip: str,
    full: int,
    pulled: Callable[[CommitInfo], str | None],
) -> tuple[list[str], dict[str, str]]:
    chain: list[str] = []
    flipped: dict[str, str] = {}
    cursor: str | None = tip
    while cursor is not None and masks.get(cursor, full) != full:
        chain.append(cursor)
        info = commits[cursor]
        parents = info.parents
        said = pulled(info) if len(parents) == 2 else None
        if said is not None:
            flipped[cursor] = said
            cursor = parents[1]
        else:
            cursor = parents[0] if parents else None
    return chain, flipped


def _introductions(
    commits: dict[str, CommitInfo],
    masks: dict[str, int],
    chain: list[str],
    full: int,
    flipped: dict[str, str],
) -> dict[str, Introduction]:
    """Oldest first: everything the line's previous commit reached was introduced earlier."""
    intro: dict[str, Introduction] = {}
    for via in reversed(chain):
        when = commits[via].commit_time
        intro[via] = Introduction(via, when)
        parents = commits[via].parents
        stack = [parents[0], *parents[2:]] if via in flipped else list(parents[1:])
        while stack:
            commit_id = stack.pop()
            if commit_id in intro or masks.get(commit_id, full) == full:
                continue
            intro[commit_id] = Introduction(via, when)
            stack.extend(commits[commit_id].parents)
    return intro
