"""The lines a commit removes and adds, per file: what the `similar` method compares.

Content is read here for similarity only, never for identity (patch ids read whole blobs in
patchid.py), so it is capped: a file that is binary, or whose old or new blob is larger than
`MAX_BLOB_BYTES`, or whose diff changes more than `MAX_CHANGED_LINES` lines, is described by
its blob ids alone. Two such files then agree only when they are byte for byte the same
change, and a huge generated file cannot make a near-miss search slow.
"""

from __future__ import annotations

from typing import NamedTuple

import pygit2

from drift.git.repository import GitRepository
from drift.git.treediff import GITLINK_MODE, FileChange

MAX_BLOB_BYTES = 256 * 1024
MAX_CHANGED_LINES = 4000
_BINARY_SNIFF = 8000  # git's FIRST_FEW_BYTES in buffer_is_binary()


class FileLines(NamedTuple):
    """One file of a commit's diff (no context lines, no rename detection).

    `summary` is set (`old-id..new-id`) instead of the lines when the content was not read.
    """

    path: bytes
    removed: tuple[bytes, ...]
    added: tuple[bytes, ...]
    summary: bytes | None = None


def changed_lines(repo: GitRepository, commit_id: str) -> list[FileLines]:
    """Removed and added lines of each file a non-merge commit changes, sorted by path.

    A blob that cannot be read (too large, or absent from a partial clone) leaves its file
    described by blob ids: similarity is a best effort, identity is decided elsewhere.
    """
    return [_file_lines(repo, change) for change in repo.file_changes(commit_id)]


def _file_lines(repo: GitRepository, change: FileChange) -> FileLines:
    old = _data(repo, change.old_id, change.old_mode)
    new = _data(repo, change.new_id, change.new_mode)
    if old is None or new is None or _is_binary(old) or _is_binary(new):
        return _summary(change)
    patch = pygit2.Patch.create_from(
        old, new, flag=pygit2.enums.DiffOption.FORCE_TEXT, context_lines=0
    )
    text: bytes = patch.data
    start = text.find(b"\n@@")
    removed: list[bytes] = []
    added: list[bytes] = []
    if start >= 0:
        for line in text[start + 1 :].split(b"\n"):
            if line.startswith(b"-"):
                removed.append(line[1:])
            elif line.startswith(b"+"):
                added.append(line[1:])
    if len(removed) + len(added) > MAX_CHANGED_LINES:
        return _summary(change)
    return FileLines(change.path, tuple(removed), tuple(added))


def _summary(change: FileChange) -> FileLines:
    ids = f"{change.old_id or '0' * 40}..{change.new_id or '0' * 40}"
    return FileLines(change.path, (), (), ids.encode())


def _data(repo: GitRepository, object_id: str | None, mode: int) -> bytes | None:
    """Content of one side: b"" when the file is absent on it, None when not read."""
    if object_id is None:
        return b""
    if mode == GITLINK_MODE:
        return f"Subproject commit {object_id}\n".encode()
    return repo.read_blob(object_id, MAX_BLOB_BYTES)


def _is_binary(data: bytes) -> bool:
    return b"\0" in data[:_BINARY_SNIFF]
