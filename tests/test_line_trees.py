"""A first-parent line's trees (GitRepository.line_trees, what release identity reads inside
the common base) against `git log --first-parent`; on any machine, with or without a second
core."""

from __future__ import annotations

import marshal
from collections.abc import Callable
from pathlib import Path

import pytest

from drift.config import Settings
from drift.environments import resolve_chain
from drift.errors import DriftError
from drift.git import line_trees as line_trees_module
from drift.git.line_trees import LineTrees
from drift.git.repository import GitRepository, LineCommit
from drift_fixtures import messy
from drift_fixtures.builder import RepoBuilder
from drift_fixtures.demo import build_demo
from drift_fixtures.expect import Scenario
from drift_fixtures.scenarios import release_lines
from tests.gitoracle import git

BUILDERS: dict[str, Callable[[Path], Scenario]] = {
    "release_lines": release_lines,
    "demo": build_demo,
}


def line_trees_by_git(
    path: Path, start: str, stop: str | None = None
) -> dict[str, tuple[int, str]]:
    """What GitRepository.line_trees promises, from `git log --first-parent`: each line
    commit's tree at its own time, each parent its merges brought in at the merge's time,
    the earliest (time, commit) kept per tree; down to `stop` (not included) when given."""
    found: dict[str, tuple[int, str]] = {}
    out = git(path, "log", "--first-parent", "--format=%H %T %ct %P", start).splitlines()
    if stop is not None:
        out = out[: [line.split()[0] for line in out].index(stop)]
    for line in out:
        commit, tree, when, *parents = line.split()
        seen = [(tree, (int(when), commit))]
        seen += [(git(path, "rev-parse", f"{p}^{{tree}}"), (int(when), p)) for p in parents[1:]]
        for key, value in seen:
            if key not in found or value < found[key]:
                found[key] = value
    return found


def _asked_every_way(trees: LineTrees, expected: dict[str, tuple[int, str]]) -> None:
    """`trees`, as this process reads it and as it arrives packed (from the child's pipe or
    the cache), answers every tree `expected` holds and no other, by scan and by dict."""
    assert trees == expected
    arrived = LineTrees.unpacked(marshal.loads(marshal.dumps(trees.packed())))
    assert arrived is not None and len(arrived) == len(expected)
    absent = ["0" * len(tree) for tree in list(expected)[:1]] + ["f" * 40, "short"]
    asked = [*absent, *sorted(expected)]  # the first SCANS lookups scan, the rest use a dict
    assert [arrived.get(tree) for tree in asked] == [expected.get(tree) for tree in asked]
    assert arrived.as_dict() == expected


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_line_trees_agree_with_git_log_first_parent(name: str, tmp_path: Path) -> None:
    path = BUILDERS[name](tmp_path).path
    repo = GitRepository.open(path)
    for env in resolve_chain(repo, Settings()).envs:
        expected = line_trees_by_git(path, env.commit)
        _asked_every_way(repo.line_trees(env.commit), expected)


@pytest.mark.parametrize("scans", [0, 1, 10**6])
def test_a_packed_line_answers_like_its_mapping(
    scans: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scan or dict, whichever a lookup meets: an id is found only where one starts (never
    across two neighbours), times keep their sign, and SHA-256 ids are kept whole."""
    monkeypatch.setattr(line_trees_module, "SCANS", scans)
    first, second = "0" * 20 + "1" * 20, "2" * 20 + "3" * 20
    mapping = {first: (-5, "a" * 40), second: (2**40, "b" * 40), "4" * 40: (0, "c" * 40)}
    lines = LineTrees.unpacked(LineTrees.of(mapping).packed())
    assert lines is not None
    straddling = "1" * 20 + "2" * 20  # the end of one id and the start of the next
    assert [lines.get(t) for t in [straddling, *mapping]] == [None, *mapping.values()]
    wide = {"e" * 64: (7, "d" * 64), "9" * 64: (8, "8" * 64)}
    packed = LineTrees.of(wide).packed()
    assert packed[0] == 64
    wide_lines = LineTrees.unpacked(packed)
    assert wide_lines is not None and [wide_lines.get(t) for t in wide] == list(wide.values())
    empty = LineTrees.unpacked(LineTrees.of({}).packed())
    assert empty is not None and len(empty) == 0 and empty.get("a" * 40) is None


@pytest.mark.parametrize(
    "value",
    [
        {"a" * 40: (1, "b" * 40)},  # the dict rows of earlier versions
        (40, "a" * 40, b"\0" * 8),  # a region missing
        (40, "a" * 40, b"\0" * 8, "b" * 39),  # a short id
        (40, "a" * 80, b"\0" * 8, "b" * 40),  # more trees than times
        (40, "a" * 40, b"\0" * 7, "b" * 40),  # a cut time
        (50, "a" * 50, b"\0" * 8, "b" * 50),  # no hash has ids this long
        (40, "\u00e9" * 40, b"\0" * 8, "b" * 40),  # not ASCII
        (40, "a" * 40, "\0" * 8, "b" * 40),  # times as text
    ],
)
def test_what_is_not_a_packed_line_is_refused(value: object) -> None:
    assert LineTrees.unpacked(value) is None


def test_a_tree_met_again_down_a_line_keeps_its_earliest_commit(tmp_path: Path) -> None:
    """An empty commit, and a revert back to an older tree: the older commit is kept."""
    b = RepoBuilder.init(tmp_path / "repo")
    base = b.commit("base", {"app.py": "1\n"})
    b.commit("rebuild", allow_empty=True)
    b.commit("feature", {"app.py": "2\n"}, label="feature")
    tip = b.revert("feature")
    trees = GitRepository.open(b.path).line_trees(tip)
    assert trees == line_trees_by_git(b.path, tip)
    assert trees.as_dict()[git(b.path, "rev-parse", f"{base}^{{tree}}")][1] == base


def test_a_commit_the_store_cannot_give_is_named(tmp_path: Path) -> None:
    """A missing commit met on a line (a merged parent, a tree asked for) stops the audit in
    one line naming it, not with a KeyError."""
    b = RepoBuilder.init(tmp_path / "repo")
    b.commit("base", {"app.py": "1\n"})
    missing = "f" * 40
    with pytest.raises(DriftError, match=f"commit {missing} cannot be read"):
        GitRepository.open(b.path).tree_of(missing)


def test_a_walk_through_commits_already_decoded_is_the_walk_git_gives(tmp_path: Path) -> None:
    """first_parent_walk takes a commit the run decoded already (the metrics window) from
    memory: the same id, tree, commit time (not the author's) and parents as git's."""
    b = RepoBuilder.init(tmp_path / "repo")
    b.commit("base", {"app.py": "1\n"})
    b.checkout("side", create_from="dev")
    b.commit("side", {"side.py": "s\n"})
    b.checkout("dev")
    b.commit("two", {"app.py": "2\n"})
    b.git("commit", "-q", "--amend", "--no-edit", "--date=2001-01-01T00:00:00Z")
    b.merge("side")
    b.commit("three", {"app.py": "3\n"})
    tip = b.head()
    repo = GitRepository.open(b.path)
    for commit_id in git(b.path, "rev-list", "--first-parent", "--max-count=3", tip).split():
        repo.commit(commit_id)  # decoded: the walk reads these from memory
    out = git(b.path, "log", "--first-parent", "--format=%H %T %ct %P", tip)
    expected = [
        LineCommit(commit, tree, int(when), tuple(parents))
        for commit, tree, when, *parents in (line.split() for line in out.splitlines())
    ]
    assert list(repo.first_parent_walk(tip)) == expected


def _window_by_git(path: Path, tips: list[str], since: int, slop: int) -> list[str]:
    """What GitRepository.walk_window promises, from `git rev-list --format=%ct %P`: the
    commits reachable from `tips` through commits no older than `since - slop`, those
    committed at or after `since`, newest first (ties by id)."""
    out = git(path, "rev-list", "--format=%ct %P", *tips).splitlines()
    facts = {
        header.split()[1]: (int(body.split()[0]), body.split()[1:])
        for header, body in zip(out[::2], out[1::2], strict=True)
    }
    seen, stack, found = set(tips), list(tips), []
    while stack:
        commit = stack.pop()
        when, parents = facts[commit]
        if when < since - slop:
            continue
        if when >= since:
            found.append(commit)
        stack.extend(p for p in parents if p not in seen)
        seen.update(parents)
    return sorted(found, key=lambda c: (-facts[c][0], c))


WINDOW_BUILDERS: dict[str, Callable[[Path], Scenario]] = {
    **BUILDERS,
    **{f"messy-{name}": build for name, build in messy.ALL.items()},  # odd dates, octopus
}


@pytest.mark.parametrize("name", sorted(WINDOW_BUILDERS))
def test_the_window_walk_is_gits_with_or_without_commits_decoded_first(
    name: str, tmp_path: Path
) -> None:
    """walk_window (the metrics window, the trailers inside the common base) against plain
    git, at several ages, slop included; and the same walk when the audit's commits were
    decoded first (they are taken from memory then, not read again)."""
    path = WINDOW_BUILDERS[name](tmp_path).path
    tips = sorted(set(git(path, "for-each-ref", "--format=%(objectname)", "refs/heads").split()))
    times = sorted(int(t) for t in git(path, "log", "--all", "--format=%ct").split())
    for since in (times[0], times[len(times) // 3], times[len(times) // 2], times[-1]):
        for slop in (0, 86400):
            expected = _window_by_git(path, tips, since, slop)
            fresh = GitRepository.open(path)
            assert [c.id for c in fresh.walk_window(tips, since, slop)] == expected
            decoded = GitRepository.open(path)
            for commit in git(path, "rev-list", "--all").split()[::2]:
                decoded.commit(commit)
            walked = list(decoded.walk_window(tips, since, slop))
            assert [c.id for c in walked] == expected
            assert walked == list(fresh.walk_window(tips, since, slop))


def test_the_window_walk_stops_at_an_old_commit_even_one_decoded_first(tmp_path: Path) -> None:
    """A commit committed before the window (a skewed clock) stops the walk, whether it was
    read from the object store or decoded by the run already: its newer parent is not in the
    window, as git's own walk through those dates says."""
    b = RepoBuilder.init(tmp_path / "repo")
    b.commit("parent, dated now", {"app.py": "1\n"})
    now = b.clock
    b.clock = now - 400 * 86400  # a machine whose clock was a year behind
    b.commit("skewed", {"app.py": "2\n"})
    b.clock = now + 3600
    b.commit("tip", {"app.py": "3\n"})
    tip, since = b.head(), now - 86400
    expected = _window_by_git(b.path, [tip], since, 86400)
    assert len(expected) == 1  # the tip alone: the skewed commit cuts its parent off
    for decode in (False, True):
        repo = GitRepository.open(b.path)
        if decode:
            for commit in git(b.path, "rev-list", tip).split():
                repo.commit(commit)
        assert [c.id for c in repo.walk_window([tip], since)] == expected
