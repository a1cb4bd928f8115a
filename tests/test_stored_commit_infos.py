"""Commits' metadata in the persistent cache: the metrics window reads a year of history, and
a re-run reads from the cache what an earlier run read of it from the object store.

Each test compares with an audit without any cache: the report must be the same, and the
commits decoded from the object store must be exactly those the cache does not hold.
"""

from __future__ import annotations

import hashlib
import marshal
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from drift import changes as changes_module
from drift.audit import run_audit
from drift.ci.cache import FILENAME, CommitCache
from drift.config import Settings
from drift.git import repository as repository_module
from drift.git.repository import GitRepository
from drift.git.store import using_store
from drift.parallel import parallel_allowed
from drift_fixtures.demo import build_demo
from drift_fixtures.expect import Scenario


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return build_demo(tmp_path_factory.mktemp("infos"))


def audit(
    path: Path, folder: Path | None, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> tuple[dict[str, Any], set[str]]:
    """The report (clock pinned) with the cache in `folder` (or none), and the commits this
    process decoded from the object store."""
    monkeypatch.setenv("DRIFT_JOBS", jobs)
    decoded: set[str] = set()
    real = repository_module.decode_commit  # type: ignore[attr-defined]
    monkeypatch.setattr(repository_module, "decode_commit", _counting(real, decoded))
    cache = CommitCache.open(folder) if folder is not None else None
    with using_store(cache):
        data = run_audit(path, Settings(), now=0).to_dict()
    if cache is not None:
        cache.close()
    monkeypatch.setattr(repository_module, "decode_commit", real)
    return data, decoded


def stored_ids(folder: Path, table: str = "commit_infos") -> set[str]:
    """Every commit id the cache's rows of `table` hold (their digests checked)."""
    conn = sqlite3.connect(folder / FILENAME)
    try:
        rows = conn.execute(f"SELECT data FROM {table}").fetchall()
    finally:
        conn.close()
    ids: set[str] = set()
    for (blob,) in rows:
        assert hashlib.sha256(blob[32:]).digest() == blob[:32]
        ids.update(entry[0] for entry in marshal.loads(blob[32:]))
    return ids


def rows(folder: Path) -> int:
    """How many commit_infos rows the cache holds (one per run that read new commits)."""
    conn = sqlite3.connect(folder / FILENAME)
    try:
        return int(conn.execute("SELECT count(*) FROM commit_infos").fetchone()[0])
    finally:
        conn.close()


def test_a_rerun_decodes_only_the_commits_the_cache_lacks(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain, everything = audit(scenario.path, None, monkeypatch, "1")
    cold, _ = audit(scenario.path, tmp_path, monkeypatch, "1")
    window, line = stored_ids(tmp_path), stored_ids(tmp_path, "line_infos")
    late, read_late = audit(scenario.path, tmp_path, monkeypatch, "1")
    # Grouping's walk for copies inside the common base reads the few base commits it meets
    # from the object store before it would read the rows (drift.changes._ROWS_AFTER): with
    # the rows read first, nothing the cache holds is decoded again.
    rows_after = changes_module._ROWS_AFTER
    monkeypatch.setattr(changes_module, "_ROWS_AFTER", 0)
    warm, decoded = audit(scenario.path, tmp_path, monkeypatch, "1")
    assert plain == cold == late == warm
    assert decoded < read_late and len(read_late - decoded) <= rows_after
    assert window, "the window has commits inside the common base off prod's line"
    assert line, "prod's line has commits inside the common base"
    assert window <= everything and line <= everything
    # What the cache holds is read from the object store no more, but by the audit's own walk
    # of the commits outside the common base (libgit2's walk hands it every commit object it
    # passes). A commit of prod's line that grouping's own window walk meets before release
    # identity walks the line is read there (the exact accounting of each walk is tested
    # below, walk by walk).
    outside = _outside_base(scenario.path)
    assert decoded & window <= outside
    assert window & outside, "the window keeps what the walk decoded for it"
    assert len(decoded) < len(everything - line)


def test_a_window_walk_reads_exactly_what_the_cache_lacks(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tips = sorted(set(_git(scenario.path, "rev-parse", "dev", "test", "staging", "prod").split()))
    since = int(_git(scenario.path, "log", "-1", "--format=%ct", "dev")) - 200 * 86400
    expected, first = _window(scenario.path, None, tips, since, monkeypatch)
    assert first == {c.id for c in expected} and first  # no cache: every commit is read
    _, again = _window(scenario.path, tmp_path, tips, since, monkeypatch)
    assert again == first  # an empty cache: every commit is read, and kept
    found, third = _window(scenario.path, tmp_path, tips, since, monkeypatch)
    assert third == set() and found == expected


def test_a_walk_that_reads_the_rows_late_keeps_what_one_reading_them_first_keeps(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rows_after`: the rows are read once the walk has read that many commits from the object
    store. The commits walked before are then checked against them, so the row this walk adds
    holds the same commits as with the rows read first: those the rows lack, from the object
    store or from memory."""
    path = scenario.path
    tips = sorted(set(_git(path, "rev-parse", "dev", "test", "staging", "prod").split()))
    newest = int(_git(path, "log", "-1", "--format=%ct", "dev"))
    since = newest - 200 * 86400
    expected, everything = _window(path, None, tips, since, monkeypatch)
    _window(path, tmp_path / "first", tips, newest - 20 * 86400, monkeypatch)  # a part kept
    kept = stored_ids(tmp_path / "first")
    assert kept and kept < everything
    # Decoded before the walk (in memory, as the audit's walk leaves them), and not kept yet.
    older = _git(path, "rev-list", f"--min-age={newest - 20 * 86400}", f"--max-age={since}", "dev")
    known = older.split()[:8]
    assert known and not set(known) & kept and set(known) <= everything
    added = {}
    late = len(everything) - len(known) - 5  # the rows are read near the walk's end
    for name, rows_after in (("eager", 0), ("late", late)):
        shutil.copytree(tmp_path / "first", tmp_path / name)
        found, decoded = _window(path, tmp_path / name, tips, since, monkeypatch, rows_after, known)
        assert found == expected
        added[name] = _row_ids(tmp_path / name)[-1]
        assert rows(tmp_path / name) == 2
        if rows_after:
            assert len(decoded & kept) <= rows_after  # read before the rows were
        else:
            assert not decoded & kept
    assert added["eager"] == added["late"] == everything - kept


def test_a_walk_that_never_needs_its_rows_reads_and_keeps_nothing_of_them(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = scenario.path
    tips = sorted(set(_git(path, "rev-parse", "dev", "test", "staging", "prod").split()))
    since = int(_git(path, "log", "-1", "--format=%ct", "dev")) - 200 * 86400
    expected, everything = _window(path, None, tips, since, monkeypatch)
    _window(path, tmp_path, tips, since, monkeypatch)
    assert stored_ids(tmp_path) == everything
    many = len(everything) + 100  # more than the walk reads: the rows are never needed
    found, decoded = _window(path, tmp_path, tips, since, monkeypatch, many)
    assert found == expected and decoded == everything
    assert rows(tmp_path) == 1  # nothing added: it could not know what the rows lack
    fresh = tmp_path / "fresh"
    _window(path, fresh, tips, since, monkeypatch, many)
    assert not (fresh / FILENAME).exists() or rows(fresh) == 0


def _row_ids(folder: Path) -> list[set[str]]:
    """The commit ids of each commit_infos row, oldest row first."""
    conn = sqlite3.connect(folder / FILENAME)
    try:
        blobs = conn.execute("SELECT data FROM commit_infos ORDER BY rowid").fetchall()
    finally:
        conn.close()
    return [{entry[0] for entry in marshal.loads(blob[32:])} for (blob,) in blobs]


def _window(
    path: Path,
    folder: Path | None,
    tips: list[str],
    since: int,
    mp: pytest.MonkeyPatch,
    rows_after: int = 0,
    known: list[str] = [],  # noqa: B006 (never changed)
) -> tuple[list[Any], set[str]]:
    """A window walk's commits, and those it decoded from the object store; `known`: commits
    the repository reads (from the object store) before the walk, as an audit's walk would."""
    decoded: set[str] = set()
    real = repository_module.decode_commit  # type: ignore[attr-defined]
    cache = CommitCache.open(folder) if folder is not None else None
    repo = GitRepository.open(path, cache)
    for commit_id in known:
        repo.commit(commit_id)
    mp.setattr(repository_module, "decode_commit", _counting(real, decoded))
    found = list(repo.walk_window(tips, since, rows_after=rows_after))
    if cache is not None:
        cache.close()
    mp.setattr(repository_module, "decode_commit", real)
    return found, decoded


def _counting(real: Any, decoded: set[str]) -> Any:
    def decode(raw: Any) -> Any:
        decoded.add(str(raw.id))
        return real(raw)

    return decode


def _outside_base(path: Path) -> set[str]:
    """The commits of the environments outside their common base (`git rev-list`)."""
    tips = ["dev", "test", "staging", "prod"]
    base = _git(path, "merge-base", "--octopus", *tips)
    return set(_git(path, "rev-list", *tips, f"^{base}").split())


def _git(path: Path, *argv: str) -> str:
    return subprocess.run(
        ["git", "-C", str(path), *argv], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_a_forked_child_reads_the_cache_and_hands_back_what_it_read(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child has a read-only connection of its own, and saves nothing: what it read from
    the object store reaches the cache through the parent."""
    if not parallel_allowed():
        pytest.skip("no second core for a child process here")
    plain, _ = audit(scenario.path, None, monkeypatch, "1")
    audit(scenario.path, tmp_path / "here", monkeypatch, "1")
    forked, _ = audit(scenario.path, tmp_path / "child", monkeypatch, "2")
    here, child = stored_ids(tmp_path / "here"), stored_ids(tmp_path / "child")
    line = stored_ids(tmp_path / "here", "line_infos")
    assert line == stored_ids(tmp_path / "child", "line_infos")
    # Forked right after the walk, the child reads commits that this process, computing the
    # metrics after the findings, had decoded already for them (prod's line, for one).
    assert here and here <= child
    assert rows(tmp_path / "child") == 1
    again, _ = audit(scenario.path, tmp_path / "child", monkeypatch, "2")
    assert plain == forked == again
    assert rows(tmp_path / "child") == 1  # the child read them all from the cache this time


def _rewrite(folder: Path, damage: Any) -> None:
    """Every row of commits' metadata damaged alike: the window's and the described line's."""
    conn = sqlite3.connect(folder / FILENAME)
    try:
        with conn:
            for rowid, blob in conn.execute("SELECT rowid, data FROM commit_infos").fetchall():
                conn.execute(
                    "UPDATE commit_infos SET data = ? WHERE rowid = ?", (damage(blob), rowid)
                )
            for start, blob in conn.execute("SELECT start, data FROM line_infos").fetchall():
                conn.execute(
                    "UPDATE line_infos SET data = ? WHERE start = ?", (damage(blob), start)
                )
    finally:
        conn.close()


def _sealed(value: Any) -> bytes:
    body = marshal.dumps(value)
    return hashlib.sha256(body).digest() + body


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[:-1],  # truncated: the digest no longer matches
        lambda blob: blob[:40] + bytes([blob[40] ^ 1]) + blob[41:],  # one bit flipped
        lambda blob: _sealed({"a": 1}),  # sealed, not a list of entries
        # sealed entries of the wrong shape: ids as bytes, parents as a list, a short entry
        lambda blob: _sealed([(e[0].encode(), *e[1:]) for e in marshal.loads(blob[32:])]),
        lambda blob: _sealed([(e[0], list(e[1]), *e[2:]) for e in marshal.loads(blob[32:])]),
        lambda blob: _sealed([e[:7] for e in marshal.loads(blob[32:])]),
    ],
)
def test_a_damaged_row_of_commits_is_a_miss(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Any
) -> None:
    plain, everything = audit(scenario.path, None, monkeypatch, "1")
    audit(scenario.path, tmp_path, monkeypatch, "1")
    _rewrite(tmp_path, damage)
    data, decoded = audit(scenario.path, tmp_path, monkeypatch, "1")
    assert data == plain
    assert decoded == everything  # every commit read from the object store again


def test_a_shallow_clone_never_uses_the_cache(scenario: Scenario, tmp_path: Path) -> None:
    """Its cut commits have no parents there, and have them in a full clone sharing the
    cache: nothing derived from them may be kept, or taken, as theirs."""
    clone = tmp_path / "shallow"
    subprocess.run(
        [
            "git",
            "clone",
            "-q",
            "--bare",
            "--depth",
            "2",
            "--no-single-branch",
            f"file://{scenario.path}",
            str(clone),
        ],
        check=True,
    )
    with CommitCache.open(tmp_path / "cache") as cache, using_store(cache):
        shallow = GitRepository.open(clone)
        assert shallow.is_shallow and shallow._store is None and shallow._infos is None
        assert GitRepository.open(scenario.path)._store is cache


def _linear(path: Path, count: int) -> list[str]:
    """A repository of `count` commits on one line; their ids, newest first."""
    _git(path.parent, "init", "-q", str(path))
    for n in range(count):
        (path / "f.txt").write_text(f"{n}\n")
        _git(path, "add", "f.txt")
        _git(path, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", f"c{n}")
    return _git(path, "rev-list", "--first-parent", "HEAD").split()


def _described(
    path: Path, folder: Path | None, start: str, mp: pytest.MonkeyPatch
) -> tuple[list[str], set[str]]:
    decoded: set[str] = set()
    real = repository_module.decode_commit  # type: ignore[attr-defined]
    mp.setattr(repository_module, "decode_commit", _counting(real, decoded))
    cache = CommitCache.open(folder) if folder is not None else None
    repo = GitRepository.open(path, cache)
    line = [c.id for c in repo.described_line(start)]
    assert all(repo.commit(c).id == c for c in line)  # every commit of it is described
    if cache is not None:
        cache.close()
    mp.setattr(repository_module, "decode_commit", real)
    return line, decoded


def _starts(folder: Path) -> dict[str, str | None]:
    conn = sqlite3.connect(folder / FILENAME)
    try:
        return dict(conn.execute("SELECT start, rest FROM line_infos").fetchall())
    finally:
        conn.close()


def test_a_described_line_is_kept_as_rows_each_new_one_ending_where_an_older_begins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line whose start moves up is read from the object store only above the old start,
    and the cache grows by those commits, not by the whole line again."""
    path, cache = tmp_path / "repo", tmp_path / "cache"
    ids = _linear(path, 8)  # newest first: ids[0] is c7
    c5, c6, c7 = ids[2], ids[1], ids[0]

    def line(start: str) -> list[str]:
        return _git(path, "rev-list", "--first-parent", start).split()

    assert _described(path, None, c5, monkeypatch) == (line(c5), set(line(c5)))
    assert _described(path, cache, c5, monkeypatch) == (line(c5), set(line(c5)))
    assert _described(path, cache, c7, monkeypatch) == (line(c7), {c7, c6})
    assert _starts(cache) == {c5: None, c7: c5}
    assert _described(path, cache, c7, monkeypatch) == (line(c7), set())
    assert _described(path, cache, c6, monkeypatch) == (line(c6), {c6})  # not a row's start
    assert _starts(cache) == {c5: None, c7: c5, c6: c5}

    conn = sqlite3.connect(cache / FILENAME)
    with conn:  # c5's row cut short: its digest fails, and the line below c5 is read again
        conn.execute("UPDATE line_infos SET data = substr(data, 1, 60) WHERE start = ?", (c5,))
    conn.close()
    assert _described(path, cache, c7, monkeypatch) == (line(c7), set(line(c5)))
    assert _described(path, cache, c7, monkeypatch) == (line(c7), set())  # c5's row mended


@pytest.mark.parametrize(
    "damage",
    [
        lambda e: e[1:],  # its start is missing: the line does not begin where it says
        lambda e: [e[0], *e[2:]],  # a commit left out: a link broken
        lambda e: [(*e[0][:1], (), *e[0][2:]), *e[1:]],  # the first one without parents
        lambda e: e[:-1],  # it stops above where it says the next row begins
    ],
)
def test_a_described_line_that_is_not_one_is_a_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Any
) -> None:
    path, cache = tmp_path / "repo", tmp_path / "cache"
    ids = _linear(path, 5)
    _described(path, cache, ids[0], monkeypatch)
    conn = sqlite3.connect(cache / FILENAME)
    with conn:
        (blob,) = conn.execute("SELECT data FROM line_infos").fetchone()
        conn.execute("UPDATE line_infos SET data = ?", (_sealed(damage(marshal.loads(blob[32:]))),))
    conn.close()
    assert _described(path, cache, ids[0], monkeypatch) == (ids, set(ids))
