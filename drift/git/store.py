"""The hook through which a persistent cache of per-commit results reaches the git layer.

A commit id names its content, so a commit's metadata, file changes, patch ids and changed
lines never change, nor does the first-parent line below it, nor (for a given libgit2 and
merge configuration) how a merge compares with git's own merge of its parents: a store may
keep them between runs. So may the listing of a folder a scan wants files from, fixed by the
folder's tree id, its path and the scan's definition. The git layer only sees this protocol; the
SQLite implementation lives in `drift.ci.cache`. Without a store, nothing here is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Protocol

from drift.git.merges import Remerge
from drift.git.treediff import FileChange

if TYPE_CHECKING:
    from drift.commits import CommitInfo
    from drift.git.blobs import FileLines
    from drift.git.line_trees import LineTrees


class InfoLookup(Protocol):
    """Stored commits' metadata by id."""

    def get(self, commit_id: str, /) -> CommitInfo | None:
        """The commit's metadata, or None: not stored (or not usable)."""


class InfoStore(Protocol):
    """Commits' metadata kept between runs (what `drift.git.commit_info` decodes)."""

    def commit_infos_since(self, time: int) -> InfoLookup:
        """Every stored commit committed at or after `time`, by id: what a walk bounded by
        age may meet (those it does not reach are never used)."""

    def put_commit_infos(self, infos: list[CommitInfo]) -> None:
        """Remember commits' metadata: a commit id fixes it."""


class CommitStore(InfoStore, Protocol):
    """Per-commit results kept between runs; a miss (None) means: compute it."""

    def line_info_starts(self) -> set[str]:
        """The commits where a stored described line (`line_infos`) begins."""

    def line_infos(self, start: str) -> tuple[list[CommitInfo], str | None] | None:
        """The metadata of the first-parent line from `start`, in order, down to (not
        including) `rest`, where another stored line begins (None: to the root); None on a
        miss or a row that is not such a line."""

    def put_line_infos(self, start: str, infos: list[CommitInfo], rest: str | None) -> None:
        """Remember a first-parent line's metadata from `start` down to `rest`."""

    def infos_for_child(self) -> ChildInfos | None:
        """Called before a fork: what the forked child may read of the stored commits'
        metadata, through a connection of its own (None when the store cannot be read)."""

    def prefetch(self, commit_ids: list[str]) -> None:
        """Read ahead what is stored for these commits (file changes, patch ids), so that
        the lookups that follow cost no query each."""

    def changes(self, commit_id: str) -> list[FileChange] | None:
        """The file changes of a commit against its first parent, if stored."""

    def put_changes(self, commit_id: str, changes: list[FileChange]) -> None:
        """Remember a commit's file changes."""

    def patch_id(self, commit_id: str, inverse: bool = False) -> tuple[str | None] | None:
        """`(patch id,)` if stored (the id is None for an empty diff), else None."""

    def put_patch_id(self, commit_id: str, value: str | None, inverse: bool = False) -> None:
        """Remember a commit's patch id (or that of its inverse diff)."""

    def line_trees(self, start: str) -> LineTrees | None:
        """The trees of the first-parent line from `start` (GitRepository.line_trees), whole:
        a stored segment comes chained to the stored line it stops at."""

    def put_line_trees(self, start: str, trees: LineTrees) -> None:
        """Remember the trees of a first-parent line: history below a commit never changes.
        A chained line is kept as its first segment and where it stops."""

    def has_line_trees(self, start: str) -> bool:
        """Whether the trees of the line from `start` are stored (without reading them)."""

    def line_tree_starts(self) -> frozenset[str]:
        """Where the stored lines begin."""

    def line_answers(self, start: str) -> dict[str, tuple[int, str] | None] | None:
        """Lookups of single trees on the line from `start` (LineTrees.get), as stored."""

    def put_line_answers(self, start: str, answers: dict[str, tuple[int, str] | None]) -> None:
        """Remember lookups on a line: what a tree's lookup answers never changes either."""

    def remerge(self, merge_id: str, context: str) -> Remerge | None:
        """How a merge compares with git's own merge of its parents, if stored under the same
        `context` (the settings libgit2's merge reads)."""

    def put_remerge(self, merge_id: str, context: str, result: Remerge) -> None:
        """Remember a merge's re-merge: its parents and tree are fixed by its id."""

    def lines(self, commit_id: str) -> list[FileLines] | None:
        """The lines `similar` read of a commit (drift.git.blobs.changed_lines), if stored."""

    def put_lines(self, commit_id: str, lines: list[FileLines]) -> None:
        """Remember them: the blobs are fixed by the commit id, the caps by the code."""

    def folders(self, folders: list[str], context: str) -> dict[str, FolderListing]:
        """The listings (wanted files, subfolders, and every wanted file below where kept) of
        each of these folders (named by tree id and path, drift.delivery.files.folder_key)
        stored under the same `context` (the definition of which files are wanted); the
        rest are misses."""

    def put_folder(self, folder: str, context: str, listing: FolderListing) -> None:
        """Remember a folder's listing: its tree id fixes its entries, the path and the
        definition fix which of them are wanted."""


class ChildInfos(InfoStore, Protocol):
    """A forked child's reader of stored commit metadata. It saves nothing: what it is given
    to keep, it hands back (`taken`) for the child to send to the parent."""

    def taken(self) -> list[CommitInfo]:
        """The commits' metadata put here since it was made."""


FolderListing = tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]] | None]
"""A folder's wanted files (path, blob id), subfolders (path, tree id), and every wanted file
in and below it (or None: not kept, too many)."""

ACTIVE_STORE: ContextVar[CommitStore | None] = ContextVar("drift_commit_store", default=None)


@contextmanager
def using_store(store: CommitStore | None) -> Iterator[None]:
    """Repositories opened inside this block use `store` unless given another."""
    token = ACTIVE_STORE.set(store)
    try:
        yield
    finally:
        ACTIVE_STORE.reset(token)
