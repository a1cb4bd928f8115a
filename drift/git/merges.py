"""Re-merge a merge's parents in memory and compare with what was recorded.

libgit2's in-memory merge still writes the merged file contents as blobs into the object
database. drift never writes to the repository it audits, so merges run in a throwaway
*shadow* repository whose `objects/info/alternates` points at the audited repository's
objects: every object is readable, and every write lands in a temporary folder.
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

    def remerge(self, ours: str, theirs: str, recorded_tree: str) -> Remerge:
        """Merge `theirs` into `ours` as git would (recursive bases, renames) and compare."""
        repo = self._shadow()
        if len(self._trees) > MEMO_TREES:
            self._trees.clear()
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


def _entry(index: Any, path: str) -> tuple[str, int] | None:
    try:
        entry = index[path]
    except (KeyError, ValueError):
        return None
    return (str(entry.id), int(entry.mode))
