"""The persistent per-commit cache: commits' metadata, file changes, patch ids, the
first-parent lines' trees, re-merges, the lines `similar` reads and the listings of the
folders the delivery scan reads, in SQLite, between runs.

A commit id names the commit's content, so what drift derives from one commit alone never
goes stale; only drift's way of deriving it can change, and `CACHE_VERSION` is raised when
it does. The file is checked when first used (SQLite's quick_check, the format name, the
version, the tables); a corrupt or foreign file is deleted and rebuilt, never trusted. A run
the report cache answers never uses it, and never pays that check (0.07 s on the 30 MB file
of a 300k-commit repository). Every row is validated when read; a bad row is a miss. Any
database error mid-run turns the cache off for the rest of the run: the audit never depends
on it.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pygit2

from drift import commits
from drift.commits import CommitInfo
from drift.git import blobs, commit_info, line_trees, merges, patchid, treediff
from drift.git.blobs import FileLines
from drift.git.line_trees import LineTrees
from drift.git.merges import Remerge
from drift.git.store import FolderListing
from drift.git.treediff import FileChange
from drift.sources import add_sources

FORMAT = "drift-commit-cache"
CACHE_VERSION = 1
FILENAME = f"commits-v{CACHE_VERSION}.sqlite3"
_OID = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE changes (id TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE patch_ids (id TEXT NOT NULL, inverse INTEGER NOT NULL, value TEXT, "
    "PRIMARY KEY (id, inverse)) WITHOUT ROWID",
    "CREATE TABLE line_trees (start TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE remerges (id TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE similar_lines (id TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE line_answers (start TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE commit_infos (newest INTEGER NOT NULL, data BLOB NOT NULL)",
    "CREATE INDEX commit_infos_by_newest ON commit_infos (newest)",
    "CREATE TABLE line_infos (start TEXT PRIMARY KEY, rest TEXT, data BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE folders (folder TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID",
)
_TABLES = {
    "meta",
    "changes",
    "patch_ids",
    "line_trees",
    "remerges",
    "similar_lines",
    "line_answers",
    "commit_infos",
    "line_infos",
    "folders",
}
_MAX_LINES_ROW = 256 * 1024
"""A commit whose changed lines take more is read again next time: blobs.py caps what one
commit reads at 2 MB, and a few such commits must not make the file grow by as much each."""
_CHUNK = 500
"""Ids per read-ahead query (SQLite allows 999 parameters before 3.32)."""


def code_version() -> str:
    """CACHE_VERSION and a digest of the code that derives the cached results.

    Raising CACHE_VERSION by hand is for changes of the file layout; the digest makes any
    edit of the tree diff or the patch-id code invalidate old rows even when nobody
    remembers to raise it.
    """
    digest = hashlib.sha1("\n".join(_SCHEMA).encode())  # a new table is a new layout
    digest.update(pygit2.LIBGIT2_VERSION.encode())  # re-merges are libgit2's merges
    add_sources(digest, (treediff, patchid, merges, blobs, line_trees, commit_info, commits))
    return f"{CACHE_VERSION}:{digest.hexdigest()[:12]}"


def default_cache_dir() -> Path:
    """The user cache directory: XDG on Linux, Library/Caches on macOS, LOCALAPPDATA."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "drift"
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "drift" / "Cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "drift"


class CommitCache:
    """A `drift.git.store.CommitStore` backed by one SQLite file; `close()` saves new rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.notes: list[str] = []
        self._conn: sqlite3.Connection | None = None
        self._unopened = True
        """Opened lazily: the file is checked and connected on first use."""
        self._new_changes: dict[str, str] = {}
        self._new_ids: dict[tuple[str, int], str | None] = {}
        self._new_lines: dict[str, bytes] = {}
        self._new_answers: dict[str, bytes] = {}
        self._new_remerges: dict[str, str] = {}
        self._new_similar: dict[str, bytes] = {}
        self._new_infos: list[CommitInfo] = []
        self._new_line_infos: dict[str, tuple[str | None, bytes]] = {}
        self._new_folders: dict[str, bytes] = {}
        self._ahead: set[str] = set()
        """Commits whose rows were read ahead: a commit here and not below is a miss."""
        self._ahead_changes: dict[str, Any] = {}
        self._ahead_ids: dict[str, Any] = {}
        self._ahead_similar: dict[str, Any] = {}
        self.hits = self.misses = 0

    @classmethod
    def open(cls, folder: Path) -> CommitCache:
        """The cache in `folder`: created, or checked and rebuilt when it cannot be trusted,
        when first used."""
        return cls(folder / FILENAME)

    def _connection(self) -> sqlite3.Connection | None:
        if self._unopened:
            self._unopened = False
            self._conn = _open(self.path, self.notes)
        return self._conn

    # -- the CommitStore protocol ----------------------------------------------------
    def prefetch(self, commit_ids: list[str]) -> None:
        """Read the changes, patch-id and changed-lines rows of many commits in queries of
        `_CHUNK` ids (at 100k commits, 11,500 lookups of one row each took 0.10 s)."""
        ids = [c for c in dict.fromkeys(commit_ids) if c not in self._ahead]
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            changes = self._all(f"SELECT id, data FROM changes WHERE id IN ({marks})", chunk)
            pids = self._all(
                f"SELECT id, value FROM patch_ids WHERE inverse = 0 AND id IN ({marks})", chunk
            )
            similar = self._all(f"SELECT id, data FROM similar_lines WHERE id IN ({marks})", chunk)
            if changes is None or pids is None or similar is None:
                return
            self._ahead_changes.update(changes)
            self._ahead_ids.update(pids)
            self._ahead_similar.update(similar)
            self._ahead.update(chunk)

    def changes(self, commit_id: str) -> list[FileChange] | None:
        """Stored file changes, validated; None on a miss or a bad row."""
        if commit_id in self._ahead:
            data = self._ahead_changes.pop(commit_id, None)
            decoded = _decode_changes(data) if data is not None else None
            self._count(decoded is not None)
            return decoded
        row = self._one("SELECT data FROM changes WHERE id = ?", (commit_id,))
        decoded = _decode_changes(row[0]) if row is not None else None
        self._count(decoded is not None)
        return decoded

    def put_changes(self, commit_id: str, changes: list[FileChange]) -> None:
        """Queue a commit's file changes for saving."""
        self._new_changes[commit_id] = _encode_changes(changes)

    def patch_id(self, commit_id: str, inverse: bool = False) -> tuple[str | None] | None:
        """`(patch id,)` when stored and well-formed, else None."""
        if not inverse and commit_id in self._ahead:
            row = (self._ahead_ids[commit_id],) if commit_id in self._ahead_ids else None
        else:
            row = self._one(
                "SELECT value FROM patch_ids WHERE id = ? AND inverse = ?",
                (commit_id, int(inverse)),
            )
        ok = row is not None and (row[0] is None or _is_oid(row[0]))
        self._count(ok)
        return (row[0],) if ok and row is not None else None

    def put_patch_id(self, commit_id: str, value: str | None, inverse: bool = False) -> None:
        """Queue a patch id for saving."""
        self._new_ids[(commit_id, int(inverse))] = value

    def line_trees(self, start: str) -> LineTrees | None:
        """A first-parent line's trees, checked by digest and shape; None on a miss. A row
        that stops at another row's start is chained to that row's line: the whole chain is
        read, and any bad or missing link (or more than `MAX_CHAIN` rows) is a miss."""
        first: LineTrees | None = None
        last: LineTrees | None = None
        cursor: str | None = start
        for _ in range(line_trees.MAX_CHAIN):
            row = self._one("SELECT data FROM line_trees WHERE start = ?", (cursor,))
            decoded = _decode_line_trees(row[0]) if row is not None else None
            self._count(decoded is not None)
            if decoded is None:
                return None
            if last is None:
                first = decoded
            else:
                last.chained(decoded)
            last, cursor = decoded, decoded.stop
            if cursor is None:
                return first
        return None

    def put_line_trees(self, start: str, trees: LineTrees) -> None:
        """Queue a line's trees for saving: a chained line as its first segment and where it
        stops (the rest is stored under that start), one too long to be read back
        (`MAX_CHAIN`) as one merged segment."""
        if trees.depth >= line_trees.MAX_CHAIN:
            trees = trees.merged()
        self._new_lines[start] = _encode_line_trees(trees)

    def line_tree_starts(self) -> frozenset[str]:
        """Where stored lines begin (one small query: a row per line start ever read)."""
        rows = self._rows("SELECT start FROM line_trees", ())
        return frozenset(str(row[0]) for row in rows or ())

    def has_line_trees(self, start: str) -> bool:
        """Whether a line's trees are stored, without reading them (checked when read)."""
        return self._one("SELECT 1 FROM line_trees WHERE start = ?", (start,)) is not None

    def line_answers(self, start: str) -> dict[str, tuple[int, str] | None] | None:
        """The answers kept of a line's lookups, checked by digest and shape; None on a miss."""
        row = self._one("SELECT data FROM line_answers WHERE start = ?", (start,))
        decoded = _decode_answers(row[0]) if row is not None else None
        self._count(decoded is not None)
        return decoded

    def put_line_answers(self, start: str, answers: dict[str, tuple[int, str] | None]) -> None:
        """Queue the answers of a line's lookups for saving."""
        self._new_answers[start] = _sealed(answers)

    def remerge(self, merge_id: str, context: str) -> Remerge | None:
        """A merge's stored re-merge, if stored under this context and well-formed."""
        row = self._one("SELECT data FROM remerges WHERE id = ?", (merge_id,))
        decoded = _decode_remerge(row[0], context) if row is not None else None
        self._count(decoded is not None)
        return decoded

    def put_remerge(self, merge_id: str, context: str, result: Remerge) -> None:
        """Queue a merge's re-merge for saving."""
        self._new_remerges[merge_id] = json.dumps(
            [context, list(result.conflicted), list(result.differing)], separators=(",", ":")
        )

    def lines(self, commit_id: str) -> list[FileLines] | None:
        """A commit's stored changed lines, checked by digest and shape; None on a miss."""
        if commit_id in self._ahead:
            data = self._ahead_similar.pop(commit_id, None)
        else:
            row = self._one("SELECT data FROM similar_lines WHERE id = ?", (commit_id,))
            data = row[0] if row is not None else None
        decoded = _decode_lines(data) if data is not None else None
        self._count(decoded is not None)
        return decoded

    def put_lines(self, commit_id: str, lines: list[FileLines]) -> None:
        """Queue a commit's changed lines for saving, unless they are too large to keep."""
        row = _sealed([tuple(f) for f in lines])
        if len(row) <= _MAX_LINES_ROW:
            self._new_similar[commit_id] = row

    def commit_infos_since(self, time: int) -> StoredInfos:
        """Stored commits committed at or after `time` (`_infos_since`)."""
        return _infos_since(self._rows, time)

    def put_commit_infos(self, infos: list[CommitInfo]) -> None:
        """Queue commits' metadata for saving (one row for all of this run's)."""
        self._new_infos.extend(infos)

    def line_info_starts(self) -> set[str]:
        """Where stored described lines begin (one small query)."""
        rows = self._rows("SELECT start FROM line_infos", ())
        return {str(row[0]) for row in rows or ()}

    def line_infos(self, start: str) -> tuple[list[CommitInfo], str | None] | None:
        """A described line's metadata, checked by digest, shape and links; None on a miss."""
        row = self._one("SELECT rest, data FROM line_infos WHERE start = ?", (start,))
        decoded = _decode_line_infos(start, row[0], row[1]) if row is not None else None
        self._count(decoded is not None)
        return decoded

    def put_line_infos(self, start: str, infos: list[CommitInfo], rest: str | None) -> None:
        """Queue a described line for saving."""
        self._new_line_infos[start] = (rest, _sealed([c.fields() for c in infos]))

    def folders(self, folders: list[str], context: str) -> dict[str, FolderListing]:
        """Folders' stored listings, each checked by digest, context and shape, in queries of
        `_CHUNK` folders (drift.delivery.files asks about the subfolders of a folder at once)."""
        found: dict[str, FolderListing] = {}
        for start in range(0, len(folders), _CHUNK):
            chunk = folders[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._all(f"SELECT folder, data FROM folders WHERE folder IN ({marks})", chunk)
            for folder, data in (rows or {}).items():
                decoded = _decode_folder(data, folder, context)
                if decoded is not None:
                    found[folder] = decoded
        self.hits += len(found)
        self.misses += len(folders) - len(found)
        return found

    def put_folder(self, folder: str, context: str, listing: FolderListing) -> None:
        """Queue a folder's listing for saving."""
        self._new_folders[folder] = _sealed((context, listing))

    def infos_for_child(self) -> ChildReader | None:
        """A reader for a child about to be forked: the file is checked (or rebuilt) here
        first, as this process would on first use, so the child only reads."""
        return ChildReader(self.path) if self._connection() is not None else None

    # -- lifetime --------------------------------------------------------------------
    def close(self) -> None:
        """Save the rows this run computed (one transaction) and close the file."""
        new = (
            self._new_changes
            or self._new_ids
            or self._new_lines
            or self._new_answers
            or self._new_remerges
            or self._new_similar
            or self._new_infos
            or self._new_line_infos
            or self._new_folders
        )
        if self._unopened and not new:
            self._unopened = False  # never used: nothing to check or save
            return
        conn = self._connection()
        if conn is None:
            return
        try:
            with conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO changes VALUES (?, ?)", self._new_changes.items()
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO patch_ids VALUES (?, ?, ?)",
                    [(cid, inv, value) for (cid, inv), value in self._new_ids.items()],
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO line_trees VALUES (?, ?)", self._new_lines.items()
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO line_answers VALUES (?, ?)", self._new_answers.items()
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO remerges VALUES (?, ?)", self._new_remerges.items()
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO similar_lines VALUES (?, ?)", self._new_similar.items()
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO line_infos VALUES (?, ?, ?)",
                    [(start, rest, data) for start, (rest, data) in self._new_line_infos.items()],
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO folders VALUES (?, ?)", self._new_folders.items()
                )
                if self._new_infos:
                    conn.execute(
                        "INSERT INTO commit_infos VALUES (?, ?)", _encode_infos(self._new_infos)
                    )
        except sqlite3.Error as exc:
            self.notes.append(f"cache {self.path} could not be saved ({exc})")
        finally:
            conn.close()
            self._conn = None

    def __enter__(self) -> CommitCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _all(self, sql: str, params: list[str]) -> dict[str, Any] | None:
        """The (id, value) rows of a query; None when the cache failed."""
        rows = self._rows(sql, params)
        return None if rows is None else dict(rows)

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]] | None:
        """A query's rows; None when there is no cache, or it failed (then it is turned off)."""
        conn = self._connection()
        if conn is None:
            return None
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            self.notes.append(f"cache {self.path} failed mid-run ({exc}): turned off")
            conn.close()
            self._conn = None
            return None

    def _count(self, hit: bool) -> None:
        if hit:
            self.hits += 1
        else:
            self.misses += 1


class ChildReader:
    """What a forked child reads of the cache: stored commits' metadata, through a read-only
    connection of its own (SQLite's connections must not cross a fork). It saves nothing:
    the metadata it is given to keep goes back to the parent (`taken`), whose cache saves it.
    A failure is a miss: the child reads the object store instead."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._taken: list[CommitInfo] = []

    def commit_infos_since(self, time: int) -> StoredInfos:
        """As `CommitCache.commit_infos_since`."""
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        except sqlite3.Error:
            return StoredInfos({})
        try:

            def rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]] | None:
                try:
                    return conn.execute(sql, params).fetchall()
                except sqlite3.Error:
                    return None

            return _infos_since(rows, time)
        finally:
            conn.close()

    def put_commit_infos(self, infos: list[CommitInfo]) -> None:
        """Hold them for the parent."""
        self._taken.extend(infos)

    def taken(self) -> list[CommitInfo]:
        """What `put_commit_infos` was given."""
        return self._taken


class StoredInfos:
    """Stored commits' metadata by id, each entry checked when first asked for (a walk asks
    for most, but not all): a bad entry is a miss, and the commit is read from the object
    store."""

    def __init__(self, entries: dict[str, tuple[Any, ...]]) -> None:
        self._entries = entries

    def get(self, commit_id: str, /) -> CommitInfo | None:
        """The commit's metadata, if stored and well-formed."""
        entry = self._entries.get(commit_id)
        return None if entry is None else _decode_info(entry)


def _encode_infos(infos: list[CommitInfo]) -> tuple[int, bytes]:
    """One row for many commits: (their newest commit time, sealed entries). One digest and
    one marshal call for all: per commit, they cost a loading child 5-7 us, as long as
    reading the commit from the object store."""
    entries = [c.fields() for c in infos]
    return max(c.commit_time for c in infos), _sealed(entries)


def _infos_since(
    rows: Callable[[str, Sequence[Any]], list[tuple[Any, ...]] | None], time: int
) -> StoredInfos:
    """The entries of every row holding a commit committed at or after `time`; a row whose
    digest or shape is wrong is left out whole."""
    found = rows("SELECT data FROM commit_infos WHERE newest >= ?", (time,))
    entries: dict[str, tuple[Any, ...]] = {}
    for (data,) in found or ():
        batch = _unsealed(data)
        if type(batch) is not list:
            continue
        for entry in batch:
            if type(entry) is tuple and len(entry) == 8 and type(entry[0]) is str:
                when = entry[6]
                if type(when) is int and when >= time:
                    entries[entry[0]] = entry
    return StoredInfos(entries)


def _decode_info(entry: tuple[Any, ...]) -> CommitInfo | None:
    """An entry's shape: (id, parents, tree, author name, author email, author time, commit
    time, message), as drift.git.commit_info decodes them. Types only: the row's digest
    vouches for its content (ids checked by pattern cost a loading child 0.05 s at 100k)."""
    commit_id, parents, tree, name, email, author_time, _, message = entry
    if (
        type(commit_id) is str
        and type(parents) is tuple
        and type(tree) is str
        and type(name) is str
        and type(email) is str
        and type(author_time) is int
        and type(message) is str
        and all(type(p) is str for p in parents)
    ):
        return CommitInfo(*entry)
    return None


def _decode_line_infos(
    start: str, rest: Any, data: Any
) -> tuple[list[CommitInfo], str | None] | None:
    """A sealed row (`_unsealed`) of entries (`_decode_info`) that is the first-parent line
    from `start` down to `rest`: each entry's first parent is the next one's id, the last's
    is `rest` (or it has none, and `rest` is None)."""
    entries = _unsealed(data)
    if type(entries) is not list or not entries or not (rest is None or _is_oid(rest)):
        return None
    infos: list[CommitInfo] = []
    expected: str | None = start
    for entry in entries:
        info = _decode_info(entry) if type(entry) is tuple and len(entry) == 8 else None
        if info is None or info.id != expected:
            return None
        infos.append(info)
        expected = info.parents[0] if info.parents else None
    return (infos, rest) if expected == rest else None


def _open(path: Path, notes: list[str]) -> sqlite3.Connection | None:
    """Connect to the cache file, rebuilding it when it cannot be trusted; None when the
    folder cannot hold it (the audit then runs without a cache)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        problem = _check(path) if path.exists() else None
        if problem is not None:
            notes.append(f"cache {path} {problem}: rebuilt")
            for stale in (path, Path(f"{path}-journal"), Path(f"{path}-wal")):
                stale.unlink(missing_ok=True)
        conn = _connect(path)
        if problem is not None or not _tables(conn):
            _create(conn)
    except (OSError, sqlite3.Error) as exc:
        notes.append(f"cache {path} cannot be used ({exc}): running without it")
        return None
    return conn


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=10)
    conn.execute("PRAGMA journal_mode=DELETE")
    return conn


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {str(r[0]) for r in rows}


def _create(conn: sqlite3.Connection) -> None:
    with conn:
        for statement in _SCHEMA:
            conn.execute(statement)
        conn.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("format", FORMAT), ("version", code_version())],
        )


def _check(path: Path) -> str | None:
    """Why an existing file cannot be trusted as this cache, or None."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            if conn.execute("PRAGMA quick_check").fetchone() != ("ok",):
                return "is corrupt"
            tables = _tables(conn)
            meta = (
                dict(conn.execute("SELECT key, value FROM meta").fetchall())
                if "meta" in tables
                else {}
            )
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"cannot be read ({exc})"
    if meta.get("format") != FORMAT:
        return "is not a drift cache"
    if meta.get("version") != code_version():
        return f"was written by cache version {meta.get('version')}"
    if tables != _TABLES:
        return "is not a drift cache"
    return None


def _is_oid(value: Any) -> bool:
    return isinstance(value, str) and _OID.fullmatch(value) is not None


def _encode_changes(changes: list[FileChange]) -> str:
    rows = [[c.path.hex(), c.old_mode, c.old_id, c.new_mode, c.new_id] for c in changes]
    return json.dumps(rows, separators=(",", ":"))


def _decode_changes(text: Any) -> list[FileChange] | None:
    try:
        rows = json.loads(text)
        out = [
            FileChange(bytes.fromhex(path), old_mode, old_id, new_mode, new_id)
            for path, old_mode, old_id, new_mode, new_id in rows
        ]
    except (TypeError, ValueError):
        return None
    for change in out:
        sides = ((change.old_mode, change.old_id), (change.new_mode, change.new_id))
        for mode, oid in sides:
            if type(mode) is not int or not (oid is None if mode == 0 else _is_oid(oid)):
                return None
    return out


def _decode_remerge(text: Any, context: str) -> Remerge | None:
    """[context, conflicted paths, differing paths]; None when malformed or stored under
    another context."""
    try:
        stored, conflicted, differing = json.loads(text)
    except (TypeError, ValueError):
        return None
    paths = [*conflicted, *differing] if isinstance(conflicted, list) else None
    if stored != context or not isinstance(differing, list) or paths is None:
        return None
    if not all(type(p) is str for p in paths):
        return None
    return Remerge(tuple(conflicted), tuple(differing))


def _sealed(value: Any) -> bytes:
    """marshal data behind its SHA-256: what a row of a marshal table holds."""
    body = marshal.dumps(value)
    return hashlib.sha256(body).digest() + body


def _unsealed(blob: Any) -> Any:
    """The value of a `_sealed` row; None when the digest does not match, checked before
    decoding (marshal must never see a damaged row), or the data does not decode."""
    if not isinstance(blob, bytes) or len(blob) < 32:
        return None
    digest, body = blob[:32], blob[32:]
    if hashlib.sha256(body).digest() != digest:
        return None
    try:
        return marshal.loads(body)
    except (EOFError, ValueError, TypeError):
        return None


def _encode_line_trees(trees: LineTrees) -> bytes:
    return _sealed((trees.stop, trees.packed()))


def _decode_line_trees(blob: Any) -> LineTrees | None:
    """A sealed row (`_unsealed`), then its shape: where the segment stops (None or a commit
    id) and the segment (`LineTrees.unpacked`)."""
    value = _unsealed(blob)
    if not (type(value) is tuple and len(value) == 2):
        return None
    stop, packed = value
    if not (stop is None or (type(stop) is str and _OID.fullmatch(stop))):
        return None
    trees = LineTrees.unpacked(packed)
    if trees is not None:
        trees.stop = stop
    return trees


def _decode_answers(blob: Any) -> dict[str, tuple[int, str] | None] | None:
    """A sealed row (`_unsealed`), then its shape: tree id -> (time, commit id) or None."""
    answers = _unsealed(blob)
    if not isinstance(answers, dict):
        return None
    for tree, found in answers.items():
        if not (type(tree) is str and _OID.fullmatch(tree)):
            return None
        if found is not None and not (
            type(found) is tuple
            and len(found) == 2
            and type(found[0]) is int
            and type(found[1]) is str
            and _OID.fullmatch(found[1])
        ):
            return None
    return answers


def _decode_folder(blob: Any, folder: str, context: str) -> FolderListing | None:
    """A sealed row (`_unsealed`), then its context (the same definition of wanted files)
    and shape: (path, blob id) per wanted file and (path/, tree id) per subfolder, each right
    below the folder's own path, and None or (path, blob id) per wanted file anywhere below."""
    value = _unsealed(blob)
    if not (type(value) is tuple and len(value) == 2 and value[0] == context):
        return None
    listing = value[1]
    if not (type(listing) is tuple and len(listing) == 3):
        return None
    files, folders, whole = listing
    prefix = folder.partition(":")[2]
    right_below = (_entries(files, prefix, "file"), _entries(folders, prefix, "folder"))
    if not all(right_below) or not (whole is None or _entries(whole, prefix, "below")):
        return None
    return files, folders, whole


def _entries(entries: Any, prefix: str, kind: str) -> bool:
    """A list of (path, object id) below `prefix`: files or folders right below, or files at
    any depth."""
    if type(entries) is not list:
        return False
    for entry in entries:
        if not (type(entry) is tuple and len(entry) == 2):
            return False
        path, object_id = entry
        if not (type(path) is str and type(object_id) is str and _OID.fullmatch(object_id)):
            return False
        name = path[len(prefix) : -1 if kind == "folder" else None]
        if not (path.startswith(prefix) and path.endswith("/") == (kind == "folder") and name):
            return False
        if kind != "below" and "/" in name:
            return False
    return True


def _decode_lines(blob: Any) -> list[FileLines] | None:
    """A sealed row (`_unsealed`), then its shape: per file (path, removed lines, added
    lines, summary or None), as drift.git.blobs makes them."""
    rows = _unsealed(blob)
    if not isinstance(rows, list):
        return None
    out: list[FileLines] = []
    for row in rows:
        if not (type(row) is tuple and len(row) == 4):
            return None
        path, removed, added, summary = row
        if type(path) is not bytes or not (summary is None or type(summary) is bytes):
            return None
        for lines in (removed, added):
            if type(lines) is not tuple or not all(type(line) is bytes for line in lines):
                return None
        out.append(FileLines(path, removed, added, summary))
    return out
