"""The persistent per-commit cache: warm runs skip the diffs, and a bad cache is never trusted."""

from __future__ import annotations

import hashlib
import marshal
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pygit2
import pytest

from drift.audit import run_audit
from drift.ci.cache import (
    FILENAME,
    CommitCache,
    _decode_answers,
    _decode_line_trees,
    _decode_lines,
    _decode_remerge,
    _encode_line_trees,
    default_cache_dir,
)
from drift.cli import main
from drift.config import Settings
from drift.findings import base_lines as base_lines_module
from drift.git import blobs as blobs_module
from drift.git import merges as merges_module
from drift.git import repository as repository_module
from drift.git.line_trees import LineTrees
from drift.git.merges import Remerge
from drift.git.repository import GitRepository
from drift.git.store import using_store
from drift_fixtures.expect import Scenario
from drift_fixtures.scenarios import release_conflicts, release_lines, revert_reapply
from drift_fixtures.similar_scenarios import squash_of_four
from tests.test_base_lines import count_forks


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return revert_reapply(tmp_path_factory.mktemp("cache"))


def audited(path: Path, folder: Path | None) -> tuple[dict[str, Any], CommitCache | None]:
    """The report (clock pinned) with the cache in `folder`, and the cache used."""
    cache = CommitCache.open(folder) if folder is not None else None
    with using_store(cache):
        data = run_audit(path, Settings(), now=0).to_dict()
    if cache is not None:
        cache.close()
    return data, cache


def count_work(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count patch-id hashing and commit diffs from here on."""
    counts = {"patch_id": 0, "diff": 0}
    real_patch_id, real_diff = repository_module.patch_id, GitRepository._diff  # type: ignore[attr-defined]

    def patch_id(repo: Any, changes: Any, *texts: Any) -> Any:
        counts["patch_id"] += 1
        return real_patch_id(repo, changes, *texts)

    def diff(self: GitRepository, old: Any, new: Any, commit_id: str | None) -> Any:
        counts["diff"] += commit_id is not None
        return real_diff(self, old, new, commit_id)

    monkeypatch.setattr(repository_module, "patch_id", patch_id)
    monkeypatch.setattr(GitRepository, "_diff", diff)
    return counts


def test_a_warm_run_reads_no_diffs_and_reports_the_same(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain, _ = audited(scenario.path, None)
    cold, cold_cache = audited(scenario.path, tmp_path)
    counts = count_work(monkeypatch)
    warm, warm_cache = audited(scenario.path, tmp_path)
    assert plain == cold == warm
    assert cold_cache is not None and cold_cache.misses > 0 and cold_cache.hits == 0
    assert warm_cache is not None and warm_cache.misses == 0 and warm_cache.hits > 0
    assert counts == {"patch_id": 0, "diff": 0}


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        (lambda p: p.write_bytes(b"not a database at all" * 100), "cannot be read"),
        (lambda p: p.write_bytes(b""), "is not a drift cache"),
        (lambda p: _sql(p, "CREATE TABLE users (name TEXT)"), "is not a drift cache"),
        (lambda p: _sql(p, "UPDATE meta SET value = '0' WHERE key = 'version'"), "version 0"),
        (lambda p: _sql(p, "UPDATE meta SET value = 'x' WHERE key = 'format'"), "not a drift"),
    ],
)
def test_a_corrupt_or_foreign_cache_is_rebuilt(
    scenario: Scenario, tmp_path: Path, spoil: Any, why: str
) -> None:
    expected, _ = audited(scenario.path, None)
    audited(scenario.path, tmp_path)
    spoil(tmp_path / FILENAME)
    data, cache = audited(scenario.path, tmp_path)
    assert data == expected
    assert cache is not None and cache.hits == 0
    assert len(cache.notes) == 1 and why in cache.notes[0] and "rebuilt" in cache.notes[0]
    _, again = audited(scenario.path, tmp_path)
    assert again is not None and again.notes == [] and again.misses == 0


def test_bad_rows_are_misses_not_answers(scenario: Scenario, tmp_path: Path) -> None:
    expected, _ = audited(scenario.path, None)
    audited(scenario.path, tmp_path)
    _sql(tmp_path / FILENAME, 'UPDATE changes SET data = \'[["7a", 33188, "zz", 0, null]]\'')
    _sql(tmp_path / FILENAME, "UPDATE patch_ids SET value = 'not-an-id'")
    _sql(tmp_path / FILENAME, "UPDATE line_trees SET data = substr(data, 1, length(data) - 1)")
    _sql(tmp_path / FILENAME, "UPDATE line_answers SET data = substr(data, 1, length(data) - 1)")
    _sql(tmp_path / FILENAME, "UPDATE remerges SET data = '[1, 2]'")
    _sql(tmp_path / FILENAME, "UPDATE line_infos SET data = substr(data, 1, length(data) - 1)")
    _sql(tmp_path / FILENAME, "UPDATE folders SET data = substr(data, 1, length(data) - 1)")
    data, cache = audited(scenario.path, tmp_path)
    assert data == expected
    assert cache is not None and cache.hits == 0 and cache.misses > 0


@pytest.mark.parametrize(
    "damage",
    [
        lambda body: body[:-1],  # truncated: the digest no longer matches
        lambda body: body[:32] + b"\x00" + body[33:],  # one byte changed
        # sealed, but not a packed line: the dict rows of earlier versions, a short region
        lambda body: hashlib.sha256(m := marshal.dumps({"t" * 40: (1, "x")})).digest() + m,
        lambda body: hashlib.sha256(m := marshal.dumps((40, "a" * 40, b"", ""))).digest() + m,
    ],
)
def test_a_damaged_line_is_a_miss(damage: Any) -> None:
    trees = {"a" * 40: (1700000000, "b" * 40), "c" * 40: (1700000001, "d" * 40)}
    body = _encode_line_trees(LineTrees.of(trees))
    assert _decode_line_trees(body) == trees
    assert _decode_line_trees(damage(body)) is None


def test_a_warm_run_reads_no_line_of_the_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Release identity's lines inside the common base are kept too: history below a commit
    never changes, so a weekly run after new commits upstream reads none of them again."""
    scenario = release_lines(tmp_path / "lines")
    monkeypatch.setenv("DRIFT_JOBS", "1")  # read here, where they can be counted
    plain, _ = audited(scenario.path, None)
    read: list[str | None] = []  # lines put into the cache (read here or by a child)
    real = GitRepository.remember_line_trees

    def remember_line_trees(self: GitRepository, start: str | None, trees: Any) -> None:
        read.append(start)
        real(self, start, trees)

    monkeypatch.setattr(GitRepository, "remember_line_trees", remember_line_trees)
    cold, _ = audited(scenario.path, tmp_path / "cache")
    assert read
    read.clear()
    warm, cache = audited(scenario.path, tmp_path / "cache")
    assert read == [] and plain == cold == warm
    assert cache is not None and cache.misses == 0
    monkeypatch.delenv("DRIFT_JOBS")  # with a second core: no child is started for them
    forks = count_forks(monkeypatch)
    assert audited(scenario.path, tmp_path / "cache")[0] == plain
    assert forks == [False] and read == []
    # Lines a child read are kept as well.
    forks.clear()
    assert audited(scenario.path, tmp_path / "other")[0] == plain
    assert read  # what the child read, kept here
    read.clear()
    monkeypatch.setenv("DRIFT_JOBS", "1")
    assert audited(scenario.path, tmp_path / "other")[0] == plain
    assert forks == [True, False] and read == []


@pytest.mark.parametrize("kept", [0, 2, 10**6])
def test_a_rerun_reads_no_line_whose_answers_are_kept(
    kept: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line's first lookups are kept: a re-run asking the same trees reads none of the
    line's trees (dev's is a 20 MB row at 300k commits, asked about one tree); a line asked
    more than that is read whole, and the report is the same either way."""
    monkeypatch.setattr(base_lines_module, "ANSWERS_KEPT", kept)
    scenario = release_lines(tmp_path / "lines")
    plain, _ = audited(scenario.path, None)
    assert audited(scenario.path, tmp_path / "cache")[0] == plain
    asked: dict[str, int] = {}
    for start, blob in _sql_rows(tmp_path / "cache" / FILENAME, "SELECT * FROM line_answers"):
        answers = _decode_answers(blob)
        assert answers is not None and len(answers) <= kept
        asked[start] = len(answers)
    loaded: list[str | None] = []
    real = GitRepository.stored_line_trees

    def stored_line_trees(self: GitRepository, start: str | None) -> Any:
        loaded.append(start)
        return real(self, start)

    monkeypatch.setattr(GitRepository, "stored_line_trees", stored_line_trees)
    warm, cache = audited(scenario.path, tmp_path / "cache")
    assert warm == plain and cache is not None and (cache.misses == 0 or kept == 0)
    if kept == 0:
        assert loaded and not asked  # nothing kept: every line asked is read
    if kept == 10**6:  # every answer kept: no line is read
        assert asked and loaded == []


def test_an_unusable_cache_folder_only_costs_speed(scenario: Scenario, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    expected, _ = audited(scenario.path, None)
    data, cache = audited(scenario.path, blocked)
    assert data == expected
    assert cache is not None and "running without it" in cache.notes[0]


def test_default_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "drift"


def _sql(path: Path, statement: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(statement)
    conn.close()


def _sql_rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def test_a_partial_clone_never_uses_the_cache(scenario: Scenario, tmp_path: Path) -> None:
    """Stored answers would let a blobless clone pass where its missing blobs must be named."""
    audited(scenario.path, tmp_path / "cache")
    clone = tmp_path / "blobless"
    subprocess.run(
        ["git", "-C", str(scenario.path), "config", "uploadpack.allowFilter", "true"], check=True
    )
    subprocess.run(
        ["git", "clone", "-q", "--bare", "--filter=blob:none", f"file://{scenario.path}", clone],
        check=True,
    )
    with CommitCache.open(tmp_path / "cache") as cache, using_store(cache):
        assert GitRepository.open(clone)._store is None
        assert GitRepository.open(scenario.path)._store is cache


def test_a_grafted_repository_never_uses_the_per_commit_cache(
    scenario: Scenario, tmp_path: Path
) -> None:
    """`info/grafts` gives commits other parents, so other diffs and patch ids than the same
    commits have in a repository sharing the cache (the sweep found a cached patch id kept)."""
    audited(scenario.path, tmp_path / "cache")
    grafted = tmp_path / "grafted"
    subprocess.run(["git", "clone", "-q", "--bare", str(scenario.path), grafted], check=True)
    tip = subprocess.run(
        ["git", "-C", str(grafted), "rev-parse", "dev", "dev~2"], capture_output=True, text=True
    ).stdout.split()
    (grafted / "info").mkdir(exist_ok=True)
    (grafted / "info" / "grafts").write_text(f"{tip[0]} {tip[1]}\n")
    with CommitCache.open(tmp_path / "cache") as cache, using_store(cache):
        assert GitRepository.open(grafted)._store is None
        assert GitRepository.open(scenario.path)._store is cache


def test_json_reports_are_the_same_bytes_cold_and_warm(scenario: Scenario, tmp_path: Path) -> None:
    """Cache use is printed (--verbose), never written into the report."""
    cold, warm = tmp_path / "cold.json", tmp_path / "warm.json"
    argv = ["audit", str(scenario.path), "-q", "--cache", str(tmp_path / "cache")]
    assert main([*argv, "--json", str(cold)]) == 0
    assert main([*argv, "--json", str(warm)]) == 0

    def without_clock(path: Path) -> list[str]:
        return [line for line in path.read_text().splitlines() if '"generated_at"' not in line]

    assert without_clock(cold) == without_clock(warm)
    assert '"ci"' not in cold.read_text()  # nothing asked of CI: the report is as it was


def test_a_warm_run_re_merges_nothing_unless_the_merge_settings_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A merge's re-merge is kept (its parents and tree are fixed by its id): a warm run makes
    no shadow repository and reports the same conflicts. The configuration the shadow's merge
    reads (global: a rename limit) is part of each row: a change is a miss, not a stale
    answer; the audited repository's own entries are not read by the shadow, nor keyed."""
    repo = release_conflicts(tmp_path / "repo").path
    plain, _ = audited(repo, None)
    cold, _ = audited(repo, tmp_path / "cache")
    assert any(f["kind"] == "conflict_merge" for f in plain["findings"])
    shadows: list[Path] = []
    real_shadow = merges_module.MergeChecker._shadow

    def shadow(self: Any) -> Any:
        shadows.append(self._objects)
        return real_shadow(self)

    monkeypatch.setattr(merges_module.MergeChecker, "_shadow", shadow)
    subprocess.run(["git", "-C", str(repo), "config", "merge.renameLimit", "7"], check=True)
    warm, _ = audited(repo, tmp_path / "cache")
    assert plain == cold == warm and shadows == []
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[merge]\n\trenameLimit = 7\n")
    level = pygit2.enums.ConfigLevel.GLOBAL
    before = pygit2.settings.search_path[level]
    pygit2.settings.search_path[level] = str(home)
    try:
        context = GitRepository.open(repo)._merge_context("libgit2")
        again, _ = audited(repo, tmp_path / "cache")
    finally:
        pygit2.settings.search_path[level] = before
    assert "merge.renamelimit=7" in context and "core.bare" not in context
    assert again["findings"] == plain["findings"] and shadows


def count_remerges(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The engine of every merge re-merged from here on (the store's answers are not)."""
    made: list[str] = []
    real = merges_module.MergeChecker.remerge

    def remerge(self: Any, ours: str, theirs: str, tree: str) -> Any:
        made.append("git" if self.merged_by_git(ours, theirs) else "libgit2")
        return real(self, ours, theirs, tree)

    monkeypatch.setattr(merges_module.MergeChecker, "remerge", remerge)
    return made


def test_a_re_merge_is_kept_under_the_engine_that_made_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git's merges and libgit2's are kept apart: a run without git does not take git's
    answers (an engine may merge some history otherwise), nor a run with git libgit2's. A
    merge keeps one row, the last engine's: a run of the same engine again merges nothing."""
    repo = release_conflicts(tmp_path / "repo").path
    made = count_remerges(monkeypatch)
    reports = []
    previous = None
    for engine in ("1", "0", "0", "1", "1"):
        monkeypatch.setenv("DRIFT_GIT", engine)
        made.clear()
        reports.append(audited(repo, tmp_path / "cache")[0])
        if engine != previous:  # the other engine's rows are not this one's answers
            assert made and set(made) == {"git" if engine == "1" else "libgit2"}
        else:
            assert made == []
        previous = engine
    assert all(report == reports[0] for report in reports)


def test_where_git_cannot_merge_libgit2s_answers_are_kept_and_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A git without `merge-tree --write-tree` fails every batch: libgit2 merges, its answers
    are stored as libgit2's, and the next run reads them instead of merging again."""
    repo = release_conflicts(tmp_path / "repo").path
    monkeypatch.setenv("DRIFT_GIT", "1")
    monkeypatch.setattr("drift.git.gitcli.merge_tree", lambda *args: None)
    made = count_remerges(monkeypatch)
    first, _ = audited(repo, tmp_path / "cache")
    assert made and set(made) == {"libgit2"}
    made.clear()
    again, _ = audited(repo, tmp_path / "cache")
    assert made == [] and again == first


@pytest.mark.parametrize(
    ("text", "context", "answer"),
    [
        ('["ctx", ["a"], ["a", "b"]]', "ctx", Remerge(("a",), ("a", "b"))),
        ('["ctx", [], []]', "ctx", Remerge((), ())),
        ('["other", [], []]', "ctx", None),
        ('["ctx", [1], []]', "ctx", None),
        ('["ctx", "a", []]', "ctx", None),
        ("not json", "ctx", None),
        (None, "ctx", None),
    ],
)
def test_a_stored_remerge_is_checked(text: Any, context: str, answer: Remerge | None) -> None:
    assert _decode_remerge(text, context) == answer


def test_a_warm_run_reads_its_rows_ahead_not_one_query_each(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commits outside the base have their changes and patch ids read in a few queries;
    answers are the same as one query each (the warm test above checks the report)."""
    audited(scenario.path, tmp_path)
    single: list[str] = []
    real_one = CommitCache._one

    def one(self: CommitCache, sql: str, params: tuple[Any, ...]) -> Any:
        single.append(sql)
        return real_one(self, sql, params)

    monkeypatch.setattr(CommitCache, "_one", one)
    warm, cache = audited(scenario.path, tmp_path)
    assert cache is not None and cache.hits > 0 and cache.misses == 0
    per_commit = [s for s in single if "FROM changes" in s or "FROM patch_ids" in s]
    inverse = [s for s in per_commit if "inverse = ?" in s]
    assert per_commit == inverse  # only inverse patch ids (a few reverts' checks) are looked up
    assert warm == audited(scenario.path, None)[0]


def test_a_warm_run_reads_no_line_similar_compared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lines `similar` read of each commit are kept: a warm run reads no blob header and
    makes no diff for it, and finds the same squash (a copy of four commits). A damaged row
    is a miss: the lines are read again, and the report is the same."""
    scenario = squash_of_four(tmp_path / "repo")
    plain, _ = audited(scenario.path, None)
    assert any(
        f["kind"] == "cherry_pick" and f.get("method") == "similar" for f in plain["findings"]
    )
    cold, cold_cache = audited(scenario.path, tmp_path / "cache")
    assert cold_cache is not None and cold_cache._new_similar  # kept: what the warm run reads
    read: list[str] = []
    real_size = GitRepository.blob_size

    def blob_size(self: GitRepository, blob_id: str) -> int | None:
        read.append(blob_id)
        return real_size(self, blob_id)

    monkeypatch.setattr(GitRepository, "blob_size", blob_size)
    diffed: list[str] = []
    real_changed = blobs_module.changed_lines

    def changed_lines(repo: GitRepository, commit_id: str) -> Any:
        diffed.append(commit_id)
        return real_changed(repo, commit_id)

    monkeypatch.setattr("drift.changes.changed_lines", changed_lines)
    warm, warm_cache = audited(scenario.path, tmp_path / "cache")
    assert plain == cold == warm
    assert diffed and read == []  # similar asked for lines, and no blob was looked at
    assert warm_cache is not None and warm_cache.misses == 0
    _sql(tmp_path / "cache" / FILENAME, "UPDATE similar_lines SET data = substr(data, 2)")
    damaged, damaged_cache = audited(scenario.path, tmp_path / "cache")
    assert damaged == plain and read  # read again
    assert damaged_cache is not None and damaged_cache.misses > 0


@pytest.mark.parametrize(
    "row",
    [
        [(b"a.py", (b"x = 1",), (b"x = 2",), None)],
        [(b"a.bin", (), (), b"1..2"), (b"b.py", (), (b"new",), None)],
        [],
    ],
)
def test_stored_lines_are_checked_before_and_after_decoding(row: Any) -> None:
    body = marshal.dumps(row)
    blob = hashlib.sha256(body).digest() + body
    decoded = _decode_lines(blob)
    assert decoded is not None and [tuple(f) for f in decoded] == row
    assert _decode_lines(blob[:-1]) is None  # the digest no longer matches
    if row:  # a line changed in place: still well-formed marshal data, only the digest tells
        old, new = (b"new", b"nev") if b"new" in body else (b"x = 2", b"x = 3")
        changed = blob[:32] + blob[32:].replace(old, new)
        assert changed != blob and _decode_lines(changed) is None
    for bad in ([(b"a.py", [b"x"], (), None)], [("a.py", (), (), None)], {"a": 1}, [(1, 2, 3)]):
        body = marshal.dumps(bad)
        assert _decode_lines(hashlib.sha256(body).digest() + body) is None


_BLOB, _TREE = "a" * 40, "b" * 40
_GOOD = ([("src/a.yaml", _BLOB)], [("src/k8s/", _TREE)], [("src/k8s/x/b.yaml", _BLOB)])


@pytest.mark.parametrize(
    ("listing", "answer"),
    [
        (_GOOD, _GOOD),
        (([], [], []), ([], [], [])),
        (([], [], None), ([], [], None)),
        (([("other/a.yaml", _BLOB)], [], None), None),  # not in the folder
        (([("src/k8s/a.yaml", _BLOB)], [], None), None),  # below it, not in it
        (([("src/a.yaml", "zz")], [], None), None),
        (([("src/a.yaml",)], [], None), None),
        (([["src/a.yaml", _BLOB]], [], None), None),
        (([], [("src/k8s", _TREE)], None), None),  # a folder's path ends with a slash
        (([("src/a.yaml/", _BLOB)], [], None), None),  # a file's does not
        (([], [("src/", _TREE)], None), None),  # the folder itself
        (([], [], [("other/b.yaml", _BLOB)]), None),  # below another folder
        (([], [], [("src/k8s/", _BLOB)]), None),  # a folder is not a file below
        (([], [], "src/a.yaml"), None),
        (([("src/a.yaml", _BLOB)], []), None),
        ("src/a.yaml", None),
    ],
)
def test_a_stored_folder_is_checked(listing: Any, answer: Any) -> None:
    from drift.ci.cache import _decode_folder, _sealed

    folder = _TREE + ":src/"
    assert _decode_folder(_sealed(("def", listing)), folder, "def") == answer
    assert _decode_folder(_sealed(("older", listing)), folder, "def") is None
    assert _decode_folder(_sealed(("def", listing))[:-1], folder, "def") is None
