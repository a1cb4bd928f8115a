"""The lines a commit removes and adds, per file: what the `similar` method compares.

Content is read here for similarity only, never for identity (patch ids read whole blobs in
patchid.py), so it is capped: a file that is binary, or whose old or new blob is larger than
`MAX_BLOB_BYTES`, or whose diff changes more than `MAX_CHANGED_LINES` lines, or that no longer
fits in its commit's `MAX_COMMIT_BYTES`, is described by its blob ids alone. Two such files
then agree only when they are byte for byte the same change, and a huge generated file (or a
commit of thousands of files) cannot make a near-miss search slow.
"""

from __future__ import annotations

from typing import NamedTuple

import pygit2

from drift.git.repository import GitRepository
from drift.git.treediff import GITLINK_MODE, FileChange

#: A blob larger than this is never read for `similar`: sizes come from object headers.
MAX_BLOB_BYTES = 256 * 1024
#: A file whose diff changes more lines than this is described by its blob ids.
MAX_CHANGED_LINES = 4000
#: Content `similar` reads of one commit, old and new sides together. The per-file caps alone
#: do not bound a commit: a vendored library or a mass reformat of 2,000 files of 100 kB each
#: would be read and diffed in full (hundreds of megabytes) only to score a near-miss copy,
#: which the unread files still help to find through their blob ids. Files are read in path
#: order while they fit, so two copies of one commit read the same files.
MAX_COMMIT_BYTES = 2 * 1024 * 1024
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

    A blob that cannot be read (too large, beyond the commit's budget, or absent from a
    partial clone) leaves its file described by blob ids: similarity is a best effort,
    identity is decided elsewhere. With a persistent cache the lines are kept between runs
    (a weekly audit of a drifting repository diffed 7,000 commits again for `similar` alone).
    """
    kept = repo.kept_lines(commit_id)
    if kept is not None:
        return kept
    budget = MAX_COMMIT_BYTES
    out: list[FileLines] = []
    complete = True  # every blob was there: what was read is what any later run would read
    for change in repo.file_changes(commit_id):
        known = repo.diff_text(change)  # diffed for a patch id: its sizes and lines are known
        if known is None:
            old = _size(repo, change.old_id, change.old_mode)
            new = _size(repo, change.new_id, change.new_mode)
        else:
            old, new = known[0], known[1]
        if old is None or new is None:
            complete = False
            out.append(_summary(change))
        elif old > MAX_BLOB_BYTES or new > MAX_BLOB_BYTES or old + new > budget:
            out.append(_summary(change))
        else:
            budget -= old + new
            if known is None:
                out.append(_file_lines(repo, change, old, new))
            else:
                out.append(_from_text(change, known[2]))
    if complete:  # a partial clone's missing blob may be fetched: then it is read
        repo.keep_lines(commit_id, out)
    return out


def _size(repo: GitRepository, object_id: str | None, mode: int) -> int | None:
    """Bytes one side costs to read: 0 when absent or a gitlink, None when the blob is
    missing (sizes come from object headers: nothing is inflated to learn them)."""
    if object_id is None or mode == GITLINK_MODE:
        return 0
    return repo.blob_size(object_id)


def _file_lines(repo: GitRepository, change: FileChange, old_size: int, new_size: int) -> FileLines:
    old = _data(repo, change.old_id, change.old_mode, old_size)
    new = _data(repo, change.new_id, change.new_mode, new_size)
    if old is None or new is None or _is_binary(old) or _is_binary(new):
        return _summary(change)
    patch = pygit2.Patch.create_from(
        old, new, flag=pygit2.enums.DiffOption.FORCE_TEXT, context_lines=0
    )
    text: bytes = patch.data
    start = text.find(b"\n@@")
    return _from_text(change, b"" if start < 0 else text[start + 1 :])


def _from_text(change: FileChange, text: bytes) -> FileLines:
    """A file's removed and added lines from its diff text (from the first hunk header on).
    Any number of context lines gives the same: context only groups the changes into hunks.
    """
    removed: list[bytes] = []
    added: list[bytes] = []
    if text:
        for line in text.split(b"\n"):
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


def _data(repo: GitRepository, object_id: str | None, mode: int, size: int) -> bytes | None:
    """Content of one side (`size`: read from its header already): b"" when the file is
    absent on it, None when not read."""
    if object_id is None:
        return b""
    if mode == GITLINK_MODE:
        return f"Subproject commit {object_id}\n".encode()
    return repo.read_blob(object_id, MAX_BLOB_BYTES, size)


def _is_binary(data: bytes) -> bool:
    return b"\0" in data[:_BINARY_SNIFF]
