"""Disjoint sets over commit ids: how grouping turns pairwise links into changes."""

from __future__ import annotations


class UnionFind:
    """Union-find with path halving; groups come out in first-seen order (deterministic)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        """The representative of `item`'s set (adding `item` as a singleton if new)."""
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: str, b: str) -> None:
        """Merge the sets of `a` and `b`."""
        self.parent[self.find(a)] = self.find(b)

    def groups(self) -> list[list[str]]:
        """Every set, as a list of its members."""
        out: dict[str, list[str]] = {}
        for item in self.parent:
            out.setdefault(self.find(item), []).append(item)
        return list(out.values())
