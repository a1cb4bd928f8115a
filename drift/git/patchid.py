"""Patch ids exactly as `git cherry` computes them internally (diff.c: diff_get_patch_id).

Per file: sha1 over the whitespace-free header ("diff--gita/PATHb/PATH", mode lines), then
for binary files both full blob ids, else "---a/PATH+++b/PATH" and every hunk line with
whitespace removed (hunk headers and "\\ No newline" markers skipped). The per-file digests
are added as 160-bit little-endian integers, so file order does not matter ("stable").
git diffs with xpp.flags = 0 and 3 context lines: no indent heuristic, no rename detection.

The diff text made for a patch id is also what `similar` reads of the same pair of blobs (its
removed and added lines: context changes how the changes are grouped into hunks, never which
lines change), so a `DiffTexts` handed to `patch_id` keeps it for drift.git.blobs.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pygit2

from drift.git.treediff import GITLINK_MODE, FileChange

_WHITESPACE = b" \t\n\r"  # git's isspace(): \v and \f are not space in git's ctype table
_BINARY_SNIFF = 8000  # git's FIRST_FEW_BYTES in buffer_is_binary()
_ZERO_HEX = b"0" * 40
_MOD = 1 << 160
#: Hunk headers and "\\ No newline at end of file" markers, which patch ids skip.
_NOT_CONTENT = re.compile(rb"^[@\\][^\n]*(?:\n|$)", re.MULTILINE)


class MissingObjectError(Exception):
    """A blob or tree the diff needs is not in the object store."""

    def __init__(self, object_id: str) -> None:
        super().__init__(object_id)
        self.object_id = object_id


def _content(repo: Any, object_id: str | None, mode: int) -> bytes | memoryview:
    """One side's content: a view of libgit2's buffer, not a copy (a 20 MB binary is needed
    only for its first 8,000 bytes; copying it would double the memory it costs)."""
    if object_id is None:
        return b""
    if mode == GITLINK_MODE:
        return f"Subproject commit {object_id}\n".encode()
    try:
        return memoryview(repo[object_id])
    except (KeyError, ValueError) as exc:
        raise MissingObjectError(object_id) from exc


def _is_binary(data: bytes | memoryview) -> bool:
    return b"\0" in bytes(data[:_BINARY_SNIFF])


class DiffTexts:
    """Diff texts of blob pairs, as patch ids made them, for `similar` to read instead of the
    blobs: where both run (a cherry-pick forward of a feature has a patch id and is a
    near-miss candidate). 4,850 of the 6,999 commits `similar` diffed in the 300k-commit
    drifting benchmark had been diffed for their patch ids already. Kept by (old blob, new
    blob), with both sizes; bounded by the bytes of text kept (at 300k commits all of them
    take a few MB), then nothing more."""

    def __init__(self, budget: int = 32 << 20) -> None:
        self._texts: dict[tuple[str, str], tuple[int, int, bytes]] = {}
        self._left = budget

    def keep(self, change: FileChange, old_size: int, new_size: int, text: bytes) -> None:
        """Remember one file's diff text (from its first hunk header on)."""
        if change.old_mode == GITLINK_MODE or change.new_mode == GITLINK_MODE:
            return  # not a blob's content: drift.git.blobs reads gitlinks by their ids
        if len(text) <= self._left:
            self._texts[(change.old_id or "", change.new_id or "")] = (old_size, new_size, text)
            self._left -= len(text)

    def get(self, change: FileChange) -> tuple[int, int, bytes] | None:
        """(old size, new size, diff text) kept for this file's blob pair, if any."""
        return self._texts.get((change.old_id or "", change.new_id or ""))


def diff_text(old: bytes, new: bytes) -> bytes:
    """The hunks of a 3-context-line diff as git's xdiff emits them, from the first hunk
    header on (empty when the contents are equal)."""
    patch = pygit2.Patch.create_from(
        old, new, flag=pygit2.enums.DiffOption.FORCE_TEXT, context_lines=3
    )
    text: bytes = patch.data
    start = text.find(b"\n@@")
    return b"" if start < 0 else text[start + 1 :]


def _hunk_lines(text: bytes) -> bytes:
    """The hunk body lines of a diff text, joined."""
    # Without a list of 200,000 line objects: content lines start with ' ', '+' or '-'.
    return _NOT_CONTENT.sub(b"", text).replace(b"\n", b"")


def file_patch_id(repo: Any, change: FileChange, texts: DiffTexts | None = None) -> int:
    """One file's contribution to the patch id, as an integer to be summed."""
    path = change.path.translate(None, _WHITESPACE)
    sha = hashlib.sha1(b"diff--gita/" + path + b"b/" + path)
    if change.old_mode == 0:
        sha.update(b"newfilemode%06o" % change.new_mode)
    elif change.new_mode == 0:
        sha.update(b"deletedfilemode%06o" % change.old_mode)
    elif change.old_mode != change.new_mode:
        sha.update(b"oldmode%06o" % change.old_mode + b"newmode%06o" % change.new_mode)
    old = _content(repo, change.old_id, change.old_mode)
    new = _content(repo, change.new_id, change.new_mode)
    if _is_binary(old) or _is_binary(new):
        sha.update(change.old_id.encode() if change.old_id else _ZERO_HEX)
        sha.update(change.new_id.encode() if change.new_id else _ZERO_HEX)
    else:
        sha.update(b"---/dev/null" if change.old_mode == 0 else b"---a/" + path)
        sha.update(b"+++/dev/null" if change.new_mode == 0 else b"+++b/" + path)
        text = diff_text(bytes(old), bytes(new))
        if texts is not None:
            texts.keep(change, len(old), len(new), text)
        sha.update(_hunk_lines(text).translate(None, _WHITESPACE))
    return int.from_bytes(sha.digest(), "little")


def patch_id(repo: Any, changes: list[FileChange], texts: DiffTexts | None = None) -> str | None:
    """The stable patch id of a list of file changes; None when there is no change. `texts`
    keeps the diff text of each file diffed (DiffTexts)."""
    if not changes:
        return None
    total = sum(file_patch_id(repo, change, texts) for change in changes) % _MOD
    return total.to_bytes(20, "little").hex()
