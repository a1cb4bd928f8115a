"""Tree-to-tree comparison that skips equal subtrees.

libgit2's tree diff walks every subtree of both trees, so one diff costs O(files in the
repository); comparing entry ids and descending only into subtrees whose ids differ costs
O(files changed). See shared/notes/git-performance.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TREE_MODE = 0o040000
GITLINK_MODE = 0o160000


@dataclass(frozen=True, slots=True)
class FileChange:
    """One path whose blob or mode differs; a missing side has mode 0 and id None."""

    path: bytes
    old_mode: int
    old_id: str | None
    new_mode: int
    new_id: str | None


Entries = dict[bytes, tuple[str, int]]


def _entries(repo: Any, tree_id: str | None) -> Entries:
    if tree_id is None:
        return {}
    tree = repo[tree_id]
    return {entry.raw_name: (str(entry.id), entry.filemode) for entry in tree}


def diff_trees(repo: Any, old_tree: str | None, new_tree: str | None) -> list[FileChange]:
    """Every file that differs between two trees (no rename detection), sorted by path."""
    out: list[FileChange] = []
    _diff(repo, old_tree, new_tree, b"", out)
    out.sort(key=lambda change: change.path)
    return out


def _diff(
    repo: Any, old: str | None, new: str | None, prefix: bytes, out: list[FileChange]
) -> None:
    if old == new:
        return
    old_entries, new_entries = _entries(repo, old), _entries(repo, new)
    for name in old_entries.keys() | new_entries.keys():
        before, after = old_entries.get(name), new_entries.get(name)
        if before == after:
            continue
        path = prefix + name
        old_is_tree = before is not None and before[1] == TREE_MODE
        new_is_tree = after is not None and after[1] == TREE_MODE
        if old_is_tree or new_is_tree:
            _diff(
                repo,
                before[0] if old_is_tree and before else None,
                after[0] if new_is_tree and after else None,
                path + b"/",
                out,
            )
        old_blob = None if before is None or old_is_tree else before
        new_blob = None if after is None or new_is_tree else after
        if old_blob is None and new_blob is None:
            continue
        out.append(
            FileChange(
                path=path,
                old_mode=old_blob[1] if old_blob else 0,
                old_id=old_blob[0] if old_blob else None,
                new_mode=new_blob[1] if new_blob else 0,
                new_id=new_blob[0] if new_blob else None,
            )
        )
