"""Plain git as the oracle: the questions git itself can answer, asked the way a user would."""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Callable
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


def reachable(repo: Path, ref: str) -> set[str]:
    """`git rev-list ref`: every commit the ref's tip reaches."""
    return set(git(repo, "rev-list", ref).split())


def first_parent_line(repo: Path, ref: str) -> list[str]:
    """`git rev-list --first-parent ref`: the ref's first-parent line, tip first."""
    return git(repo, "rev-list", "--first-parent", ref).split()


def commit_table(repo: Path, *refs: str) -> dict[str, tuple[int, str, tuple[str, ...]]]:
    """Every commit the refs reach: id -> (committer time, tree id, parent ids)."""
    table: dict[str, tuple[int, str, tuple[str, ...]]] = {}
    for line in git(repo, "log", "--format=%H %ct %T %P", *refs).splitlines():
        commit, ct, tree, *parents = line.split()
        table[commit] = (int(ct), tree, tuple(parents))
    return table


def subjects(repo: Path, *refs: str) -> dict[str, str]:
    """Every commit the refs reach: id -> subject (`%s`)."""
    pairs = (line.partition(" ") for line in git(repo, "log", "--format=%H %s", *refs).splitlines())
    return {commit: subject for commit, _, subject in pairs}


def introductions(
    repo: Path, line: list[str], parents: dict[str, tuple[str, ...]]
) -> dict[str, str]:
    """Commit -> the commit of `line` (tip first, each commit's next one the parent the line
    runs through) that introduced it: the oldest one that reaches it, i.e. the one F whose
    `git rev-list F ^P` lists it, P being the line's next commit."""
    intro: dict[str, str] = {}
    for via, older in reversed(list(itertools.zip_longest(line, line[1:]))):
        if len(parents[via]) < 2:
            intro[via] = via
            continue
        for commit in git(repo, "rev-list", via, *([f"^{older}"] if older else [])).split():
            intro.setdefault(commit, via)
    return intro


def remerge_paths(repo: Path, merge: str) -> list[str]:
    """Paths `git show --remerge-diff` (git 2.36+) shows for a two-parent merge: where the
    recorded tree differs from git's own re-merge of the parents."""
    out = git(repo, "show", "--remerge-diff", "--format=", "--name-only", merge)
    return sorted(line for line in out.splitlines() if line)


def assert_patch_ids_agree_with_cherry(
    repo: Path,
    refs: list[str],
    patch_id: Callable[[str], str | None],
    is_empty: Callable[[str], bool],
) -> None:
    """For every ordered pair of refs, `git cherry` marks a commit '-' exactly when `patch_id`
    gives it an id some commit on the other side has. The one deliberate difference: an
    empty commit has no patch id (it carries no change), while git matches two empty ones."""
    for a, b in itertools.permutations(refs, 2):
        theirs = git(repo, "rev-list", "--no-merges", f"{b}..{a}").split()
        their_ids = {patch_id(c) for c in theirs} - {None}
        for commit, mark in cherry(repo, a, b).items():
            ours = patch_id(commit)
            if ours is None:
                assert is_empty(commit), "only empty commits lack a patch id"
                continue
            assert (mark == "-") == (ours in their_ids), (a, b, commit)
