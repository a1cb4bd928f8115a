"""Re-merge a merge's parents in memory and compare with what was recorded.

libgit2's in-memory merge still writes the merged file contents as blobs into the object
database. drift never writes to the repository it audits, so merges run in a throwaway
*shadow* repository whose `objects/info/alternates` points at the audited repository's
objects: every object is readable, and every write lands in a temporary folder.

Where git can (drift.git.gitcli), the merges are done by one `git merge-tree --stdin` in the
same shadow repository, with settings that make it merge as libgit2 does: git skips folders
both sides left alone, where libgit2's merge lists every file of all three trees (a merge of
60k-file trees: 45-160 ms in libgit2, 4 ms in git). Both ways compare the merge with the record
the same way, and a test proves they give the same answer for every merge of every fixture.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import pygit2

from drift.errors import DriftError
from drift.git import gitcli
from drift.git.treediff import Entries, diff_trees

MEMO_TREES = 4096
"""Trees the merge check keeps parsed (9 MB for 4,096 at 100k commits): successive merges
share most subtrees with the merges just before them, so starting afresh past this costs
little, and `--all-merges` on a long history stays bounded."""


@dataclass(frozen=True, slots=True)
class Remerge:
    """How a recorded merge compares with git's own automatic merge of its parents."""

    conflicted: tuple[str, ...]
    """Paths the automatic merge could not resolve."""
    differing: tuple[str, ...]
    """Paths whose recorded content differs from the automatic merge (conflicts included)."""


class MergeChecker:
    """A context manager holding the shadow repository for a run."""

    def __init__(self, objects_dir: Path) -> None:
        self._objects = objects_dir
        self._tmp: Path | None = None
        self._repo: Any = None
        self._trees: dict[str | None, Entries] = {}  # trees read, shared by every re-merge
        self._by_git: dict[tuple[str, str], gitcli.Merged] = {}

    def __enter__(self) -> MergeChecker:
        return self

    def _shadow(self) -> Any:
        """The shadow repository, made on the first re-merge (a run whose re-merges all come
        from the persistent cache makes none)."""
        if self._repo is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="drift-remerge-"))
            shadow = pygit2.init_repository(str(self._tmp / "shadow.git"), bare=True)
            alternates = Path(shadow.path) / "objects" / "info" / "alternates"
            alternates.write_text(str(self._objects.resolve()) + "\n", encoding="utf-8")
            self._repo = pygit2.Repository(shadow.path)
        return self._repo

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._repo = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def merge_with_git(self, pairs: list[tuple[str, str]], settings: tuple[str, ...]) -> bool:
        """Have git merge each (ours, theirs) pair now, in one process, for `remerge` to read
        (drift.git.gitcli.merge_tree; `settings` are its -c settings). False when git could
        not answer them all: `remerge` then merges them here."""
        merged = gitcli.merge_tree(Path(self._shadow().path), pairs, settings) if pairs else {}
        if merged is None:
            return False
        self._by_git.update(merged)
        return True

    def merged_by_git(self, ours: str, theirs: str) -> bool:
        """Whether `remerge` answers this pair from git's merge."""
        return (ours, theirs) in self._by_git

    def remerge(self, ours: str, theirs: str, recorded_tree: str) -> Remerge:
        """Merge `theirs` into `ours` as git would (recursive bases, renames) and compare:
        git's merge when `merge_with_git` had it made, else libgit2's, here."""
        repo = self._shadow()
        if len(self._trees) > MEMO_TREES:
            self._trees.clear()
        by_git = self._by_git.get((ours, theirs))
        if by_git is not None:
            return self._compared(repo, recorded_tree, *by_git)
        try:
            index = repo.merge_commits(ours, theirs)
        except (pygit2.GitError, KeyError, ValueError) as exc:
            raise DriftError(f"cannot re-merge {ours[:12]} and {theirs[:12]}: {exc}") from exc
        conflicted = set()
        if index.conflicts is not None:
            for ancestor, mine, other in index.conflicts:
                for side in (ancestor, mine, other):
                    if side is not None:
                        conflicted.add(side.path)
        # Only paths where the recorded tree differs from a parent can differ from the
        # automatic merge: where both parents and the record agree, so does the merge. The
        # diffs give the recorded side of each (what the record holds there, or nothing).
        suspects = {
            change.path.decode("utf-8", "surrogateescape"): (
                None if change.new_id is None else (change.new_id, change.new_mode)
            )
            for parent in (ours, theirs)
            for change in diff_trees(repo, str(repo[parent].tree_id), recorded_tree, self._trees)
        }
        differing = set(conflicted)
        for path, recorded in suspects.items():
            if path not in conflicted and _entry(index, path) != recorded:
                differing.add(path)
        return Remerge(tuple(sorted(conflicted)), tuple(sorted(differing)))

    def _compared(
        self, repo: Any, recorded_tree: str, merged_tree: str, conflicts: tuple[str, ...]
    ) -> Remerge:
        """git's merged tree against the record: the paths where they differ, and the
        conflicted ones. (libgit2's index is asked only about paths where the record differs
        from a parent; where both parents and the record agree, so does the merge, so both
        ways find the same paths.) The merged tree shares nearly every folder with the
        record: the diff is short."""
        conflicted = set(conflicts)  # a path once, whatever git lists
        differing = set(conflicted)
        for change in diff_trees(repo, merged_tree, recorded_tree, self._trees):
            differing.add(change.path.decode("utf-8", "surrogateescape"))
        return Remerge(tuple(sorted(conflicted)), tuple(sorted(differing)))


def _entry(index: Any, path: str) -> tuple[str, int] | None:
    try:
        entry = index[path]
    except (KeyError, ValueError):
        return None
    return (str(entry.id), int(entry.mode))
