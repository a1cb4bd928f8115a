"""`similar`: copies whose diffs are close to their original's but not equal.

A pick whose conflict was resolved by hand, or that was edited on the way, has another patch
id. Among the commits no exact method paired across environments, this module finds them:

1. prune: a pair is scored only when the two commits touch a common path or blob, lie on
   different sets of environments, belong to different exact changes, and the later one was
   committed after the earlier one was authored; a commit that shares no path or blob with
   one on another set of environments is not even described (`pairable`);
2. score: the diffs are compared as multisets of changed lines per file (whitespace removed,
   trivial lines dropped; `-` and `+` lines never match each other, so an undo scores 0);
   subject and author lift a diff score of at least `META_FLOOR`, never make one;
3. squash: a later commit that contains most of several earlier ones is scored against their
   combined diff (a line added by one and changed by a later one cancels out);
4. assign: links are taken greedily, best score first, one-to-one as `git range-diff`
   matches (each copy has one original, each original one copy per environment), and a
   link is dropped if one commit is an ancestor of the other (a copy is made where its
   original is not).

Everything here is pure: commits arrive as `Candidate`s, diffs through a callback.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import combinations

#: Diff similarity from which subject and author may add to the score.
META_FLOOR = 0.5
#: The share of the remaining distance to 1.0 that a perfect subject and author close.
META_WEIGHT = 0.3
#: A key (path or blob) touched by more commits than this is too common to pair on.
MAX_POSTING = 256
#: An original of a squash must have at least this share of its lines in the copy.
SQUASH_CONTAINMENT = 0.5
#: Originals considered per squash, best contained first.
SQUASH_MAX = 12
#: Clock skew tolerated between an original's author time and its copy's commit time.
SKEW_SECONDS = 86400
#: Lines shorter than this (after removing whitespace) carry no evidence: `}`, `)`, `];`.
MIN_LINE = 3
#: Cross-path file pairing (renames) is tried only for commits with at most this many files.
MAX_RENAME_FILES = 24

Tokens = Counter[bytes]
FileRecord = tuple[bytes, tuple[bytes, ...], tuple[bytes, ...], bytes | None]
"""(path, removed lines, added lines, summary): one file of a diff, see drift/git/blobs.py."""


@dataclass(frozen=True, slots=True)
class Diff:
    """A commit's changed lines: per path, a multiset of `-line` / `+line` tokens."""

    files: dict[bytes, Tokens]
    size: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """A commit that may be a near-miss copy or original, with what pruning needs."""

    commit: str
    group: int
    """Its exact change (same-commit, trailer, patch id): never paired within one."""
    mask: int
    """Environments that reach its exact change (any commit of it)."""
    reach: int
    """Environments that reach this commit: an ancestor is reached wherever it is."""
    env: int
    """The environment it was introduced into first."""
    order: tuple[int, int, int, str]
    """Introduction order: the earlier of two is the original."""
    author: str
    author_time: int
    commit_time: int
    subject: str
    keys: frozenset[bytes]
    """Paths and blob ids it touches."""


@dataclass(frozen=True, slots=True)
class SimilarLink:
    """`copy` carries the change of `originals` (several for a squash), with its evidence."""

    originals: tuple[str, ...]
    copy: str
    score: float
    evidence: str


def make_diff(files: Iterable[FileRecord]) -> Diff:
    """Tokens from (path, removed, added, summary) per file; see `normalise`."""
    out: dict[bytes, Tokens] = {}
    for path, removed, added, summary in files:
        tokens: Tokens = Counter()
        if summary is not None:
            tokens[b"=" + summary] += 1
        for sign, lines in ((b"-", removed), (b"+", added)):
            tokens.update(sign + n for line in lines if len(n := normalise(line)) >= MIN_LINE)
        if tokens:
            out[path] = tokens
    return Diff(out, sum(sum(t.values()) for t in out.values()))


def normalise(line: bytes) -> bytes:
    """Whitespace removed, as patch ids ignore it: re-indented lines still agree."""
    return b"".join(line.split())


def matched_lines(a: Diff, b: Diff) -> int:
    """Lines the two diffs share, file by file: same path first, then renamed files paired
    by the most lines in common (only for small commits, where that stays cheap)."""
    total = sum(_common(a.files[p], b.files[p]) for p in a.files.keys() & b.files.keys())
    rest_a = sorted(a.files.keys() - b.files.keys())
    rest_b = sorted(b.files.keys() - a.files.keys())
    if not rest_a or not rest_b or max(len(rest_a), len(rest_b)) > MAX_RENAME_FILES:
        return total
    overlaps = [
        (n, pa, pb) for pa in rest_a for pb in rest_b if (n := _common(a.files[pa], b.files[pb]))
    ]
    used_a: set[bytes] = set()
    used_b: set[bytes] = set()
    for n, pa, pb in sorted(overlaps, key=lambda o: (-o[0], o[1], o[2])):
        if pa not in used_a and pb not in used_b:
            used_a.add(pa)
            used_b.add(pb)
            total += n
    return total


def _common(a: Tokens, b: Tokens) -> int:
    if len(a) > len(b):
        a, b = b, a
    return sum(min(n, b[t]) for t, n in a.items() if t in b)


def dice(matched: int, a: Diff, b: Diff) -> float:
    """Share of both diffs' lines that agree (1.0: equal line multisets)."""
    total = a.size + b.size
    return 2 * matched / total if total else 0.0


def subject_similarity(a: str, b: str) -> float:
    """How alike two subjects read, ignoring case, punctuation and `[prod]`-style tags
    (0 when either says nothing: two empty subjects are not evidence)."""
    words_a, words_b = _words(a), _words(b)
    if not words_a or not words_b:
        return 0.0
    return difflib.SequenceMatcher(None, words_a, words_b, autojunk=False).ratio()


def _words(subject: str) -> str:
    subject = re.sub(r"^(\[[^\]]*\]\s*|\w+:\s+)+", "", subject.lower())
    return " ".join(re.findall(r"\w+", subject))


def meta_score(a: Candidate, b: Candidate) -> float:
    """0..1: subject likeness (0.6) and authorship (0.4: same person, and the same author
    date that `git cherry-pick` keeps)."""
    author = 0.0
    if a.author == b.author:
        author = 1.0 if a.author_time == b.author_time else 0.5
    return 0.6 * subject_similarity(a.subject, b.subject) + 0.4 * author


def combine(diff: float, meta: float) -> float:
    """The reported score: the diff's, lifted by subject and author only when the diffs
    already agree on at least half their lines, so metadata never makes a match alone."""
    if diff < META_FLOOR:
        return diff
    return diff + (1.0 - diff) * META_WEIGHT * meta


def compose(diffs: list[Diff]) -> Diff:
    """The net diff of several commits applied in order: a line one adds and a later one
    removes (or removes and re-adds) cancels out, as it does in a squash."""
    files: dict[bytes, Tokens] = {}
    for diff in diffs:
        for path, tokens in diff.files.items():
            acc = files.setdefault(path, Counter())
            for token, n in tokens.items():
                inverse = (b"+" if token[:1] == b"-" else b"-") + token[1:]
                cancel = min(n, acc[inverse]) if token[:1] != b"=" else 0
                acc[inverse] -= cancel
                acc[token] += n - cancel
    out = {p: +t for p, t in files.items() if +t}
    return Diff(out, sum(sum(t.values()) for t in out.values()))


def pairable(masks: list[int], keys: list[frozenset[bytes]]) -> tuple[set[int], set[bytes]]:
    """Which commits `candidate_pairs` could pair at all, known before any is described: the
    indices of those sharing a key with a commit on another set of environments, and the keys
    too common to pair on (touched by more than `MAX_POSTING` commits of the whole set, as
    `candidate_pairs` counts them). Given only the commits found here, with those keys taken
    out of theirs, `candidate_pairs` makes the same pairs: two commits of one exact change
    have one mask, so a pair always shares a key across masks. In the 300k-commit benchmark,
    where nearly every commit outside the common base is on dev alone, 10 of 12,146 are
    pairable (similar: 0.20 -> 0.08 s); in its drifting shape 6,999 of 11,867."""
    index: dict[bytes, list[int]] = {}
    for i, touched in enumerate(keys):
        for key in touched:
            index.setdefault(key, []).append(i)
    live: set[int] = set()
    common: set[bytes] = set()
    for key, posting in index.items():
        if len(posting) > MAX_POSTING:
            common.add(key)
        elif len({masks[i] for i in posting}) > 1:
            live.update(posting)  # each has one on another set of environments here
    return live, common


def candidate_pairs(cands: list[Candidate]) -> Iterator[tuple[Candidate, Candidate]]:
    """(earlier, later) pairs that share a key and survive the cheap checks."""
    index: dict[bytes, list[int]] = {}
    for i, cand in enumerate(cands):
        for key in cand.keys:
            index.setdefault(key, []).append(i)
    seen: set[tuple[int, int]] = set()
    for key in sorted(index):
        posting = index[key]
        if len(posting) > MAX_POSTING:
            continue
        for i, j in combinations(posting, 2):
            if (i, j) in seen:
                continue
            seen.add((i, j))
            a, b = sorted((cands[i], cands[j]), key=lambda c: c.order)
            if a.group != b.group and a.mask != b.mask and _in_time(a, b):
                yield a, b


def _in_time(original: Candidate, copy: Candidate) -> bool:
    return copy.commit_time + SKEW_SECONDS >= original.author_time


@dataclass(frozen=True, slots=True)
class _Proposal:
    score: float
    originals: tuple[Candidate, ...]
    copy: Candidate
    evidence: str


def find_similar(
    cands: list[Candidate],
    diff_of: Callable[[str], Diff],
    is_ancestor: Callable[[str, str], bool],
    threshold: float,
) -> list[SimilarLink]:
    """Near-miss copies among `cands`, one-to-one, each scored at least `threshold`."""
    proposals: list[_Proposal] = []
    contained: dict[str, list[tuple[float, Candidate]]] = {}
    by_commit = {c.commit: c for c in cands}
    for a, b in candidate_pairs(cands):
        da, db = diff_of(a.commit), diff_of(b.commit)
        matched = matched_lines(da, db)
        if not matched:
            continue
        similarity = dice(matched, da, db)
        score = combine(similarity, meta_score(a, b))
        if score >= threshold:
            proposals.append(_Proposal(score, (a,), b, _evidence(a, b, matched, da, db)))
        if da.size < db.size and matched >= SQUASH_CONTAINMENT * da.size:
            contained.setdefault(b.commit, []).append((matched / da.size, a))
    for commit in sorted(contained):
        squash = _squash(by_commit[commit], contained[commit], diff_of, threshold)
        if squash is not None:
            proposals.append(squash)
    return _assign(proposals, is_ancestor)


def _evidence(a: Candidate, b: Candidate, matched: int, da: Diff, db: Diff) -> str:
    parts = [
        f"the diffs agree on {matched} of {max(da.size, db.size)} changed lines "
        f"(diff similarity {dice(matched, da, db):.2f})",
        f"subject similarity {subject_similarity(a.subject, b.subject):.2f}",
    ]
    if a.author == b.author:
        same_date = a.author_time == b.author_time
        parts.append("same author and author date" if same_date else "same author")
    return "; ".join(parts)


def _squash(
    copy: Candidate,
    contained: list[tuple[float, Candidate]],
    diff_of: Callable[[str], Diff],
    threshold: float,
) -> _Proposal | None:
    """Several earlier commits whose combined diff matches `copy`: chosen best-contained
    first, each kept only if it brings the combined diff closer to the copy's."""
    ranked = sorted(contained, key=lambda item: (-item[0], item[1].order))[:SQUASH_MAX]
    target = diff_of(copy.commit)
    chosen: list[Candidate] = []
    best, best_matched = 0.0, 0
    for _, cand in ranked:
        if any(c.group == cand.group for c in chosen):
            continue
        trial = sorted([*chosen, cand], key=lambda c: c.order)
        combined = compose([diff_of(c.commit) for c in trial])
        matched = matched_lines(combined, target)
        similarity = dice(matched, combined, target)
        if similarity > best:
            chosen, best, best_matched = trial, similarity, matched
    if len(chosen) < 2 or best < threshold:
        return None
    evidence = (
        f"a squash of {len(chosen)} commits: their combined diff agrees with this copy on "
        f"{best_matched} of {target.size} changed lines (diff similarity {best:.2f})"
    )
    return _Proposal(best, tuple(chosen), copy, evidence)


def _assign(
    proposals: list[_Proposal], is_ancestor: Callable[[str, str], bool]
) -> list[SimilarLink]:
    """Best score first, one-to-one per pair of environments as `git range-diff` matches.

    A link is taken when its copy is not yet the copy of another link, when it joins exact
    changes not yet joined, when it never puts two parts introduced into one environment on
    either side of it (the originals of a squash may share theirs), and when no original is an
    ancestor or descendant of the copy (a pick is made where its original is not).
    """
    proposals.sort(key=lambda p: (-p.score, p.copy.order, [o.order for o in p.originals]))
    joined = _Components()
    copied: set[int] = set()
    links: list[SimilarLink] = []
    for p in proposals:
        if p.copy.group in copied or not joined.can_join(p.copy, p.originals):
            continue
        if any(_related(o, p.copy, is_ancestor) for o in p.originals):
            continue
        copied.add(p.copy.group)
        joined.join(p.copy, p.originals)
        originals = tuple(o.commit for o in p.originals)
        links.append(SimilarLink(originals, p.copy.commit, round(p.score, 3), p.evidence))
    return links


def _related(a: Candidate, b: Candidate, is_ancestor: Callable[[str, str], bool]) -> bool:
    """Whether one commit is an ancestor of the other. Every environment reaching a commit
    reaches its ancestors, so the graph is walked only when the masks allow it."""
    if b.reach & ~a.reach == 0 and is_ancestor(a.commit, b.commit):
        return True
    return a.reach & ~b.reach == 0 and is_ancestor(b.commit, a.commit)


class _Components:
    """Exact changes joined by accepted links, with the environments their parts entered."""

    def __init__(self) -> None:
        self.root: dict[int, int] = {}
        self.envs: dict[int, set[int]] = {}

    def find(self, cand: Candidate) -> int:
        group = cand.group
        self.envs.setdefault(group, {cand.env})
        while self.root.get(group, group) != group:
            group = self.root[group]
        return group

    def can_join(self, copy: Candidate, originals: tuple[Candidate, ...]) -> bool:
        target = self.find(copy)
        roots = [self.find(o) for o in originals]
        if target in roots or len(set(roots)) != len(roots):
            return False
        return not any(self.envs[target] & self.envs[r] for r in roots)

    def join(self, copy: Candidate, originals: tuple[Candidate, ...]) -> None:
        target = self.find(copy)
        for o in originals:
            root = self.find(o)
            self.root[root] = target
            self.envs[target] |= self.envs.pop(root)
