"""Which commit `drift explain COMMIT` means: a full or short id, or words of its subject.

Looked up among the change graph's commits (outside the common base, named by findings, or
an environment tip). A query that matches commits of several changes is an error listing
them; one the graph cannot answer is explained by asking the repository why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import networkx as nx  # type: ignore[import-untyped, unused-ignore]

from drift.errors import DriftError
from drift.graph import commit_node
from drift.graph_io import change_of, node_id

if TYPE_CHECKING:
    from drift.audit import Analysis

_HEX = re.compile(r"[0-9a-f]{4,40}")
_CANDIDATES = 6


def resolve(graph: nx.MultiDiGraph, query: str, elsewhere: Callable[[str], str]) -> str:
    """The commit a query names: a full or short id, else words of its subject.

    Ids and subjects are looked up among the graph's commits. Several commits of one
    change are one answer; several changes are an error listing them. `elsewhere(query)`
    gives the sentence for a query the graph cannot answer (a commit in the common base,
    on no environment, or nothing at all).
    """
    text = query.strip()
    if not text:
        raise DriftError("explain: name a commit by its id or by words of its subject")
    commits = sorted(node_id(n) for n, d in graph.nodes(data=True) if d["type"] == "commit")
    if _HEX.fullmatch(text.lower()):
        found = [c for c in commits if c.startswith(text.lower())]
        if found:
            return _one(graph, text, found, "id")
    needle = text.casefold()
    subjects = {c: str(graph.nodes[commit_node(c)]["subject"]).casefold() for c in commits}
    exact = [c for c in commits if subjects[c] == needle]
    found = exact or [c for c in commits if needle in subjects[c]]
    if found:
        return _one(graph, text, found, "subject")
    raise DriftError(elsewhere(text))


def outside_graph(analysis: Analysis) -> Callable[[str], str]:
    """The error sentence for a query no commit of the graph answers, asked of the repository."""
    names = ", ".join(env.name for env in analysis.chain.envs)

    def sentence(query: str) -> str:
        if _HEX.fullmatch(query.lower()):
            found, why = analysis.repo.lookup_commit(query.lower())
            if found is not None:
                what = f"{found[:10]} ({analysis.repo.commit(found).subject})"
                if analysis.history is not None and analysis.history.in_common_base(found):
                    return (
                        f"{what} is in the common base of {names}: every environment has had "
                        "it since before they diverged, so it has no drift to explain"
                    )
                return f"{what} is on no environment branch ({names})"
            if why == "ambiguous":
                return f"'{query}' names several objects of this repository; give more digits"
        return (
            f"no commit outside the common base of {names} matches '{_shown(query)}' by id or "
            "subject"
        )

    return sentence


def _one(graph: nx.MultiDiGraph, query: str, found: list[str], how: str) -> str:
    """One answer per change (a commit outside any change is its own answer)."""
    answers: dict[str, str] = {}
    for commit_id in found:
        change = change_of(graph, commit_id)
        answers.setdefault(change or commit_id, commit_id)
    if len(answers) == 1:
        return next(iter(answers.values()))
    listed = "; ".join(
        f"{c[:10]} {graph.nodes[commit_node(c)]['subject']}"
        for c in sorted(answers.values())[:_CANDIDATES]
    )
    more = f" (and {len(answers) - _CANDIDATES} more)" if len(answers) > _CANDIDATES else ""
    what = "changes" if all(change_of(graph, c) for c in answers.values()) else "commits"
    raise DriftError(
        f"'{_shown(query)}' matches {len(answers)} different {what} by {how}: {listed}{more}; "
        "name one by its id"
    )


def _shown(query: str, limit: int = 80) -> str:
    """A query as an error message repeats it: whole when short, else its start (a pasted
    page of text once came back whole in a one-line error)."""
    return query if len(query) <= limit else f"{query[: limit - 3]}..."
