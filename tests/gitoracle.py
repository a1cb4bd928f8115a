"""Plain git as the oracle: the questions git itself can answer, asked the way a user would."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    """Run git in `repo` (hermetic environment set by conftest) and return stdout."""
    proc = subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, check=True)
    return proc.stdout.decode("utf-8", errors="replace").strip()


def rev_count(repo: Path, spec: str) -> int:
    """`git rev-list --count spec`."""
    return int(git(repo, "rev-list", "--count", spec))


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    """`git merge-base --is-ancestor`."""
    proc = subprocess.run(
        ["git", "merge-base", "--is-ancestor", ancestor, descendant], cwd=repo, capture_output=True
    )
    return proc.returncode == 0


def cherry(repo: Path, upstream: str, head: str) -> dict[str, str]:
    """`git cherry upstream head`: commit -> '+' (no equivalent upstream) or '-' (has one)."""
    out: dict[str, str] = {}
    for line in git(repo, "cherry", upstream, head).splitlines():
        mark, commit = line.split()
        out[commit] = mark
    return out


def patch_id_stable(repo: Path, commit: str) -> str | None:
    """`git diff-tree -p C | git patch-id --stable`, diffed as git cherry diffs (no heuristics).

    Returns None for an empty diff. Only meaningful when `hunks_only(commit)`: for files
    without hunks (empty or binary files, mode-only changes) the `patch-id` command hashes
    other header lines than `git cherry`'s internal patch id does (git 2.39).
    """
    diff = _diff_tree(repo, commit)
    out = git(repo, "patch-id", "--stable", stdin=diff)
    return out.split()[0] if out else None


def hunks_only(repo: Path, commit: str) -> bool:
    """Every file in the commit's diff has `---`/`+++` lines and textual hunks."""
    sections = _diff_tree(repo, commit).split(b"\ndiff --git ")
    return all(b"\n--- " in s and b"\n@@ " in s and b"Binary files" not in s for s in sections)


def _diff_tree(repo: Path, commit: str) -> bytes:
    return subprocess.run(
        [
            "git",
            "diff-tree",
            "-p",
            "--root",
            "--full-index",
            "--no-renames",
            "--no-indent-heuristic",
            "--no-commit-id",
            commit,
        ],
        cwd=repo,
        capture_output=True,
        check=True,
    ).stdout
