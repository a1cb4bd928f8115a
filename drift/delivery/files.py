"""The files of an environment's tip, read from the object store once per blob.

Nothing is checked out: the tree is listed and blobs are read by id, so the same file on
four environment branches is read (and parsed) once. Files over `MAX_BYTES` are not read
at all; vendored folders are left out, since a committed `node_modules/` holds thousands of
package.json files that say nothing about how this repository is delivered.
"""

from __future__ import annotations

import posixpath

from drift.git import GitRepository

MAX_BYTES = 1 << 20
VENDORED = frozenset(
    {"node_modules", "bower_components", "vendor", ".venv", "venv", "site-packages", ".git"}
)


class Unreadable(Exception):
    """A delivery file that cannot be parsed; the message says why, in words."""


class TooLarge(Exception):
    """A delivery file larger than `MAX_BYTES` (or absent from the object store)."""


def tip_files(repo: GitRepository, commit: str) -> dict[str, str]:
    """path -> blob id of every file at `commit`, vendored folders left out, sorted by path."""
    files = {
        path: blob
        for path, blob, _mode in repo.tree_files(commit)
        if not VENDORED.intersection(path.split("/")[:-1])
    }
    return dict(sorted(files.items()))


class BlobText:
    """Blob contents as text, read once per blob id."""

    def __init__(self, repo: GitRepository) -> None:
        self._repo = repo
        self._texts: dict[str, str | None] = {}

    def text(self, blob: str) -> str:
        """The blob decoded as UTF-8 (a BOM dropped, bad bytes replaced); `TooLarge` if big."""
        if blob not in self._texts:
            data = self._repo.read_blob(blob, MAX_BYTES)
            self._texts[blob] = None if data is None else data.decode("utf-8-sig", "replace")
        text = self._texts[blob]
        if text is None:
            raise TooLarge(f"not read: larger than {MAX_BYTES >> 20} MiB")
        return text


def dirname(path: str) -> str:
    """The folder of a path ('' at the root)."""
    return posixpath.dirname(path)


def basename(path: str) -> str:
    """The file name of a path."""
    return posixpath.basename(path)


def join(folder: str, name: str) -> str:
    """A path in `folder` ('' is the root)."""
    return f"{folder}/{name}" if folder else name


def ancestors(folder: str) -> list[str]:
    """`folder` and every folder above it, up to the root (''), nearest first."""
    chain = [folder]
    while folder:
        folder = dirname(folder)
        chain.append(folder)
    return chain


def line_of(text: str, needle: str) -> int | None:
    """The first line (1-based) that contains `needle`."""
    for number, content in enumerate(text.splitlines(), 1):
        if needle in content:
            return number
    return None
