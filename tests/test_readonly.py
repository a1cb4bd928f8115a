"""drift never writes to the repository it audits: refs, index, config and objects unchanged."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from drift.cli import main
from tests.small_repos import four_envs
from tests.test_gitcli import count_git_batches, count_merge_batches


def snapshot(git_dir: Path) -> dict[str, str]:
    """Every file under .git with a digest of its content and its mode. Not its modification
    time: git and libgit2, asked by the merge check to write an object the repository already
    holds, refresh that file's time instead (docs/decisions.md, "Conflict merges")."""
    out: dict[str, str] = {}
    for path in sorted(git_dir.rglob("*")):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[str(path.relative_to(git_dir))] = f"{digest}:{path.stat().st_mode:o}"
    return out


def test_audit_leaves_the_repository_byte_for_byte_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through every path that reads it: pygit2, the git executable (asked even for these few
    commits) and the forked reader of base lines."""
    monkeypatch.setattr("drift.git.repository.GIT_BATCH_MIN", 1)
    asked = count_git_batches(monkeypatch)
    b = four_envs(tmp_path)
    b.git("gc", "-q")  # packed refs and objects too
    b.commit("loose object after gc", {"late.txt": "x\n"})
    git_dir = b.path / ".git"
    before = snapshot(git_dir)
    worktree_before = sorted(p.name for p in b.path.iterdir())
    assert main(["audit", str(b.path), "--json", str(tmp_path / "r.json")]) == 0
    assert main(["audit", str(b.path), "--envs", "dev,prod", "--json", "-"]) == 0
    assert asked  # git was used
    assert snapshot(git_dir) == before
    assert sorted(p.name for p in b.path.iterdir()) == worktree_before
    assert b.git("status", "--porcelain") == ""


@pytest.mark.parametrize("engine", ["git", "libgit2"])
def test_remerging_conflicted_and_content_merges_writes_nothing(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-merging (conflict_merge) makes git or libgit2 write merged blobs; they must land in
    the shadow repository, never in the audited one."""
    monkeypatch.setenv("DRIFT_GIT", "1" if engine == "git" else "0")
    merged = count_merge_batches(monkeypatch)
    from drift_fixtures.builder import RepoBuilder
    from drift_fixtures.scenarios import release_conflicts

    scenario = release_conflicts(tmp_path)
    b = RepoBuilder(path=scenario.path)
    b.checkout("dev")
    b.commit("edit top", {"shop/settings.py": "# top\n" + b.read("shop/settings.py")})
    b.checkout("test")
    b.commit("edit bottom", {"shop/settings.py": b.read("shop/settings.py") + "# bottom\n"})
    b.merge("dev")  # a content merge of one file (both sides edited it)...
    # ...amended with an extra edit, so git's own merge result is a blob the repository does
    # not have: re-merging it makes libgit2 write that blob.
    b.write({"shop/settings.py": b.read("shop/settings.py") + "# slipped in\n"})
    b.git("commit", "-q", "--amend", "--no-edit")
    # A clone carries only reachable objects: the blob of git's own merge is not among them.
    clone = tmp_path / "clone.git"
    subprocess.run(
        ["git", "clone", "-q", "--mirror", "--no-local", str(scenario.path), str(clone)],
        check=True,
    )
    before = snapshot(clone)
    assert main(["audit", str(clone), "--json", str(tmp_path / "r.json")]) == 0
    assert '"conflict_merge"' in (tmp_path / "r.json").read_text()
    assert len(merged) == (1 if engine == "git" else 0)
    assert snapshot(clone) == before
