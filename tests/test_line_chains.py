"""A line read down to where a stored line begins, chained to it (drift.git.line_trees): after
a promotion moves the common base up, a re-run reads the new part of each line only, and its
reports are those of a run without a cache. Checked against `git log --first-parent`."""

from __future__ import annotations

import hashlib
import itertools
import marshal
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from drift.audit import run_audit
from drift.ci.cache import FILENAME, CommitCache, _decode_line_trees, _encode_line_trees
from drift.config import Settings
from drift.environments import resolve_chain
from drift.git import line_trees as line_trees_module
from drift.git import repository as repository_module
from drift.git.line_trees import LineTrees
from drift.git.repository import GitRepository
from drift.git.store import using_store
from drift.parallel import parallel_allowed
from drift_fixtures.builder import release
from drift_fixtures.demo import build_demo
from drift_fixtures.expect import Scenario
from tests.gitoracle import git
from tests.probes import stored_rows
from tests.test_line_trees import line_trees_by_git

CHAIN = ["dev", "test", "staging", "prod"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return build_demo(tmp_path_factory.mktemp("chains"))


def test_a_line_read_down_to_a_stop_and_chained_is_the_whole_line(demo: Scenario) -> None:
    repo = GitRepository.open(demo.path)
    for env in resolve_chain(repo, Settings()).envs:
        line = git(demo.path, "rev-list", "--first-parent", env.commit).split()
        whole = line_trees_by_git(demo.path, env.commit)
        for stop in (line[len(line) // 3], line[1]):
            segment = repo.line_trees(env.commit, {stop, "f" * 40})
            assert segment.stop == stop
            assert segment == line_trees_by_git(demo.path, env.commit, stop)
            chained = segment.chained(repo.line_trees(stop))
            assert chained.depth == 2 and chained == whole
            asked = [*sorted(whole), "0" * 40]  # the first lookups scan, later ones use a dict
            assert [chained.get(tree) for tree in asked] == [whole.get(tree) for tree in asked]
        # A stop off the line, or the start itself, does not end the walk.
        alone = repo.line_trees(env.commit, {"f" * 40, env.commit})
        assert alone.stop is None and alone == whole


def test_a_chain_of_many_segments_answers_as_one_line(demo: Scenario) -> None:
    repo = GitRepository.open(demo.path)
    tip = git(demo.path, "rev-parse", "prod")
    line = git(demo.path, "rev-list", "--first-parent", tip).split()
    cuts = line[::7][1:]  # a segment every seven line commits
    starts = [tip, *cuts]
    segments = [repo.line_trees(start, set(cuts)) for start in starts]
    assert [s.stop for s in segments] == [*cuts, None]
    for segment, rest in itertools.pairwise(segments):
        segment.chained(rest)
    whole = line_trees_by_git(demo.path, tip)
    assert segments[0].depth == len(starts) and segments[0] == whole
    assert segments[0].merged() == whole and segments[0].merged().depth == 1
    assert [segments[0].get(t) for t in sorted(whole)] == [whole[t] for t in sorted(whole)]


@pytest.mark.parametrize("scans", [0, 10**6])
def test_a_tree_in_both_parts_of_a_chain_keeps_its_earliest(
    scans: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Usually the deeper part holds the older commit; with skewed clocks, not always."""
    monkeypatch.setattr(line_trees_module, "SCANS", scans)
    tree, other = "a" * 40, "b" * 40
    for top, deep, earliest in [
        ((200, "c" * 40), (100, "d" * 40), (100, "d" * 40)),
        ((50, "c" * 40), (100, "d" * 40), (50, "c" * 40)),
        ((100, "0" * 40), (100, "d" * 40), (100, "0" * 40)),  # one time: the smaller id
    ]:
        packed = LineTrees.unpacked(LineTrees.of({tree: top}).packed())
        assert packed is not None
        chain = packed.chained(LineTrees.of({tree: deep, other: (1, "e" * 40)}))
        assert chain.get(tree) == earliest and chain.get(other) == (1, "e" * 40)
        assert chain.as_dict() == {tree: earliest, other: (1, "e" * 40)}


def promote(path: Path) -> None:
    """A release through every environment: the common base moves up to dev's tip."""
    release(path, CHAIN)


def audited(path: Path, folder: Path | None) -> dict[str, Any]:
    cache = CommitCache.open(folder) if folder is not None else None
    with using_store(cache):
        data = run_audit(path, Settings(), now=0).to_dict()
    if cache is not None:
        cache.close()
    return data


def stored_lines(folder: Path) -> dict[str, LineTrees]:
    found = {}
    for start, blob in stored_rows(folder, "SELECT start, data FROM line_trees"):
        decoded = _decode_line_trees(blob)
        assert decoded is not None
        found[start] = decoded
    return found


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_after_a_promotion_a_rerun_reads_only_the_new_part_of_each_line(
    jobs: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if jobs == "2" and not parallel_allowed():
        pytest.skip("no second core for a child process here")
    monkeypatch.setenv("DRIFT_JOBS", jobs)
    path = build_demo(tmp_path / "repo").path
    cache = tmp_path / "cache"
    audited(path, cache)
    before = stored_lines(cache)
    assert before
    promote(path)
    plain = audited(path, None)
    read: list[str] = []  # the lines this process reads itself
    real = GitRepository.line_trees

    def line_trees(self: GitRepository, start: str | None, stops: Any = ()) -> LineTrees:
        read.append(str(start))
        return real(self, start, stops)

    monkeypatch.setattr(GitRepository, "line_trees", line_trees)
    assert audited(path, cache) == plain
    after = stored_lines(cache)
    new = {start: trees for start, trees in after.items() if start not in before}
    assert new, "the promotion moved where the lines enter the common base"
    for start, segment in new.items():
        # Each new line was read down to a line the first run kept, and no further.
        assert segment.stop in before
        assert segment == line_trees_by_git(path, start, segment.stop)
        assert len(segment) < len(line_trees_by_git(path, start)) / 3
    if jobs == "1":
        assert sorted(read) == sorted(new)  # each new line once, nothing else


def test_a_bad_row_down_a_chain_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chained line whose rest cannot be read from the cache is read whole, here, and its
    rest is kept again: the report does not change."""
    monkeypatch.setenv("DRIFT_JOBS", "1")
    path = build_demo(tmp_path / "repo").path
    cache = tmp_path / "cache"
    audited(path, cache)
    before = set(stored_lines(cache))
    conn = sqlite3.connect(cache / FILENAME)
    with conn:
        conn.execute("UPDATE line_trees SET data = substr(data, 1, length(data) - 1)")
    conn.close()
    promote(path)
    assert audited(path, cache) == audited(path, None)
    after = stored_lines(cache)  # every row decodes again: the damaged ones were replaced
    assert before <= set(after) and any(t.stop in before for t in after.values())


def test_a_stored_chain_is_checked_link_by_link(demo: Scenario, tmp_path: Path) -> None:
    repo = GitRepository.open(demo.path)
    tip = git(demo.path, "rev-parse", "dev")
    line = git(demo.path, "rev-list", "--first-parent", tip).split()
    middle = line[len(line) // 2]
    cache = CommitCache.open(tmp_path)
    cache.put_line_trees(tip, repo.line_trees(tip, {middle}))
    cache.put_line_trees(middle, repo.line_trees(middle))
    cache.close()
    cache = CommitCache.open(tmp_path)
    assert cache.line_trees(tip) == line_trees_by_git(demo.path, tip)
    assert cache.line_tree_starts() == {tip, middle}
    cache.close()
    conn = sqlite3.connect(tmp_path / FILENAME)
    with conn:
        conn.execute("DELETE FROM line_trees WHERE start = ?", (middle,))
    conn.close()
    cache = CommitCache.open(tmp_path)
    assert cache.line_trees(tip) is None  # its rest is gone: a miss, not half a line
    cache.close()


def test_a_chain_too_long_is_kept_merged(
    demo: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(line_trees_module, "MAX_CHAIN", 3)
    repo = GitRepository.open(demo.path)
    tip = git(demo.path, "rev-parse", "prod")
    line = git(demo.path, "rev-list", "--first-parent", tip).split()
    starts = line[0:20:5]  # four starts down one line, as four weekly runs would find them
    for start in reversed(starts):  # the oldest first
        cache = CommitCache.open(tmp_path)
        segment = repo.line_trees(start, cache.line_tree_starts())
        rest = cache.line_trees(segment.stop) if segment.stop else None
        cache.put_line_trees(start, segment.chained(rest) if rest else segment)
        cache.close()
    rows = stored_lines(tmp_path)
    # One row, two chained, then three would be one too many: merged, and chained again.
    assert [rows[s].stop for s in starts] == [starts[1], None, starts[3], None]
    cache = CommitCache.open(tmp_path)
    for start in starts:
        assert cache.line_trees(start) == line_trees_by_git(demo.path, start)
    cache.close()
    conn = sqlite3.connect(tmp_path / FILENAME)  # a chain of rows longer than that is a miss
    with conn:
        for upper, lower in itertools.pairwise(starts):
            segment = repo.line_trees(upper, {lower})
            conn.execute(
                "UPDATE line_trees SET data = ? WHERE start = ?",
                (_encode_line_trees(segment), upper),
            )
    conn.close()
    cache = CommitCache.open(tmp_path)
    assert cache.line_trees(starts[1]) == line_trees_by_git(demo.path, starts[1])
    assert cache.line_trees(starts[0]) is None
    cache.close()


@pytest.mark.parametrize(
    "value",
    [
        ("not-a-commit", (40, "", b"", "")),  # a stop that is no commit id
        (7, (40, "", b"", "")),
        ((40, "", b"", ""),),  # the packed line alone, as earlier versions kept it
        (None, (40, "a" * 40, b"", "")),  # a region short of its count
    ],
)
def test_a_row_with_a_bad_link_or_shape_is_a_miss(value: Any) -> None:
    body = marshal.dumps(value)
    assert _decode_line_trees(hashlib.sha256(body).digest() + body) is None
    good = LineTrees.of({"a" * 40: (1, "b" * 40)})
    good.stop = "c" * 40
    decoded = _decode_line_trees(_encode_line_trees(good))
    assert decoded is not None and decoded.stop == "c" * 40 and decoded == good


def test_the_window_keeps_the_commits_it_took_from_memory(
    demo: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits the audit's walk decoded are in the window's row too: once a promotion moves
    the common base up, the walk no longer decodes them, and the window must not either."""
    tips = sorted(set(git(demo.path, "rev-parse", *CHAIN).split()))
    since = int(git(demo.path, "log", "-1", "--format=%ct", "dev")) - 200 * 86400
    first = CommitCache.open(tmp_path)
    repo = GitRepository.open(demo.path, first)
    recent = git(demo.path, "rev-list", "--max-count=30", "dev").split()
    for commit in recent:  # as the audit's walk decodes the commits outside the base
        repo.commit(commit)
    window = [c.id for c in repo.walk_window(tips, since)]
    assert set(recent) <= set(window)
    first.close()
    decoded: list[str] = []
    real = repository_module.decode_commit  # type: ignore[attr-defined]

    def decode_commit(raw: Any) -> Any:
        decoded.append(str(raw.id))
        return real(raw)

    monkeypatch.setattr(repository_module, "decode_commit", decode_commit)
    second = CommitCache.open(tmp_path)
    again = [c.id for c in GitRepository.open(demo.path, second).walk_window(tips, since)]
    second.close()
    assert again == window and decoded == []
