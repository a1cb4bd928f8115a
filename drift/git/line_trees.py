"""A first-parent line's trees (tree id -> earliest (time, commit)), kept packed.

Release identity reads whole lines inside the common base: dev's is 230k commits at 300k,
and it is asked about one tree, the test tip's. As a dict of tuples it cost the main process
0.2 s to decode (from the child's pipe or the persistent cache) and 0.1 s more to check,
for that one lookup. Packed, it is three flat strings: the tree ids side by side, the times
as little-endian int64, the commit ids side by side. Decoding is a copy; a lookup scans the
tree ids (C speed, a few ms for 230k), and a line asked many times (staging's, once per
release of prod) is turned into a dict once, on its ninth lookup.

A line is read from where it enters the common base, and that point moves up whenever the
environments are promoted: a weekly job would read every line whole again (dev's 230k
commits) for the few hundred commits above where it began last week. So a line can be a
segment, read from its start down to the start of a line read before (`stop`), chained to
that line (`chained`): the first-parent line of the stop is the rest of this one, so the
earliest (time, commit) of a tree is the earlier of the segment's and the rest's.
"""

from __future__ import annotations

import sys
from array import array
from operator import itemgetter

SCANS = 8
"""Lookups answered by scanning before the line is turned into a dict: a scan of 230k tree
ids costs 2-4 ms, the dict 0.1-0.3 s."""

MAX_CHAIN = 16
"""Segments a stored line may be chained from: every lookup asks each of them, so a line
whose chain would grow longer is kept merged, as one segment, instead (`merged`)."""

_WIDTHS = (40, 64)  # SHA-1 and SHA-256 ids, in hex


class LineTrees:
    """Tree id -> the earliest (time, commit) carrying it along one first-parent line."""

    __slots__ = ("_commits", "_mapping", "_rest", "_scans", "_times", "_trees", "_width", "stop")

    def __init__(self, width: int, trees: str, times: bytes, commits: str) -> None:
        self._width, self._trees, self._times, self._commits = width, trees, times, commits
        self._mapping: dict[str, tuple[int, str]] | None = None
        self._scans = 0
        self._rest: LineTrees | None = None
        self.stop: str | None = None
        """Where this segment ends: the first commit below it that it does not hold, whose
        own line is the rest of this one (None: the segment runs to the root)."""

    def chained(self, rest: LineTrees) -> LineTrees:
        """This segment followed by `rest`, the line from `stop`: lookups ask both."""
        self._rest = rest
        return self

    @property
    def depth(self) -> int:
        """How many segments the line is made of."""
        return 1 + (self._rest.depth if self._rest is not None else 0)

    def merged(self) -> LineTrees:
        """The same line as one segment that runs to the root."""
        return self if self._rest is None else LineTrees.of(self.as_dict())

    @classmethod
    def of(cls, found: dict[str, tuple[int, str]]) -> LineTrees:
        """A line read here: its mapping is taken as it is (not copied: 230k entries), and
        packed only when sent or stored (`packed`)."""
        lines = cls(0, "", b"", "")
        lines._mapping = found
        return lines

    @classmethod
    def unpacked(cls, value: object) -> LineTrees | None:
        """The line `packed` made, or None when `value` is not one: the types, the widths
        and that every region holds as many entries. (The persistent cache checks its rows'
        digests first; this is the shape, as every row's decoder checks.)"""
        if not (type(value) is tuple and len(value) == 4):
            return None
        width, trees, times, commits = value
        if not (
            type(width) is int
            and type(trees) is str
            and type(times) is bytes
            and type(commits) is str
            and trees.isascii()
            and commits.isascii()
        ):
            return None
        count = len(times) // 8
        if count == 0 and not trees and not commits:
            return cls(_WIDTHS[0], "", b"", "")
        if width not in _WIDTHS or len(times) != 8 * count:
            return None
        if len(trees) != width * count or len(commits) != width * count:
            return None
        return cls(width, trees, times, commits)

    def packed(self) -> tuple[int, str, bytes, str]:
        """What `unpacked` reads back: marshal data for the child's pipe and the cache. Of a
        chained line, this segment's alone (the rest is kept where it was read from)."""
        if self._mapping is not None and not self._times and self._mapping:
            mapping = self._mapping
            width = len(next(iter(mapping)))
            values = mapping.values()
            times = array("q", map(itemgetter(0), values))
            if sys.byteorder == "big":
                times.byteswap()
            self._width, self._trees = width, "".join(mapping)
            self._times, self._commits = times.tobytes(), "".join(map(itemgetter(1), values))
        return (self._width or _WIDTHS[0], self._trees, self._times, self._commits)

    def get(self, tree: str) -> tuple[int, str] | None:
        """The earliest (time, commit) with this tree on the line, or None."""
        found = self._own(tree)
        rest = self._rest
        while rest is not None:  # a loop, not a recursion: a chain may be long
            deeper = rest._own(tree)
            if deeper is not None and (found is None or deeper < found):
                found = deeper
            rest = rest._rest
        return found

    def _own(self, tree: str) -> tuple[int, str] | None:
        if self._mapping is None:
            self._scans += 1
            if self._scans <= SCANS:
                return self._scan(tree)
            self._mapping = self._segment()
        return self._mapping.get(tree)

    def as_dict(self) -> dict[str, tuple[int, str]]:
        """The whole mapping, segments merged (a copy when it is kept as one)."""
        found = self._segment() if self._mapping is None else dict(self._mapping)
        rest = self._rest
        while rest is not None:
            for tree, deeper in (rest._mapping or rest._segment()).items():
                first = found.get(tree)
                if first is None or deeper < first:
                    found[tree] = deeper
            rest = rest._rest
        return found

    def _segment(self) -> dict[str, tuple[int, str]]:
        """This segment's own mapping, decoded from its packed form."""
        if self._mapping is not None:
            return dict(self._mapping)
        width, trees, commits = self._width, self._trees, self._commits
        times = array("q")
        times.frombytes(self._times)
        if sys.byteorder == "big":
            times.byteswap()
        keys = [trees[at : at + width] for at in range(0, len(trees), width)]
        ids = [commits[at : at + width] for at in range(0, len(commits), width)]
        return dict(zip(keys, zip(times.tolist(), ids, strict=True), strict=True))

    def __len__(self) -> int:
        if self._rest is not None:
            return len(self.as_dict())
        if self._mapping is not None:
            return len(self._mapping)
        return len(self._times) // 8

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LineTrees):
            return self.as_dict() == other.as_dict()
        if isinstance(other, dict):
            return self.as_dict() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LineTrees({len(self)} trees)"

    def _scan(self, tree: str) -> tuple[int, str] | None:
        width, trees = self._width, self._trees
        if len(tree) != width:
            return None
        at = trees.find(tree)
        while at >= 0 and at % width:  # a match across two ids: look on
            at = trees.find(tree, at + 1)
        if at < 0:
            return None
        index = at // width
        when = int.from_bytes(self._times[8 * index : 8 * index + 8], "little", signed=True)
        return when, self._commits[at : at + width]
