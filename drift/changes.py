"""Group commits into changes: one logical edit that may exist as several commits.

Methods, strongest first: the same commit (trivially), cherry-pick trailers, equal patch
ids, and last `similar` (near-miss diffs, drift/similar.py), which only joins exact changes
that lie on different environments and marks the result approximate. Reverts are found here
too because they decide grouping: a revert is never grouped with a non-revert, so a revert
of a revert stays a revert (see docs/decisions.md).
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from drift.config import Settings
from drift.errors import DriftError
from drift.git.blobs import changed_lines
from drift.history import History
from drift.patch_keys import PatchKeys, Shape, diff_shape
from drift.similar import Candidate, Diff, find_similar, make_diff, pairable
from drift.trailers import cherry_picked_from, reverts
from drift.unionfind import UnionFind


@dataclass(frozen=True, slots=True)
class CopyLink:
    """`copy` is a cherry-pick of `original`, recognised by `method`."""

    original: str
    copy: str
    method: str
    score: float = 1.0
    originals: int = 1
    """How many originals the copy carries: more than one for a squash (`similar` only)."""
    evidence: str | None = None
    """Why a `similar` link was made: the line counts and scores behind it."""
    via: str | None = None
    """The merge a trailer named (`git cherry-pick -m 1 -x`) when `original` is one of the
    commits that merge brought in."""


@dataclass(frozen=True, slots=True)
class RevertLink:
    """`revert` undoes `reverted` (None when the named commit is not in the repository)."""

    revert: str
    reverted: str | None
    method: str
    named: str | None = None


@dataclass(frozen=True, slots=True)
class Dangling:
    """A trailer naming a commit this repository cannot resolve, and why."""

    commit: str
    named: str
    why: str


@dataclass(frozen=True)
class Change:
    """A set of commits carrying one logical edit; `id` is its first-introduced commit."""

    id: str
    commits: tuple[str, ...]
    is_revert: bool
    approximate: bool = False
    """Joined by a `similar` link: where it is present rests on a near-miss match."""
    parts: tuple[tuple[str, ...], ...] = ()
    """For an approximate change, the exact changes the similar links joined."""


@dataclass
class Grouping:
    """All changes outside the common base, and the links that built them."""

    changes: list[Change]
    change_of: dict[str, Change]
    copies: list[CopyLink]
    reverts: list[RevertLink]
    dangling: list[Dangling] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)


def intro_order(history: History) -> Callable[[str], tuple[int, int, int, str]]:
    """Sort key: first introduced anywhere, then most upstream, then older, then id."""

    def key(commit_id: str) -> tuple[int, int, int, str]:
        commit_time = history.repo.commit(commit_id).commit_time
        first = history.first_introduction(commit_id)
        if first is None:  # in the common base, or on no environment: by its own time
            return (commit_time, -1, commit_time, commit_id)
        return (first[0], first[1], commit_time, commit_id)

    return key


def is_ignored(history: History, commit_id: str, settings: Settings) -> bool:
    """Whether config's ignore rules or `since` leave this commit out of grouping."""
    info = history.commits[commit_id]
    if settings.since is not None and info.commit_time < settings.since:
        return True
    rules = settings.ignore
    who = (info.author_name, info.author_email)
    if any(p in who or any(fnmatch.fnmatchcase(w, p) for w in who) for p in rules.authors):
        return True
    if any(re.search(p, info.message) for p in rules.messages):
        return True
    if rules.paths:
        paths = [c.path.decode("utf-8", "replace") for c in history.repo.file_changes(commit_id)]
        return bool(paths) and all(any(fnmatch.fnmatch(p, g) for g in rules.paths) for p in paths)
    return False


def group_changes(
    history: History, settings: Settings, tick: Callable[[], None] | None = None
) -> Grouping:
    """Changes from every non-merge, non-empty, non-ignored commit outside the common base."""
    repo = history.repo
    candidates: list[str] = []
    ignored: list[str] = []
    empty: list[str] = []
    walked = commits_to_group(history)
    repo.prefetch_changes(walked)  # nothing left to read when the audit began it earlier
    commits = sorted(walked)
    for commit_id in commits:
        if tick is not None:
            tick()
        if is_ignored(history, commit_id, settings):
            ignored.append(commit_id)
        elif not repo.file_changes(commit_id):
            empty.append(commit_id)
        else:
            candidates.append(commit_id)
    keys = PatchKeys(repo, candidates)  # each patch id computed once, and only if needed
    revert_links = find_reverts(history, candidates, keys)
    revert_set = {link.revert for link in revert_links}
    uf = UnionFind()
    for commit_id in candidates:
        uf.find(commit_id)
    copies: list[CopyLink] = []
    dangling: list[Dangling] = []
    if "trailer" in settings.match:
        copies, dangling = _trailer_links(history, candidates, uf)
        copies += _base_copies(history, candidates, uf)
    if "patch-id" in settings.match:
        copies += _patch_id_links(history, candidates, keys, revert_set, uf, copies)
    exact = {item: uf.find(item) for item in list(uf.parent)}
    if "similar" in settings.match:
        copies += _similar_links(history, settings, candidates, keys, revert_set, uf)
    key = intro_order(history)
    changes: list[Change] = []
    change_of: dict[str, Change] = {}
    candidate_set = set(candidates)
    for members in uf.groups():
        ordered = tuple(sorted(members, key=key))
        in_scope = [m for m in ordered if m in candidate_set]
        parts: dict[str, list[str]] = {}
        for m in ordered:
            parts.setdefault(exact[m], []).append(m)
        joined = tuple(tuple(p) for p in parts.values()) if len(parts) > 1 else ()
        is_revert = all(m in revert_set for m in in_scope)
        change = Change(ordered[0], ordered, is_revert, bool(joined), joined)
        changes.append(change)
        change_of.update(dict.fromkeys(ordered, change))
    changes.sort(key=lambda c: key(c.id))
    copies.sort(key=lambda link: (key(link.copy), link.original))
    return Grouping(changes, change_of, copies, revert_links, dangling, ignored, empty)


def commits_to_group(history: History) -> list[str]:
    """The non-merge commits outside the common base, in walk order: the commits whose file
    changes the grouping reads. In this order git reads a commit's trees next to its
    parent's, which its delta base cache still holds (0.31 -> 0.23 s of git's time for 12k
    commits at 300k, against id order)."""
    return [c for c in history.order if history.outside_base(c) and not history.commits[c].is_merge]


def _trailer_links(
    history: History, candidates: list[str], uf: UnionFind
) -> tuple[list[CopyLink], list[Dangling]]:
    """One pair per hop. `git cherry-pick -x` of a pick keeps the old trailer and adds one, so
    a trailer whose commit is named again by a later trailer's commit is an earlier hop of
    that chain, not a second original; separate trailers with no such link (a squash of
    several picks) are each an original of the copy."""
    copies: list[CopyLink] = []
    dangling: list[Dangling] = []
    change_sets = MergeChangeSets(history, set(candidates))
    for commit_id in candidates:
        resolved: dict[str, str | None] = {}  # original -> the merge it was named through
        for named in cherry_picked_from(history.commits[commit_id].message):
            original, why = resolve_commit(history, named)
            if original is not None and is_empty_commit(history, original):
                original, why = None, "an empty commit (it carries no change)"
            if original is None:
                dangling.append(Dangling(commit_id, named, why))
                continue
            for part in change_sets.originals(original):
                if part != commit_id and part not in resolved:
                    resolved[part] = original if part != original else None
        named_later: set[str] = set()  # what the trailers of later hops name
        earlier_hops: set[str] = set()
        for hop in reversed(resolved):
            if hop in named_later:
                earlier_hops.add(hop)
            named_later |= _trailer_targets(history, hop, change_sets)
        for original, via in resolved.items():
            uf.union(commit_id, original)
            if original not in earlier_hops:
                copies.append(CopyLink(original, commit_id, "trailer", via=via))
    return copies, dangling


class MergeChangeSets:
    """What a trailer naming a merge stands for: the change set that merge introduced.

    `git cherry-pick -m 1 -x M` copies M's diff against its first parent and names M. That
    diff is the work of the non-merge commits reachable from M's other parents and not from
    its first (`git rev-list --no-merges M^1..M`), so the copy is linked to each of them,
    like a squash naming every original. Empty commits and commits outside the audit's scope
    (ignored, or before `since`) are left out; a merge that brought in none of the rest
    stands for itself.
    """

    def __init__(self, history: History, candidates: set[str]) -> None:
        self._history = history
        self._candidates = candidates
        self._cache: dict[str, tuple[str, ...]] = {}

    def originals(self, commit_id: str) -> tuple[str, ...]:
        """The commits `commit_id` stands for as an original: itself, unless a merge."""
        found = self._cache.get(commit_id)
        if found is None:
            found = self._brought_in(commit_id) or (commit_id,)
            self._cache[commit_id] = found
        return found

    def _brought_in(self, commit_id: str) -> tuple[str, ...]:
        history = self._history
        parents = history.repo.commit(commit_id).parents
        if len(parents) < 2:
            return ()
        try:
            walked = list(history.repo.walk(list(parents[1:]), [parents[0]]))
        except DriftError:  # a parent is missing (a shallow or damaged clone)
            return ()
        kept = [
            info.id
            for info in walked
            if not info.is_merge
            and (info.id in self._candidates or not history.outside_base(info.id))
            and not is_empty_commit(history, info.id)
        ]
        return tuple(sorted(kept, key=intro_order(history)))


#: Base commits `_base_copies` reads from the object store before the stored rows of commits'
#: metadata. Its walk meets mostly commits outside the base, decoded by the audit's walk: a
#: re-run after 1,000 commits at 100k read 188 others, 3 ms from the object store, where
#: the rows they sit in took 0.07 s to check and decode. More than this many costs at most
#: 2,048 x 8 us (the object store's 12 against a row entry's 4) over reading the rows first:
#: after a release moved the base up at 100k it met 2,000 and read the rows (the audit waits
#: for its metrics child then, not for this).
_ROWS_AFTER = 2048


def _base_copies(history: History, candidates: list[str], uf: UnionFind) -> list[CopyLink]:
    """Copies, inside the common base, of commits outside it (a prod fix picked to dev with -x
    and then promoted everywhere): without them the fix would look missing upstream.

    A copy is younger than its original, so only base commits newer than the oldest
    candidate are read, and only their messages: the base is still never diffed. A copy
    without a trailer inside the base is not recognised (docs/decisions.md).
    """
    if not candidates:
        return []
    wanted = set(candidates)
    since = min(history.commits[c].commit_time for c in candidates)
    tips = sorted({env.commit for env in history.envs})
    change_sets = MergeChangeSets(history, wanted)
    links: list[CopyLink] = []
    for info in history.repo.walk_window(tips, since, rows_after=_ROWS_AFTER):
        if history.outside_base(info.id) or info.is_merge:
            continue
        for named in cherry_picked_from(info.message):
            named_id = resolve_commit(history, named)[0]
            if named_id is None:
                continue
            for original in change_sets.originals(named_id):
                if original in wanted:
                    via = named_id if named_id != original else None
                    links.append(CopyLink(original, info.id, "trailer", via=via))
                    uf.union(info.id, original)
    return links


def _trailer_targets(history: History, commit_id: str, change_sets: MergeChangeSets) -> set[str]:
    """The originals a commit's own trailers name (a merge standing for its change set)."""
    message = history.repo.commit(commit_id).message
    named = (resolve_commit(history, n)[0] for n in cherry_picked_from(message))
    return {part for target in named if target for part in change_sets.originals(target)}


def _patch_id_links(
    history: History,
    candidates: list[str],
    keys: PatchKeys,
    revert_set: set[str],
    uf: UnionFind,
    trailer: list[CopyLink],
) -> list[CopyLink]:
    by_id: dict[tuple[str, bool], list[str]] = defaultdict(list)
    for commit_id in candidates:
        pid = keys.key(commit_id)
        if pid is not None:
            by_id[(pid, commit_id in revert_set)].append(commit_id)
    picked_by_trailer = {link.copy for link in trailer}
    key = intro_order(history)
    links: list[CopyLink] = []
    for members in by_id.values():
        if len(members) < 2:
            continue
        members.sort(key=key)
        original = members[0]
        for copy in members[1:]:
            uf.union(copy, original)
            if copy not in picked_by_trailer:
                links.append(CopyLink(original, copy, "patch-id"))
    return links


def _similar_links(
    history: History,
    settings: Settings,
    candidates: list[str],
    keys: PatchKeys,
    revert_set: set[str],
    uf: UnionFind,
) -> list[CopyLink]:
    """Join exact changes whose diffs are close (drift/similar.py); one link per original."""
    diffs: dict[str, Diff] = {}

    def diff_of(commit_id: str) -> Diff:
        if commit_id not in diffs:
            diffs[commit_id] = make_diff(changed_lines(history.repo, commit_id))
        return diffs[commit_id]

    cands = _similar_candidates(history, settings, candidates, keys, revert_set, uf)
    found = find_similar(cands, diff_of, history.repo.is_ancestor, settings.similar_threshold)
    links: list[CopyLink] = []
    for link in found:
        for original in link.originals:
            uf.union(link.copy, original)
            n = len(link.originals)
            links.append(CopyLink(original, link.copy, "similar", link.score, n, link.evidence))
    return links


def _similar_candidates(
    history: History,
    settings: Settings,
    candidates: list[str],
    keys: PatchKeys,
    revert_set: set[str],
    uf: UnionFind,
) -> list[Candidate]:
    """One candidate per distinct diff of each exact change that is not on every environment,
    among those that can be paired at all (drift.similar.pairable).

    Changes holding a revert, or a commit outside the audit's scope (in the common base, a
    merge, ignored), are left out: reverts are never grouped with other changes, and what
    is out of scope is never diffed.
    """
    in_scope = set(candidates)
    key = intro_order(history)
    same_diff = "patch-id" in settings.match
    found: list[tuple[str, int, int]] = []  # (commit, its exact change's number, mask)
    for number, members in enumerate(sorted(uf.groups(), key=min)):
        if any(m not in in_scope or m in revert_set for m in members):
            continue
        mask = 0
        for m in members:
            mask |= history.masks[m]
        if mask == history.full_mask:
            continue
        if len(members) == 1:  # most changes: nothing to order, no diff to tell apart
            found.append((members[0], number, mask))
            continue
        distinct: set[str | None] = set()
        for commit_id in sorted(members, key=key):
            diff_id = keys.key(commit_id) if same_diff else commit_id
            if diff_id not in distinct:
                distinct.add(diff_id)
                found.append((commit_id, number, mask))
    touched = [_touched(history, commit_id) for commit_id, _, _ in found]
    live, common = pairable([mask for _, _, mask in found], touched)
    return [
        _candidate(history, commit_id, number, mask, key(commit_id), touched[i] - common)
        for i, (commit_id, number, mask) in enumerate(found)
        if i in live
    ]


def _touched(history: History, commit_id: str) -> frozenset[bytes]:
    """The paths and blob ids a commit touches: what two candidates must share to be paired."""
    keys: set[bytes] = set()
    for change in history.repo.file_changes(commit_id):
        keys.add(b"path:" + change.path)
        keys.update(b"blob:" + b.encode() for b in (change.old_id, change.new_id) if b)
    return frozenset(keys)


def _candidate(
    history: History,
    commit_id: str,
    group: int,
    mask: int,
    order: tuple[int, int, int, str],
    keys: frozenset[bytes],
) -> Candidate:
    """What pruning and scoring need to know of one commit (outside the common base)."""
    info = history.commits[commit_id]
    return Candidate(
        commit=commit_id,
        group=group,
        mask=mask,
        reach=history.masks[commit_id],
        env=order[1],
        order=order,
        author=info.author_email.lower(),
        author_time=info.author_time,
        commit_time=info.commit_time,
        subject=info.subject,
        keys=keys,
    )


def find_reverts(history: History, candidates: Iterable[str], keys: PatchKeys) -> list[RevertLink]:
    """Reverts by message, then (for the rest) by a diff inverse to an earlier commit's.

    A commit carrying a cherry-pick trailer, or sharing its patch id with an earlier
    ordinary commit, is a copy: it takes the revert status of what it copies instead of
    being tested as an undo (re-picking F after `revert F` is a copy of F, not a revert of
    the revert).
    """
    links: list[RevertLink] = []
    by_shape: dict[Shape, list[str]] = defaultdict(list)
    plain: list[str] = []
    for commit_id in candidates:
        message = history.commits[commit_id].message
        named = reverts(message)
        if named is not None:
            links.append(RevertLink(commit_id, resolve_commit(history, named)[0], "message", named))
        elif not cherry_picked_from(message):
            plain.append(commit_id)
        by_shape[keys.shape(commit_id)].append(commit_id)
    first_with_id: dict[str | None, RevertLink | None] = {}
    for commit_id in sorted(plain, key=lambda c: (history.commits[c].commit_time, c)):
        pid = keys.key(commit_id)
        reverted = _inverse_match(history, commit_id, by_shape)
        if pid in first_with_id:  # a copy of an earlier ordinary commit: same status
            copied = first_with_id[pid]
            if copied is not None:
                links.append(RevertLink(commit_id, reverted or copied.reverted, "inverse-patch"))
            continue
        link = None if reverted is None else RevertLink(commit_id, reverted, "inverse-patch")
        first_with_id[pid] = link
        if link is not None:
            links.append(link)
    return sorted(links, key=lambda link: link.revert)


def resolve_commit(history: History, named: str) -> tuple[str | None, str]:
    """The commit an id in a message names: among the walked commits first (commits only,
    as git resolves a commit-ish), else anywhere in the repository."""
    found = history.commits_with_prefix(named)
    if len(found) == 1:
        return found[0], ""
    if len(found) > 1:
        return None, "ambiguous"
    return history.repo.lookup_commit(named)


def is_empty_commit(history: History, commit_id: str) -> bool:
    """Same tree as its first parent: decided from tree ids, without diffing."""
    repo = history.repo
    info = repo.commit(commit_id)
    return len(info.parents) == 1 and repo.commit(info.parents[0]).tree == info.tree


def _inverse_match(
    history: History, commit_id: str, by_shape: dict[Shape, list[str]]
) -> str | None:
    repo = history.repo
    earlier = [
        o
        for o in by_shape[diff_shape(repo.file_changes(commit_id), inverse=True)]
        if o != commit_id and _earlier(history, o, commit_id)
    ]
    if not earlier:
        return None
    inverse = repo.inverse_patch_id(commit_id)
    matches = [o for o in earlier if repo.patch_id(o) == inverse]
    if not matches:
        return None
    ancestors = [o for o in matches if repo.is_ancestor(o, commit_id)]
    pool = ancestors or matches
    return max(pool, key=lambda o: (history.commits[o].commit_time, o))


def _earlier(history: History, other: str, commit_id: str) -> bool:
    """Whether `other` came before `commit_id`, so that `commit_id` may undo it: an older
    committer time, or, within the same second (scripted work, rebases), not a descendant
    of it: an ancestor is earlier, and of two unrelated commits the smaller id, so that
    only one of them can undo the other."""
    mine, theirs = history.commits[commit_id].commit_time, history.commits[other].commit_time
    if theirs != mine:
        return theirs < mine
    repo = history.repo
    if repo.is_ancestor(commit_id, other):
        return False
    return repo.is_ancestor(other, commit_id) or other < commit_id
