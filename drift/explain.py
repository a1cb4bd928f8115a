"""`drift explain`: the journey of one change through the environments, read from the graph.

Everything here is a query of the change graph (drift/graph.py): which of the change's
commits each environment holds, the edge that introduced it (`via`, `how`, `time`), the
cherry-pick and revert edges around it and the findings that name it. Nothing is
recomputed from the repository, so an explanation read from a saved graph is the same.

The JSON (`explain_version` 1): `change` (id, subject, commits, is_revert, approximate,
origin, undoes); `environments`, one row each in chain order (present, commit,
introduced_at, introduced_by, how: commit | cherry-pick | merge | base, merge, copy_of,
also, reverted_by, reapplied_by, missing: upstream | downstream); `missing`, `pending`,
`copies`, `reverted_by`, `findings` (as the graph holds them: lists joined with ","),
`notes`, `commits` (subject, author, time of each id named) and `summary` (sentences).
"""

from __future__ import annotations

from typing import Any

import networkx as nx  # type: ignore[import-untyped, unused-ignore]

from drift import __version__
from drift.graph import RESERVED, change_node, commit_node
from drift.graph_io import (
    change_of,
    edges_in,
    edges_out,
    environments,
    node_id,
    upstream_of,
)
from drift.topology import Topology

EXPLAIN_VERSION = 1
"""Raised on any breaking change of the explanation's JSON."""

# Where a change is missing, relative to the environment it started on.
UPSTREAM, DOWNSTREAM = "upstream", "downstream"
ELSEWHERE = "elsewhere"
"""Missing on a release line that is neither upstream nor downstream of the origin."""


def explain(graph: nx.MultiDiGraph, commit_id: str, query: str) -> dict[str, Any]:
    """The explanation of the change `commit_id` belongs to, as a JSON-ready dict."""
    change = change_of(graph, commit_id)
    members = _members(graph, change, commit_id)
    envs = environments(graph)
    reverted_by = _reverted_by(graph, members, envs)
    rows = [_env_row(graph, members, env, envs, reverted_by) for env in envs]
    origin = _origin(graph, members, rows)
    lines = upstream_of(graph)
    tree = Topology.of(envs, [lines[name] for name in envs])
    for row in rows:
        if not row["present"] and origin is not None:
            if origin in tree.names_above(row["name"]):
                row["missing"] = DOWNSTREAM
            elif row["name"] in tree.names_above(origin):
                row["missing"] = UPSTREAM
            else:
                row["missing"] = ELSEWHERE
    findings = _findings(graph, change, members)
    explanation: dict[str, Any] = {
        "explain_version": EXPLAIN_VERSION,
        "tool": {"name": "drift", "version": __version__},
        "repository": graph.graph.get("repository"),
        "query": query,
        "commit": commit_id,
        "change": _change(graph, change, members, origin),
        "environments": rows,
        "missing": {
            side: [r["name"] for r in rows if r["missing"] == side]
            for side in (UPSTREAM, DOWNSTREAM, ELSEWHERE)
        },
        "pending": [
            {"upstream": f["upstream"], "downstream": f["downstream"]}
            for f in findings
            if f["kind"] == "pending"
        ],
        "copies": [
            {"copy": c, "original": node_id(o), **_pick(d)}
            for c in members
            for o, d in edges_out(graph, commit_node(c), "cherry_pick_of")
        ],
        "reverted_by": reverted_by,
        "findings": findings,
        "notes": _notes(graph, change, members, commit_id),
    }
    explanation["commits"] = _commits(graph, explanation)
    explanation["summary"] = summary(explanation)
    return explanation


def _attr(graph: nx.MultiDiGraph, commit_id: str, name: str) -> Any:
    return graph.nodes[commit_node(commit_id)].get(name)


def _members(graph: nx.MultiDiGraph, change: str | None, commit_id: str) -> list[str]:
    """The change's commits, its first-introduced one first, then oldest first."""
    if change is None:
        return [commit_id]
    commits = [node_id(u) for u, _ in edges_in(graph, change_node(change), "part_of")]
    return sorted(commits, key=lambda c: (c != change, _attr(graph, c, "commit_time"), c))


def _present_in(graph: nx.MultiDiGraph, commit_id: str, envs: list[str]) -> list[str]:
    """Environments whose tip reaches the commit, in chain order."""
    if _attr(graph, commit_id, "in_base"):
        return envs
    into = {d["env"] for _, d in edges_out(graph, commit_node(commit_id), "introduced_into")}
    return [env for env in envs if env in into]


def _env_row(
    graph: nx.MultiDiGraph,
    members: list[str],
    env: str,
    envs: list[str],
    reverted_by: list[dict[str, Any]],
) -> dict[str, Any]:
    """Whether `env` has the change, as which commit, how and when it came in, what undid it."""
    row = {"name": env, **_arrival(graph, members, env)}
    row["also"] = [c for c in members if c != row["commit"] and env in _present_in(graph, c, envs)]
    undone = [r for r in reverted_by if env in r["envs"]]
    row["reverted_by"] = [r["revert"] for r in undone]
    again = [c for r in undone for c in r["undone_by"]]
    row["reapplied_by"] = [c for c in again if env in _present_in(graph, c, envs)]
    picks = edges_out(graph, commit_node(row["commit"]), "cherry_pick_of") if row["commit"] else []
    row["copy_of"] = [{"original": node_id(o), **_pick(d)} for o, d in picks]
    row["missing"] = None
    return row


def _arrival(graph: nx.MultiDiGraph, members: list[str], env: str) -> dict[str, Any]:
    """The member introduced first into `env` (ties: older, then id), and by what."""
    found = sorted(
        (
            (d["time"], _attr(graph, c, "commit_time"), c, d)
            for c in members
            for _, d in edges_out(graph, commit_node(c), "introduced_into")
            if d["env"] == env
        ),
        key=lambda item: item[:3],
    )
    base = [c for c in members if _attr(graph, c, "in_base")]
    row: dict[str, Any] = {"present": bool(found or base), "commit": None}
    row |= {"introduced_at": None, "introduced_by": None, "how": None, "merge": None}
    if found:
        _, _, commit_id, how = found[0]
        row |= {"commit": commit_id, "introduced_at": how["time"], "introduced_by": how["via"]}
        row["how"] = _how(graph, commit_id, how)
        if how["how"] == "merge":
            row["merge"] = _merge(graph, how["via"])
    elif base:
        row |= {"commit": base[0], "how": "base"}
    return row


def _how(graph: nx.MultiDiGraph, commit_id: str, intro: dict[str, Any]) -> str:
    if intro["how"] == "merge":
        return "merge"
    return "cherry-pick" if edges_out(graph, commit_node(commit_id), "cherry_pick_of") else "commit"


def _merge(graph: nx.MultiDiGraph, merge_id: str) -> dict[str, Any]:
    """The merge that brought a commit in, and what the audit says of it."""
    out: dict[str, Any] = {"commit": merge_id, "subject": _attr(graph, merge_id, "subject")}
    out |= {"kind": None, "from_env": None}
    for finding, d in edges_in(graph, commit_node(merge_id), "concerns"):
        data = graph.nodes[finding]
        if d["role"] == "merge" and data["kind"] in (
            "back_merge",
            "promotion_merge",
            "cross_merge",
        ):
            out |= {"kind": data["kind"], "from_env": data.get("from_env")}
    return out


def _origin(graph: nx.MultiDiGraph, members: list[str], rows: list[dict[str, Any]]) -> str | None:
    """The environment the change was introduced into first (ties: most upstream); None
    when a commit of it lies in the common base (every environment has had it since)."""
    if any(_attr(graph, c, "in_base") for c in members):
        return None
    introduced = [(r["introduced_at"], i) for i, r in enumerate(rows) if r["introduced_at"]]
    return rows[min(introduced)[1]]["name"] if introduced else None


def _reverted_by(
    graph: nx.MultiDiGraph, members: list[str], envs: list[str]
) -> list[dict[str, Any]]:
    found = []
    for commit_id in members:
        for revert, d in edges_in(graph, commit_node(commit_id), "reverts"):
            revert_id = node_id(revert)
            undone = [node_id(u) for u, _ in edges_in(graph, revert, "reverts")]
            found.append(
                {"revert": revert_id, "reverted": commit_id, "method": d.get("method")}
                | {"envs": _present_in(graph, revert_id, envs), "undone_by": undone}
            )
    return found


def _pick(edge: dict[str, Any]) -> dict[str, Any]:
    names = ("method", "score", "patch_differs", "original_env", "copy_env")
    return {name: edge.get(name) for name in names}


def _change(
    graph: nx.MultiDiGraph, change: str | None, members: list[str], origin: str | None
) -> dict[str, Any]:
    data = graph.nodes[change_node(change)] if change is not None else {}
    undoes = [node_id(v) for c in members for v, _ in edges_out(graph, commit_node(c), "reverts")]
    return {
        "id": change,
        "subject": _attr(graph, members[0], "subject"),
        "commits": members,
        "is_revert": bool(data.get("is_revert", False)),
        "approximate": bool(data.get("approximate", False)),
        "origin": origin,
        "undoes": sorted(set(undoes)),
    }


def _findings(
    graph: nx.MultiDiGraph, change: str | None, members: list[str]
) -> list[dict[str, Any]]:
    """Findings naming the change or one of its commits (divergence aside), in report order."""
    targets = [commit_node(c) for c in members]
    if change is not None:
        targets.append(change_node(change))
    named = {u for t in targets for u, _ in edges_in(graph, t, "concerns")}
    out = []
    for node, data in graph.nodes(data=True):
        if node in named and data["kind"] != "divergence":
            fields = {
                k.removeprefix("field_") if k.removeprefix("field_") in RESERVED else k: v
                for k, v in data.items()
                if k not in ("type", "label", "finding_id")
            }
            out.append({"id": data["finding_id"], **fields})
    return out


def _notes(
    graph: nx.MultiDiGraph, change: str | None, members: list[str], commit_id: str
) -> list[str]:
    notes = []
    data = graph.nodes[commit_node(commit_id)]
    if change is None and data.get("is_merge"):
        notes.append("a merge commit: it carries no change of its own; shown as a commit")
    elif change is None and data.get("ignored"):
        notes.append("left out of change grouping by the ignore rules or --since")
    elif change is None and data.get("empty"):
        notes.append("an empty commit: it carries no change")
    if change is not None and graph.nodes[change_node(change)].get("approximate"):
        notes.append("grouped by similar diffs, not equal ones: presence is approximate")
    if any(_attr(graph, c, "in_base") for c in members):
        notes.append("a commit of this change is in the common base: every environment has it")
    return notes


def _commits(graph: nx.MultiDiGraph, explanation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Subject, author and time of every commit the explanation names."""
    ids = set(explanation["change"]["commits"]) | set(explanation["change"]["undoes"])
    for row in explanation["environments"]:
        ids |= {row["commit"], row["introduced_by"], *row["also"], *row["reverted_by"]}
        ids |= set(row["reapplied_by"])
    ids |= {c["original"] for c in explanation["copies"]}
    for revert in explanation["reverted_by"]:
        ids |= {revert["revert"], *revert["undone_by"]}
    out = {}
    for commit_id in sorted(c for c in ids if c and commit_node(c) in graph):
        data = graph.nodes[commit_node(commit_id)]
        out[commit_id] = {k: data.get(k) for k in ("subject", "author", "commit_time")}
        out[commit_id]["is_merge"] = bool(data.get("is_merge"))
    return out


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def summary(ex: dict[str, Any]) -> list[str]:
    """Plain sentences: where the change is, where it started, what is missing, what undid it."""
    rows = ex["environments"]
    have = [r["name"] for r in rows if r["present"]]
    lack = [r["name"] for r in rows if not r["present"]]
    if not have:
        lines = ["On no environment."]
    elif not lack:
        lines = ["On every environment."]
    else:
        lines = [f"On {_names(have)}; not on {_names(lack)}."]
    origin = ex["change"]["origin"]
    if origin is not None:
        row = next(r for r in rows if r["name"] == origin)
        hotfix = any(f["kind"] == "hotfix" for f in ex["findings"])
        lines.append(
            f"Started on {origin} on {row['introduced_at'][:10]}"
            + (": a hotfix, made downstream of the first environment." if hotfix else ".")
        )
    if ex["missing"][UPSTREAM]:
        lines.append(
            f"Missing upstream of {origin} on {_names(ex['missing'][UPSTREAM])}: upstream "
            "testing never saw it, and the next promotion can lose it."
        )
    for pair in ex["pending"]:
        lines.append(f"Pending: on {pair['upstream']}, not yet promoted to {pair['downstream']}.")
    for revert in ex["reverted_by"]:
        where = _names(revert["envs"]) if revert["envs"] else "no environment"
        line = f"Reverted by {revert['revert'][:10]} (on {where})"
        for again in revert["undone_by"]:
            line += f", which {again[:10]} reverted in turn"
        lines.append(line + ".")
    for copy in ex["copies"]:
        lines.append(
            f"{copy['copy'][:10]} is a cherry-pick of {copy['original'][:10]} "
            f"({copy['method']}, score {float(copy['score'] or 0):.2f})."
        )
    return lines
