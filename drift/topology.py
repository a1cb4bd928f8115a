"""How environments feed each other: a chain, or a tree of release lines.

A chain (`dev -> test -> prod`) is the tree in which every environment has the previous one
as its upstream. Legacy repositories often keep several maintenance lines below one main line
(`main -> release/1.x`, `main -> release/2.x`); the questions are the same, asked per edge.
Every finding that findings.md defines "per adjacent pair" is defined per edge here, and
"upstream of" / "downstream of" mean ancestor / descendant in the tree. Environments are kept
in topological order (an upstream before everything below it), so index order still means
"more upstream first" wherever two environments are on one path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Topology:
    """Upstream links by index: `parent[i]` is the environment `i` is fed from (None: a root)."""

    names: tuple[str, ...]
    parent: tuple[int | None, ...]

    @classmethod
    def of(cls, names: Sequence[str], upstreams: Sequence[str | None]) -> Topology:
        """From names and upstream names; an upstream must come earlier in the list."""
        index: dict[str, int] = {}
        parent: list[int | None] = []
        for i, (name, up) in enumerate(zip(names, upstreams, strict=True)):
            if up is not None and up not in index:
                raise ValueError(f"{name}: upstream {up!r} is not an earlier environment")
            parent.append(None if up is None else index[up])
            index[name] = i
        return cls(tuple(names), tuple(parent))

    @classmethod
    def of_report(cls, environments: Sequence[Mapping[str, object]]) -> Topology:
        """From a JSON report's environments, leniently: a report written before release
        lines has no `upstream` and is a chain; an upstream that is not an environment listed
        earlier (a hand-edited report) reads as the previous one, so views can still draw it."""
        names: list[str] = []
        upstreams: list[str | None] = []
        for env in environments:
            previous = names[-1] if names else None
            upstream = env.get("upstream", previous)
            upstreams.append(upstream if upstream is None or upstream in names else previous)
            names.append(str(env["name"]))
        return cls.of(names, [None if u is None else str(u) for u in upstreams])

    @classmethod
    def chain(cls, names: Sequence[str]) -> Topology:
        """Each environment fed by the one before it."""
        return cls(tuple(names), tuple(None if i == 0 else i - 1 for i in range(len(names))))

    @property
    def is_chain(self) -> bool:
        """A single line: each environment fed by the previous one."""
        return all(p == (None if i == 0 else i - 1) for i, p in enumerate(self.parent))

    @property
    def edges(self) -> list[tuple[int, int]]:
        """(upstream, downstream) for every link, in topological order of the downstream end."""
        return [(p, i) for i, p in enumerate(self.parent) if p is not None]

    def children(self, env: int) -> list[int]:
        """Environments fed directly by `env`."""
        return [i for i, p in enumerate(self.parent) if p == env]

    def leaves(self) -> list[int]:
        """Environments that feed no other: where releases run."""
        fed = {p for p in self.parent if p is not None}
        return [i for i in range(len(self.names)) if i not in fed]

    def is_root(self, env: int) -> bool:
        """Fed by no environment: where changes are meant to start."""
        return self.parent[env] is None

    def ancestors(self, env: int) -> list[int]:
        """Every environment upstream of `env`, nearest first."""
        out: list[int] = []
        cursor = self.parent[env]
        while cursor is not None:
            out.append(cursor)
            cursor = self.parent[cursor]
        return out

    def is_upstream(self, a: int, b: int) -> bool:
        """Whether `a` is upstream of `b` (an ancestor in the tree)."""
        return a in self.ancestors(b)

    def distance(self, a: int, b: int) -> int:
        """Edges on the path between `a` and `b` (through their nearest common upstream);
        environments in different trees are as far apart as there are environments."""
        up_a, up_b = [a, *self.ancestors(a)], [b, *self.ancestors(b)]
        common = next((x for x in up_a if x in up_b), None)
        if common is None:
            return len(self.names)
        return up_a.index(common) + up_b.index(common)

    def main_path(self) -> list[int]:
        """The path from the first root to its first leaf: the whole chain for a chain; for a
        tree, the line measures that need one end-to-end path (lead time, change-fail) use."""
        path = [0]
        while kids := self.children(path[-1]):
            path.append(kids[0])
        return path

    def upstream_of(self, name: str) -> str | None:
        """The name of the environment feeding `name` (None for a root)."""
        parent = self.parent[self.names.index(name)]
        return None if parent is None else self.names[parent]

    def names_above(self, name: str) -> list[str]:
        """Names of the environments upstream of `name`, nearest first."""
        return [self.names[i] for i in self.ancestors(self.names.index(name))]

    def leaf_names(self) -> list[str]:
        """The most downstream environments: the last of a chain, every release line."""
        return [self.names[i] for i in self.leaves()]

    def describe(self, arrow: str = "->") -> str:
        """`dev -> test -> prod`, or one `upstream -> downstream` per edge for a tree."""
        if self.is_chain:
            return f" {arrow} ".join(self.names)
        return ", ".join(f"{self.names[u]} {arrow} {self.names[d]}" for u, d in self.edges)
