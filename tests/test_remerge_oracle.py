"""The merge check (drift.git.merges) against git's own merge: for every two-parent merge of
every fixture, the paths drift says differ from the automatic merge are the paths where
`git merge-tree --write-tree` (git's ort merge, written to a scratch object store) differs
from the recorded tree, conflicted paths included; and a crafted merge whose record deletes a
file, adds one, and changes only a mode. Both of drift's ways are held to it: libgit2's merge
in memory, and git's merges made in one batch (`MergeChecker.merge_with_git`)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from drift.git import merges as merges_module
from drift.git.repository import GitRepository
from drift_fixtures import messy, scenarios
from drift_fixtures.builder import RepoBuilder
from drift_fixtures.expect import Scenario
from tests.gitoracle import git

FIXTURES: dict[str, Callable[[Path], Scenario]] = {
    **{f"scenario-{name}": build for name, build in scenarios.ALL.items()},
    **{f"messy-{name}": build for name, build in messy.ALL.items()},
}


def _git_remerge(
    path: Path, scratch: Path, ours: str, theirs: str, recorded: str
) -> tuple[set[str], set[str]]:
    """(conflicted, differing) by git: the merge is written to `scratch` (the audited
    objects are only read through it), then compared with the record."""
    env = {
        **os.environ,
        "GIT_OBJECT_DIRECTORY": str(scratch),
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(path / ".git" / "objects"),
    }
    proc = subprocess.run(
        [
            "git",
            "merge-tree",
            "--write-tree",
            "--name-only",
            "--no-messages",
            "--allow-unrelated-histories",
            ours,
            theirs,
        ],
        cwd=path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode in (0, 1), proc.stderr
    merged, *conflicted = proc.stdout.splitlines()
    out = subprocess.run(
        ["git", "diff-tree", "-r", "--no-renames", "--name-only", "-z", merged, recorded],
        cwd=path,
        env=env,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", "surrogateescape")
    return set(conflicted), {p for p in out.split("\0") if p} | set(conflicted)


def _merges(path: Path) -> list[tuple[str, str, str, str]]:
    """(merge, its tree, first parent, second parent) of every two-parent merge."""
    out = git(path, "log", "--all", "--min-parents=2", "--max-parents=2", "--format=%H %T %P")
    merges = []
    for line in out.splitlines():
        commit, tree, ours, theirs = line.split()
        merges.append((commit, tree, ours, theirs))
    return merges


ENGINES = ("libgit2", "git")


def _engine(checker: merges_module.MergeChecker, engine: str, pairs: list[tuple[str, str]]) -> None:
    """Have `checker` answer `pairs` with `engine`: git's batch, or libgit2 (nothing asked)."""
    if engine == "git":
        assert checker.merge_with_git(pairs, ())
        assert all(checker.merged_by_git(ours, theirs) for ours, theirs in pairs)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_every_merge_differs_where_gits_own_merge_says(
    name: str, engine: str, tmp_path: Path
) -> None:
    scenario = FIXTURES[name](tmp_path)
    repo = GitRepository.open(scenario.path)
    scratch = tmp_path / "scratch-objects"
    scratch.mkdir()
    merges = _merges(scenario.path)
    with repo.merge_checker() as checker:
        _engine(checker, engine, [(ours, theirs) for _, _, ours, theirs in merges])
        for commit, tree, ours, theirs in merges:
            drift = checker.remerge(ours, theirs, tree)
            conflicted, differing = _git_remerge(scenario.path, scratch, ours, theirs, tree)
            assert set(drift.differing) == differing, commit
            assert set(drift.conflicted) == conflicted, commit


@pytest.mark.parametrize("engine", ENGINES)
def test_a_record_that_deletes_adds_and_changes_a_mode(tmp_path: Path, engine: str) -> None:
    """Edits slipped into a merge that are no content edit of a file both sides have."""
    b = RepoBuilder.init(tmp_path / "r")
    b.commit("base", {"keep.sh": "echo\n", "gone.txt": "x\n", "a.txt": "a\n"})
    b.checkout("side", create_from="dev")
    b.commit("side", {"side.txt": "s\n"})
    b.checkout("dev")
    b.commit("dev", {"a.txt": "a2\n"})
    b.git("merge", "--no-ff", "--no-commit", "side")
    b.git("rm", "-q", "gone.txt")
    b.write({"new.txt": "n\n"})
    b.git("add", "new.txt")
    b.git("update-index", "--chmod=+x", "keep.sh")
    b.git("commit", "-q", "-m", "Merge branch 'side'")
    _, tree, ours, theirs = _merges(b.path)[0]
    with GitRepository.open(b.path).merge_checker() as checker:
        _engine(checker, engine, [(ours, theirs)])
        drift = checker.remerge(ours, theirs, tree)
    assert set(drift.differing) == {"gone.txt", "new.txt", "keep.sh"}
    assert drift.conflicted == ()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    assert _git_remerge(b.path, scratch, ours, theirs, tree) == (set(), set(drift.differing))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_record_that_drops_the_merged_sides_change(tmp_path: Path, engine: str) -> None:
    """The record keeps the first parent's file where the merged side changed it: the edit
    is that the change was thrown away, though the record equals one parent there."""
    b = RepoBuilder.init(tmp_path / "r")
    b.commit("base", {"x.txt": "1\n", "y.txt": "y\n"})
    b.checkout("side", create_from="dev")
    b.commit("side", {"x.txt": "2\n"})
    b.checkout("dev")
    b.commit("dev", {"y.txt": "y2\n"})
    b.git("merge", "--no-ff", "--no-commit", "side")
    b.git("checkout", "HEAD", "--", "x.txt")
    b.git("commit", "-q", "-m", "Merge branch 'side'")
    _, tree, ours, theirs = _merges(b.path)[0]
    with GitRepository.open(b.path).merge_checker() as checker:
        _engine(checker, engine, [(ours, theirs)])
        drift = checker.remerge(ours, theirs, tree)
    assert drift.differing == ("x.txt",)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    assert _git_remerge(b.path, scratch, ours, theirs, tree) == (set(), {"x.txt"})


def test_the_trees_kept_between_merges_stay_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MEMO_TREES parsed trees the checker starts afresh: the same answers for every
    merge, and never all the trees the merges read kept at once."""
    path = FIXTURES["scenario-release_conflicts"](tmp_path).path
    repo = GitRepository.open(path)
    merges = _merges(path)
    assert len(merges) >= 3
    with repo.merge_checker() as checker:
        unbounded = [checker.remerge(o, t, tree) for _, tree, o, t in merges]
        everything = len(checker._trees)
    monkeypatch.setattr(merges_module, "MEMO_TREES", 1)
    kept = []
    with repo.merge_checker() as checker:
        bounded = []
        for _, tree, o, t in merges:
            bounded.append(checker.remerge(o, t, tree))
            kept.append(len(checker._trees))
    assert bounded == unbounded
    assert max(kept) < everything  # started afresh, so never all the trees at once


def test_git_merges_as_libgit2_whatever_the_configuration_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where git's defaults or a user's settings would merge otherwise than libgit2 (a folder
    renamed on one side while the other adds a file to it; renames turned off; renames
    limited), git's batch is run with libgit2's rules and answers as libgit2 does."""
    b = RepoBuilder.init(tmp_path / "r")
    text = "".join(f"line {n} of a file long enough to be found renamed\n" for n in range(30))
    b.commit("base", {"lib/a.txt": text, "lib/b.txt": text.upper()})
    b.checkout("side", create_from="dev")
    b.git("mv", "lib", "src")
    b.commit("move lib to src")
    b.checkout("dev")
    b.commit("add to lib", {"lib/new.txt": "new\n"})
    b.git("-c", "merge.directoryRenames=false", "merge", "--no-ff", "-q", "-m", "merge", "side")
    _, tree, ours, theirs = _merges(b.path)[0]
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[diff]\n\trenames = false\n[merge]\n\tdirectoryRenames = true\n\trenames = false\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    answers = []
    for engine in ENGINES:
        with GitRepository.open(b.path).merge_checker() as checker:
            _engine(checker, engine, [(ours, theirs)])
            answers.append(checker.remerge(ours, theirs, tree))
    assert answers[0] == answers[1] == merges_module.Remerge((), ())
