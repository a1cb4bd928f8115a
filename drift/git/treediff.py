"""Tree-to-tree comparison that skips equal subtrees.

libgit2's tree diff walks every subtree of both trees, so one diff costs O(files in the
repository); comparing entry ids and descending only into subtrees whose ids differ costs
O(files changed). See shared/notes/git-performance.md.
"""

from __future__ import annotations

import functools
import re
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


Entries = dict[bytes, tuple[bytes, bytes]]
"""Name -> (raw 20-byte id, octal mode as written), straight from the tree object."""

#: One entry of a raw tree object: `<octal mode> <name>\0<20-byte id>`.
_ENTRY = re.compile(rb"(\d+) ([^\0]*)\0(.{20})", re.DOTALL)
_TREE = b"40000"


def _entries(repo: Any, tree_id: str | None) -> Entries:
    """A tree's entries parsed from its raw object: pygit2's entry objects build a FileMode
    enum per entry, which tripled the cost of comparing large directories."""
    if tree_id is None:
        return {}
    data = repo.odb.read(tree_id)[1]
    return {name: (oid, mode) for mode, name, oid in _ENTRY.findall(data)}


def tree_listing(repo: Any, tree_id: str) -> list[tuple[bytes, bytes, int]]:
    """(name, raw 20-byte id, canonical mode) of each entry of one tree, in the tree's order,
    parsed from its raw object (see `_entries`)."""
    data = repo.odb.read(tree_id)[1]
    return [(name, oid, _canon(mode)) for mode, name, oid in _ENTRY.findall(data)]


def _remembered(repo: Any, tree_id: str | None, memo: dict[str | None, Entries] | None) -> Entries:
    if memo is None:
        return _entries(repo, tree_id)
    found = memo.get(tree_id)
    if found is None:
        found = memo[tree_id] = _entries(repo, tree_id)
    return found


@functools.cache  # a handful of distinct modes, met once per entry of every tree read
def _canon(mode: bytes) -> int:
    """git's canonical mode (canon_mode), as libgit2 and `git diff` report it: 100664 is
    100644, any executable bit is 100755."""
    value = int(mode, 8)
    kind = value & 0o170000
    if kind == 0o100000:
        return 0o100755 if value & 0o100 else 0o100644
    if kind in (0o120000, 0o040000):
        return kind
    return GITLINK_MODE


def diff_trees(
    repo: Any,
    old_tree: str | None,
    new_tree: str | None,
    memo: dict[str | None, Entries] | None = None,
) -> list[FileChange]:
    """Every file that differs between two trees (no rename detection), sorted by path.

    `memo` keeps the trees read, for callers that compare trees sharing most of their
    subtrees again and again (the merge check: each merge against both its parents)."""
    out: list[FileChange] = []
    _diff(repo, old_tree, new_tree, b"", out, memo)
    out.sort(key=lambda change: change.path)
    return out


def _diff(
    repo: Any,
    old: str | None,
    new: str | None,
    prefix: bytes,
    out: list[FileChange],
    memo: dict[str | None, Entries] | None,
) -> None:
    if old == new:
        return
    old_entries, new_entries = _remembered(repo, old, memo), _remembered(repo, new, memo)
    for name in old_entries.keys() | new_entries.keys():
        before, after = old_entries.get(name), new_entries.get(name)
        if before == after:
            continue
        path = prefix + name
        old_is_tree = before is not None and before[1] == _TREE
        new_is_tree = after is not None and after[1] == _TREE
        if old_is_tree or new_is_tree:
            _diff(
                repo,
                before[0].hex() if old_is_tree and before else None,
                after[0].hex() if new_is_tree and after else None,
                path + b"/",
                out,
                memo,
            )
        old_blob = None if before is None or old_is_tree else (before[0].hex(), _canon(before[1]))
        new_blob = None if after is None or new_is_tree else (after[0].hex(), _canon(after[1]))
        if old_blob == new_blob:  # nothing, or modes written differently that mean the same
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
