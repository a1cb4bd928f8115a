"""git's commit-graph file, read directly: each commit's tree, parents and time without
inflating the commit from the pack.

Release identity reads every first-parent commit of the upstream lines inside the common
base (230k commits at 300k): through libgit2 that is 5-8 us a commit, the largest single cost
of a cold audit. A repository that `git gc`, `git maintenance` or `git commit-graph write`
has run in keeps those facts in `objects/info/commit-graph` (or a split chain under
`objects/info/commit-graphs/`), about 1 us a commit read here. libgit2 1.9 has a reader
but pygit2 does not expose it.

The file describes immutable commits, so a graph older than the branches is still right about
every commit it holds; commits newer than it are read through libgit2. Anything unexpected in
the file (another version or hash, a wrong checksum, a cut or overlapping chunk, a position out
of range) means the graph is not used, as when there is none. It is mapped read-only, never
copied: forked children share its pages. Format: git's Documentation/gitformat-commit-graph.txt.
"""

from __future__ import annotations

import hashlib
import mmap
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

_SIGNATURE = b"CGPH"
_HASH = 20  # SHA-1: object-id version 1
_WIDTH = _HASH + 16  # one CDAT entry: tree, two parents, generation and time
_NO_PARENT = 0x70000000
_EXTRA_EDGES = 0x80000000
_LAST_EDGE = 0x80000000
_ENTRY = struct.Struct(">20sIIII")


class LineCommit(NamedTuple):
    """What a first-parent walk needs of a commit (a tuple: made once per commit of lines tens
    of thousands of commits long, where a frozen dataclass cost twice as much)."""

    id: str
    tree: str
    time: int
    parents: tuple[str, ...]


class GraphError(Exception):
    """The graph says something impossible (a position out of range): do not trust it."""

    def __init__(self, why: str, at: str | None = None) -> None:
        super().__init__(why)
        self.at = at
        """The commit whose entry could not be read, when a walk had begun."""


class _Layer:
    """One file of the graph: its commits are positions [first, first + count)."""

    __slots__ = ("count", "data", "edges", "fanout", "first", "oids")

    def __init__(self, data: bytes | mmap.mmap, first: int, bases: int) -> None:
        if len(data) < 8 + 12 + _HASH or data[:4] != _SIGNATURE:
            raise GraphError("not a commit-graph file")
        version, hash_version, chunks, base_count = data[4], data[5], data[6], data[7]
        if version != 1 or hash_version != 1 or base_count != bases:
            raise GraphError("a commit-graph this reader does not know")
        if hashlib.sha1(memoryview(data)[:-_HASH]).digest() != data[-_HASH:]:
            raise GraphError("a commit-graph whose checksum is wrong")  # git's own, not ours
        table: dict[bytes, tuple[int, int]] = {}
        end_of_table = 8 + 12 * (chunks + 1)
        limit = len(data) - _HASH  # the trailing checksum
        for i in range(chunks):
            at = 8 + 12 * i
            name = data[at : at + 4]
            start = int.from_bytes(data[at + 4 : at + 12], "big")
            stop = int.from_bytes(data[at + 16 : at + 24], "big")
            if not end_of_table <= start <= stop <= limit:
                raise GraphError("a chunk outside the file")
            table[name] = (start, stop)
        for needed in (b"OIDF", b"OIDL", b"CDAT"):
            if needed not in table:
                raise GraphError(f"no {needed.decode()} chunk")
        start, stop = table[b"OIDF"]
        if stop - start != 256 * 4:
            raise GraphError("a fan-out of the wrong size")
        self.fanout: tuple[int, ...] = struct.unpack_from(">256I", data, start)
        self.count = self.fanout[255]
        if any(a > b for a, b in zip(self.fanout, self.fanout[1:], strict=False)):
            raise GraphError("a fan-out that goes down")
        start, stop = table[b"OIDL"]
        if stop - start != self.count * _HASH:
            raise GraphError("an object-id list of the wrong size")
        self.oids = memoryview(data)[start:stop]
        start, stop = table[b"CDAT"]
        if stop - start != self.count * _WIDTH:
            raise GraphError("commit data of the wrong size")
        self.data = memoryview(data)[start:stop]
        start, stop = table.get(b"EDGE", (0, 0))
        self.edges = memoryview(data)[start:stop]
        self.first = first

    def local(self, raw: bytes) -> int | None:
        """This layer's index of a commit, by binary search in its fan-out bucket."""
        low = self.fanout[raw[0] - 1] if raw[0] else 0
        high = self.fanout[raw[0]]
        oids = self.oids
        while low < high:
            mid = (low + high) // 2
            found = bytes(oids[mid * _HASH : mid * _HASH + _HASH])
            if found < raw:
                low = mid + 1
            elif found > raw:
                high = mid
            else:
                return mid
        return None


def _mapped(path: Path) -> mmap.mmap:
    """The file mapped read-only: the forked children share its pages (18 MB at 300k
    commits), where reading it would copy it into each process."""
    with path.open("rb") as handle:
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


class CommitGraph:
    """The commits a repository's commit-graph holds, by global position (base layer
    first, as git numbers them)."""

    def __init__(self, layers: list[_Layer]) -> None:
        self._layers = layers
        self.count = sum(layer.count for layer in layers)
        self._oids: memoryview | bytes
        self._data: memoryview | bytes
        if len(layers) == 1:  # views of the mapped file: nothing copied, pages shared
            self._oids, self._data = layers[0].oids, layers[0].data
        else:
            self._oids = b"".join(layer.oids for layer in layers)
            self._data = b"".join(layer.data for layer in layers)

    @classmethod
    def open(cls, objects_dir: Path) -> CommitGraph | None:
        """The graph git would read (a single file first, else a split chain), or None when
        there is none or it cannot be trusted."""
        info = objects_dir / "info"
        try:
            single = info / "commit-graph"
            if single.is_file():
                return cls([_Layer(_mapped(single), 0, 0)])
            chain = info / "commit-graphs" / "commit-graph-chain"
            if not chain.is_file():
                return None
            layers: list[_Layer] = []
            names = chain.read_text(encoding="ascii").split()
            for bases, name in enumerate(names):
                if len(name) != 2 * _HASH or not all(c in "0123456789abcdef" for c in name):
                    return None
                data = _mapped(info / "commit-graphs" / f"graph-{name}.graph")
                first = sum(layer.count for layer in layers)
                layers.append(_Layer(data, first, bases))
            return cls(layers) if layers else None
        except (OSError, ValueError, GraphError, struct.error):  # ValueError: an empty file
            return None

    def position(self, commit_id: str) -> int | None:
        """The commit's global position, or None when the graph does not hold it."""
        try:
            raw = bytes.fromhex(commit_id)
        except ValueError:
            return None
        if len(raw) != _HASH:
            return None
        for layer in self._layers:
            local = layer.local(raw)
            if local is not None:
                return layer.first + local
        return None

    def line_trees(self, position: int, found: dict[str, tuple[int, str]]) -> None:
        """Add the first-parent line from `position` to `found`, as
        GitRepository.line_trees does (tree -> earliest (time, commit); a merge's other
        parents at the merge's time). Raises GraphError on a position out of range."""
        data, oids, entry, count = self._data, self._oids, _ENTRY.unpack_from, self.count
        known = found.get
        try:
            while True:
                tree_raw, parent, other, high, low = entry(data, position * _WIDTH)
                when = ((high & 3) << 32) | low
                seen = (when, oids[position * _HASH : position * _HASH + _HASH].hex())
                tree = tree_raw.hex()
                first = known(tree)
                if first is None or seen < first:
                    found[tree] = seen
                if other != _NO_PARENT:
                    for merged in self._others(position, other):
                        brought = (when, oids[merged * _HASH : merged * _HASH + _HASH].hex())
                        tree = data[merged * _WIDTH : merged * _WIDTH + _HASH].hex()
                        first = known(tree)
                        if first is None or brought < first:
                            found[tree] = brought
                if parent == _NO_PARENT:
                    return
                if parent >= count:
                    raise GraphError("a parent position out of range")
                position = parent
        except struct.error as exc:
            raise GraphError("a position out of range") from exc

    def first_parent_walk(self, position: int) -> Iterator[LineCommit]:
        """The first-parent line from `position`, as GitRepository.first_parent_walk gives it.
        Raises GraphError naming the commit it could not go on from (nothing wrong is
        yielded: every position is checked before its commit is)."""
        data, oids, entry, count = self._data, self._oids, _ENTRY.unpack_from, self.count
        while True:
            commit = oids[position * _HASH : position * _HASH + _HASH].hex()
            tree_raw, parent, other, high, low = entry(data, position * _WIDTH)
            parents: tuple[str, ...] = ()
            try:
                if parent != _NO_PARENT:
                    if parent >= count:
                        raise GraphError("a parent position out of range")
                    parents = (oids[parent * _HASH : parent * _HASH + _HASH].hex(),)
                    if other != _NO_PARENT:
                        parents += tuple(
                            oids[p * _HASH : p * _HASH + _HASH].hex()
                            for p in self._others(position, other)
                        )
            except GraphError as exc:
                raise GraphError(str(exc), commit) from exc
            yield LineCommit(commit, tree_raw.hex(), ((high & 3) << 32) | low, parents)
            if parent == _NO_PARENT:
                return
            position = parent

    def _others(self, position: int, other: int) -> list[int]:
        """A merge's parents after the first: the second, or an octopus's from EDGE."""
        if not other & _EXTRA_EDGES:
            if other >= self.count:
                raise GraphError("a parent position out of range")
            return [other]
        layer = next(lay for lay in self._layers if position < lay.first + lay.count)
        out: list[int] = []
        at = (other & ~_EXTRA_EDGES) * 4
        while True:
            if at + 4 > len(layer.edges):
                raise GraphError("an edge list out of range")
            value = int.from_bytes(layer.edges[at : at + 4], "big")
            merged = value & ~_LAST_EDGE
            if merged >= self.count:
                raise GraphError("a parent position out of range")
            out.append(merged)
            if value & _LAST_EDGE:
                return out
            at += 4
