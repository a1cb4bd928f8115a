"""`git diff-tree --stdin` and drift's own tree diff give the same file changes for every commit
of every fixture; `git merge-tree --stdin` and libgit2 the same re-merges (every merge of every
fixture: tests/test_remerge_oracle.py); both ways give the same reports, and drift does
without git where it must."""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from drift.audit import run_audit
from drift.changes import commits_to_group
from drift.config import Settings
from drift.environments import resolve_chain
from drift.findings.conflicts import check_merges
from drift.git import gitcli
from drift.git.repository import GitRepository
from drift.git.treediff import diff_trees
from drift.history import read_history
from drift_fixtures import messy, scenarios
from drift_fixtures.builder import RepoBuilder
from drift_fixtures.demo import build_demo
from drift_fixtures.expect import Scenario
from drift_fixtures.large import generate

BUILDERS: dict[str, Callable[[Path], Scenario]] = {
    **{f"scenario-{name}": build for name, build in scenarios.ALL.items()},
    **{f"messy-{name}": build for name, build in messy.ALL.items()},
}


def non_merge_commits(path: Path) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(path), "rev-list", "--all", "--no-merges"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_git_and_drift_read_the_same_changes(name: str, tmp_path: Path) -> None:
    path = BUILDERS[name](tmp_path).path
    repo = GitRepository.open(path)
    commits = non_merge_commits(path)
    from_git = gitcli.diff_tree_raw(repo.path, commits)
    assert from_git is not None
    raw = repo._repo  # the pygit2 repository drift's own diff reads
    for commit_id in commits:
        info = repo.commit(commit_id)
        parent = repo.commit(info.parents[0]).tree if info.parents else None
        assert from_git[commit_id] == diff_trees(raw, parent, info.tree), commit_id


def audit(path: Path, monkeypatch: pytest.MonkeyPatch, git: str) -> dict[str, Any]:
    monkeypatch.setenv("DRIFT_GIT", git)
    data: dict[str, Any] = run_audit(path, Settings(), now=0).to_dict()
    return data


def count_git_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every `git diff-tree` batch started from here on."""
    sizes: list[int] = []
    real = gitcli.DiffTree.start

    def start(git_dir: Path, commits: list[str]) -> Any:
        sizes.append(len(commits))
        return real(git_dir, commits)

    monkeypatch.setattr(gitcli.DiffTree, "start", start)
    return sizes


def count_merge_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every `git merge-tree` batch run from here on."""
    sizes: list[int] = []
    real = gitcli.merge_tree

    def merge_tree(shadow: Path, pairs: list[tuple[str, str]], settings: Any = ()) -> Any:
        sizes.append(len(pairs))
        return real(shadow, pairs, settings)

    monkeypatch.setattr(gitcli, "merge_tree", merge_tree)
    return sizes


@pytest.mark.parametrize(
    "build",
    [
        build_demo,
        messy.huge_diffs,
        messy.submodules,
        messy.pull_and_criss_cross,
        scenarios.release_conflicts,
    ],
)
def test_reports_are_the_same_with_and_without_git(
    build: Callable[[Path], Scenario], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = build(tmp_path).path
    monkeypatch.setattr("drift.git.repository.GIT_BATCH_MIN", 1)
    batches = count_git_batches(monkeypatch)
    merged = count_merge_batches(monkeypatch)
    without = audit(path, monkeypatch, "0")
    assert batches == [] and merged == []
    with_git = audit(path, monkeypatch, "1")
    assert len(batches) == 1 and batches[0] > 0  # git answered this audit's changes, once
    checked = sum(1 for f in without["findings"] if f["kind"] == "conflict_merge")
    assert len(merged) <= 1  # git re-merged the merges at once (if there were any)
    assert checked == 0 or merged[0] >= checked
    assert with_git == without


def test_a_merge_batch_git_cannot_answer_is_merged_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch git fails (an unknown commit in it, an old git without `--write-tree`) is no
    answer at all: every merge of it is then merged by libgit2, with the same report."""
    path = scenarios.release_conflicts(tmp_path).path
    expected = audit(path, monkeypatch, "0")
    repo = GitRepository.open(path)
    with repo.merge_checker() as checker:
        shadow = Path(checker._shadow().path)
        assert gitcli.merge_tree(shadow, [("f" * 40, "e" * 40)]) is None
        assert not checker.merge_with_git([("f" * 40, "e" * 40)], ())
        assert not checker.merged_by_git("f" * 40, "e" * 40)
    monkeypatch.setattr(gitcli, "merge_tree", lambda *args: None)
    assert audit(path, monkeypatch, "1") == expected


def test_the_output_of_merge_tree_is_read_whole_or_not_at_all() -> None:
    tree = "a" * 40
    clean, conflicted = f"1\0{tree}\0\0".encode(), f"0\0{tree}\0x.txt\0d/y\0\0".encode()
    parse = gitcli._parse_merges
    assert parse(clean + conflicted) == [(tree, ()), (tree, ("x.txt", "d/y"))]
    for bad, why in (
        (f"1\0{tree}\0x.txt\0\0", "disagrees"),  # clean, with a conflicted path
        (f"0\0{tree}\0\0", "disagrees"),  # conflicted, with none
        (f"2\0{tree}\0\0", "unexpected"),
        (f"1\0{tree[:12]}\0\0", "unexpected"),  # an abbreviated id
        (f"1\0{tree}\0", "mid-merge"),  # cut after the tree
        (f"0\0{tree}\0x.txt", "mid-merge"),  # cut in the conflicted paths
        (f"{clean.decode()}1", "mid-merge"),  # cut after a status
    ):
        with pytest.raises(ValueError, match=why):
            parse(bad.encode())


@pytest.mark.parametrize(
    ("entries", "limit"),
    [
        ("", "1000"),  # libgit2's default, not git's 7000
        ("[merge]\n\trenameLimit = 7\n", "7"),
        ("[diff]\n\trenameLimit = 2k\n", "2048"),
        ("[diff]\n\trenameLimit = 5\n[merge]\n\trenameLimit = 9\n", "9"),
        ("[merge]\n\trenameLimit = lots\n", "1000"),
    ],
)
def test_git_merges_with_the_rename_limit_libgit2_would_use(
    entries: str, limit: str, tmp_path: Path
) -> None:
    import pygit2

    builder = RepoBuilder.init(tmp_path / "r")
    builder.commit("one", {"a.txt": "a\n"})
    path = builder.path
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(entries)
    level = pygit2.enums.ConfigLevel.GLOBAL
    before = pygit2.settings.search_path[level]
    pygit2.settings.search_path[level] = str(home)
    try:
        settings = GitRepository.open(path)._git_merge_settings()
    finally:
        pygit2.settings.search_path[level] = before
    assert settings == (f"merge.renameLimit={limit}",)


def test_without_git_on_path_drift_reads_the_changes_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = build_demo(tmp_path).path
    expected = audit(path, monkeypatch, "0")
    monkeypatch.setattr("drift.git.gitcli.shutil.which", lambda name: None)
    batches = count_git_batches(monkeypatch)
    assert audit(path, monkeypatch, "1") == expected
    assert batches == []


def test_a_failing_git_answers_nothing(tmp_path: Path) -> None:
    path = build_demo(tmp_path).path
    commits = non_merge_commits(path)[:3]
    assert gitcli.diff_tree_raw(path / ".git", [*commits, "f" * 40]) is None
    assert gitcli.diff_tree_raw(tmp_path / "not-a-repository", commits) is None


def test_a_partial_clone_never_asks_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git would fetch the missing objects from the promisor remote: a write and a network
    request an audit must never make."""
    origin = build_demo(tmp_path).path
    subprocess.run(
        ["git", "-C", str(origin), "config", "uploadpack.allowFilter", "true"], check=True
    )
    clone = tmp_path / "blobless"
    subprocess.run(
        ["git", "clone", "-q", "--bare", "--filter=blob:none", f"file://{origin}", str(clone)],
        check=True,
    )
    monkeypatch.setattr("drift.git.repository.GIT_BATCH_MIN", 1)
    batches = count_git_batches(monkeypatch)
    repo = GitRepository.open(clone)
    repo.prefetch_changes(non_merge_commits(clone))
    assert batches == []


def test_paths_that_look_like_ids_are_read_as_paths() -> None:
    commit, path_like_id = "a" * 40, "b" * 40
    out = (
        f"{commit}\0:000000 100644 {'0' * 40} {'c' * 40} A\0{path_like_id}\0"
        f":100644 000000 {'d' * 40} {'0' * 40} D\0dir/x\0"
    ).encode()
    parsed = gitcli._parse(out)
    assert [c.path for c in parsed[commit]] == [path_like_id.encode(), b"dir/x"]
    assert parsed[commit][0].old_id is None and parsed[commit][0].new_mode == 0o100644
    assert parsed[commit][1].new_id is None and parsed[commit][1].new_mode == 0


def test_replace_refs_and_hook_variables_do_not_change_gits_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libgit2 applies no refs/replace and opens the repository it was given: so must git."""
    path = build_demo(tmp_path).path
    commits = non_merge_commits(path)
    expected = gitcli.diff_tree_raw(path / ".git", commits)
    victim, other = commits[0], commits[1]
    subprocess.run(["git", "-C", str(path), "replace", victim, other], check=True)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(tmp_path / "elsewhere"))
    assert gitcli.diff_tree_raw(path / ".git", commits) == expected


def test_git_runs_while_the_merges_are_checked_and_is_waited_for_whatever_happens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit starts git on the trees, checks the merges (they need no grouping), then
    takes git's answer. If the merge check fails, git is still waited for: no process left."""
    path = build_demo(tmp_path).path
    monkeypatch.setattr("drift.git.repository.GIT_BATCH_MIN", 1)
    monkeypatch.setenv("DRIFT_GIT", "1")
    events: list[str] = []
    started: list[gitcli.DiffTree] = []
    real_start = gitcli.DiffTree.start

    def start(git_dir: Path, commits: list[str]) -> Any:
        events.append("git started")
        pending = real_start(git_dir, commits)
        assert pending is not None
        started.append(pending)
        return pending

    def check(*args: Any) -> Any:
        events.append("merges checked")
        return check_merges(*args)

    monkeypatch.setattr(gitcli.DiffTree, "start", start)
    monkeypatch.setattr("drift.audit.check_merges", check)
    run_audit(path, Settings(), now=0)
    assert events == ["git started", "merges checked"]

    def broken(*args: Any) -> Any:
        raise RuntimeError("the merge check failed")

    monkeypatch.setattr("drift.audit.check_merges", broken)
    started.clear()
    with pytest.raises(RuntimeError):
        run_audit(path, Settings(), now=0)
    assert len(started) == 1 and started[0]._proc.returncode == 0  # waited for, not left


def test_no_room_for_gits_temporary_files_means_reading_the_trees_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git's input and output go through temporary files; where none can be made (a full or
    read-only temporary folder), drift reads the trees itself and reports the same."""
    path = build_demo(tmp_path).path
    monkeypatch.setattr("drift.git.repository.GIT_BATCH_MIN", 1)
    expected = audit(path, monkeypatch, "0")
    made: list[int] = []

    def no_room(*args: Any, **kwargs: Any) -> Any:
        made.append(1)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("drift.git.gitcli.tempfile.TemporaryFile", no_room)
    assert audit(path, monkeypatch, "1") == expected
    assert made  # git was to be asked, and could not be


def test_a_git_that_fails_during_an_audit_is_asked_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git's answer is thrown away when it fails; the trees are then read here, and git is
    not started a second time for the same commits (the audit begins the reading early and
    the grouping asks again for what is missing)."""
    path = build_demo(tmp_path).path
    monkeypatch.setattr("drift.git.repository.GIT_BATCH_MIN", 1)
    expected = audit(path, monkeypatch, "0")

    def failed(self: gitcli.DiffTree) -> None:
        self._proc.wait()  # as the real one does: no process left behind
        self._output.close()

    monkeypatch.setattr(gitcli.DiffTree, "result", failed)
    batches = count_git_batches(monkeypatch)
    assert audit(path, monkeypatch, "1") == expected
    assert len(batches) == 1


def _walked_for_git(path: Path) -> tuple[list[str], list[str]]:
    """(the commits the walk handed git as it met them, the commits the grouping reads)."""
    repo = GitRepository.open(path)
    chain = resolve_chain(repo, Settings())
    seen: list[str] = []
    history = read_history(repo, chain.envs, outside=seen.append)
    return seen, commits_to_group(history)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_the_walk_hands_git_each_commit_to_group_as_it_meets_it(name: str, tmp_path: Path) -> None:
    """Every non-merge commit outside the common base, in walk order, each once: what the
    grouping reads (criss-cross merges, roots, octopus merges, pulls included)."""
    seen, wanted = _walked_for_git(BUILDERS[name](tmp_path).path)
    assert seen == wanted


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated repository with a few hundred commits outside the common base (read only)."""
    path = tmp_path_factory.mktemp("feed") / "large"
    generate(path, 1200, seed=3, files=150)
    return path


def test_git_reads_the_trees_in_batches_begun_during_the_walk(
    large: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches double in size while the walk goes on; the last one takes the rest. The report
    is the one drift makes reading every tree itself."""
    path = large
    seen, wanted = _walked_for_git(path)
    assert seen == wanted and len(wanted) > 4 + 8 + 16
    monkeypatch.setattr("drift.git.repository.FEED_FIRST", 4)
    monkeypatch.setattr("drift.git.repository.GIT_BATCH_MIN", 1)
    expected = audit(path, monkeypatch, "0")
    batches = count_git_batches(monkeypatch)
    assert audit(path, monkeypatch, "1") == expected
    doubling = [4 << n for n in range(len(batches) - 1)]
    assert batches[:-1] == doubling and 0 < batches[-1] <= 2 * doubling[-1]
    assert sum(batches) == len(wanted)


def test_batches_begun_during_a_walk_that_fails_are_waited_for(
    large: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A walk that fails after git was started leaves no process behind."""
    path = large
    monkeypatch.setattr("drift.git.repository.FEED_FIRST", 4)
    monkeypatch.setattr("drift.git.repository.GIT_BATCH_MIN", 1)
    monkeypatch.setenv("DRIFT_GIT", "1")
    started: list[gitcli.DiffTree] = []
    real_start = gitcli.DiffTree.start

    def start(git_dir: Path, commits: list[str]) -> Any:
        pending = real_start(git_dir, commits)
        assert pending is not None
        started.append(pending)
        return pending

    def broken(*args: Any) -> Any:
        raise RuntimeError("the walk failed at its end")

    monkeypatch.setattr(gitcli.DiffTree, "start", start)
    monkeypatch.setattr("drift.history._first_parent_chain", broken)
    with pytest.raises(RuntimeError):
        run_audit(path, Settings(), now=0)
    assert len(started) > 2
    assert all(pending._proc.returncode == 0 for pending in started)  # waited for, not left
