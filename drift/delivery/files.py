"""The files of an environment's tip, read from the object store once per blob.

Nothing is checked out: the tree is listed and blobs are read by id, so the same file on
four environment branches is read (and parsed) once. Files over `MAX_BYTES` are not read
at all; vendored folders are left out, since a committed `node_modules/` holds thousands of
package.json files that say nothing about how this repository is delivered.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from drift.git import GitRepository
from drift.git.treediff import GITLINK_MODE, TREE_MODE

MAX_BYTES = 1 << 20
VENDORED = frozenset(
    {"node_modules", "bower_components", "vendor", ".venv", "venv", "site-packages", ".git"}
)


class Unreadable(Exception):
    """A delivery file that cannot be parsed; the message says why, in words."""


class TooLarge(Exception):
    """A delivery file larger than `MAX_BYTES` (or absent from the object store)."""


Folder = tuple[list[tuple[str, str]], list[tuple[str, str]]]
"""A folder's wanted files (path, blob id) and its subfolders (path with its trailing slash,
tree id), vendored ones left out."""


SMALL = 64
"""A folder's row keeps every wanted file below it when there are at most this many: a later
run then reads nothing below it. A row never holds more, so the cache grows by the folders new
commits change, each row small, as the repository's own trees do."""


class TipFiles:
    """The files of each tip a scan wants (`wanted(path)`, decided by path alone), by path.

    Environment branches share nearly all their folders, and a folder's tree id fixes
    everything below it: the files wanted below a folder are gathered once per (path, tree
    id), so a tip after the first lists only the folders that differ from one listed before,
    and stops at the first folder it shares. Vendored folders are never entered. Most files
    are decided by their name alone (`by_name`: the answer of `wanted` for every file of that
    name, or None where its folder matters), once per name, from the raw listing: no path or
    id is made of a file the scan turns away (a 60k-file tree of unique names: 0.66-0.80 ->
    0.30-0.36 s of CPU for four tips, with the `basename` below).

    With a `definition` (a digest of what decides `wanted`), each folder listed is kept in the
    repository's persistent cache by path and tree id: its wanted files and subfolders, and
    every wanted file below it when there are at most `SMALL`. A later run reads that instead
    of the tree and its names, and stops at a folder whose files below are kept: a run after
    new commits lists only the folders they changed. The cache is asked about the subfolders
    of each folder at once.
    """

    def __init__(
        self,
        repo: GitRepository,
        wanted: Callable[[str], bool],
        by_name: Callable[[str], bool | None] | None = None,
        definition: str | None = None,
    ) -> None:
        self._repo = repo
        self._wanted = wanted
        self._by_name = by_name
        self._definition = definition
        self._names: dict[bytes, bool | None] = {}
        self._listings: dict[tuple[str, str], Folder] = {}
        self._below: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.listed = 0
        """Folders listed from the object store (for tests and the benchmark's figures)."""

    def files(self, commit: str) -> dict[str, str]:
        """path -> blob id of every wanted file at `commit`, sorted by path."""
        return dict(sorted(self._files_below(("", self._repo.commit(commit).tree))))

    def _files_below(self, top: tuple[str, str]) -> list[tuple[str, str]]:
        """The wanted files in and below the folder `top` (its path and tree id): known, kept
        whole by an earlier run, or gathered from its listing and its subfolders' (without
        recursion: a tree may be nested deeper than Python's stack)."""
        below, listings = self._below, self._listings
        if top not in below and top not in listings:
            self._take_kept([top])
        listed: set[tuple[str, str]] = set()  # here, from the object store: kept once gathered
        opened: set[tuple[str, str]] = set()  # their subfolders are on the stack
        stack = [top]
        while stack:
            key = stack.pop()
            if key in below:
                continue
            if key in opened:  # every subfolder is gathered: gather it
                files, folders = listings[key]
                found = files + [entry for folder in folders for entry in below[folder]]
                below[key] = found
                if key in listed and self._definition is not None:
                    whole = found if len(found) <= SMALL else None
                    self._repo.remember_folder(
                        folder_key(key), self._definition, (*listings[key], whole)
                    )
                continue
            listing = listings.get(key)
            if listing is None:
                listing = listings[key] = self._folder(*key)
                listed.add(key)
            opened.add(key)
            stack.append(key)
            pending = [folder for folder in listing[1] if folder not in below]
            self._take_kept([folder for folder in pending if folder not in listings])
            stack += pending
        return below[top]

    def _take_kept(self, keys: list[tuple[str, str]]) -> None:
        """What an earlier run kept of these folders: each listing, and every wanted file
        below it where the row has them."""
        if self._definition is None or not keys:
            return
        names = {folder_key(key): key for key in keys}
        for name, (files, folders, whole) in self._repo.stored_folders(
            list(names), self._definition
        ).items():
            key = names[name]
            self._listings[key] = (files, folders)
            if whole is not None:
                self._below[key] = whole

    def _folder(self, prefix: str, tree: str) -> Folder:
        self.listed += 1
        files: list[tuple[str, str]] = []
        folders: list[tuple[str, str]] = []
        for raw, object_id, mode in self._repo.tree_entries(tree):
            if mode == TREE_MODE:
                name = raw.decode("utf-8", "replace")
                if name not in VENDORED:
                    folders.append((prefix + name + "/", object_id.hex()))
            elif mode != GITLINK_MODE and self._wants(prefix, raw):
                files.append((prefix + raw.decode("utf-8", "replace"), object_id.hex()))
        return files, folders

    def _wants(self, prefix: str, raw: bytes) -> bool:
        """`wanted` for the file named `raw` in the folder `prefix`, by name where it can."""
        if raw in self._names:
            decided = self._names[raw]
        else:
            name = raw.decode("utf-8", "replace")
            decided = self._names[raw] = None if self._by_name is None else self._by_name(name)
        if decided is None:
            return self._wanted(prefix + raw.decode("utf-8", "replace"))
        return decided


def folder_key(folder: tuple[str, str]) -> str:
    """How the persistent cache names a folder (path, tree id): `TREE:PATH`."""
    prefix, tree = folder
    return f"{tree}:{prefix}"


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
    """The file name of a path (posixpath.basename's answer, without its generality: asked
    five times for each file name the scan judges, it took a third of a wide tree's scan)."""
    return path[path.rfind("/") + 1 :]


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
