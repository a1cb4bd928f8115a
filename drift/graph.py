"""The change graph of one audit: environments, commits, changes and findings as networkx.

Nodes are `env:NAME`, `commit:ID`, `change:ID` and `finding:ID`, each with a `type`. Every
edge has a `kind` and a key unique between its two nodes:

- `parent` (commit -> parent; `index`, `first_parent`), `tip` (env -> commit),
  `flows_to` (env -> the next env downstream), `part_of` (commit -> change);
- `introduced_into` (commit -> env; `via` the first-parent commit that did it, `how`
  `commit` or `merge`, `time`);
- `cherry_pick_of` (copy -> original), `reverts` (revert -> reverted),
  `back_merge` / `promotion_merge` (env -> env; `merge`), from the findings;
- `concerns` (finding -> each commit, change or env it names; `role` is the field).

Scope: commits outside the common base, the commits findings name and the environment
tips, never the whole history. Attributes are str, int, float or bool only (lists joined
with ",", None left out), so the graph writes to GraphML and node-link JSON as it is and
reads back the same; it carries no clock, so the same repository gives the same bytes.
Views (`drift explain`) query it (drift/graph_io.py) instead of recomputing the audit.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import networkx as nx  # type: ignore[import-untyped, unused-ignore]

from drift import __version__
from drift.findings.model import Finding
from drift.timefmt import iso

if TYPE_CHECKING:
    from drift.audit import Analysis

GRAPH_VERSION = 1
"""Raised on any breaking change of node ids, kinds or attribute names."""

# Finding fields that name environments; a `concerns` edge leads to each one they name.
ENV_FIELDS = frozenset(
    {"upstream", "downstream", "origin", "original_env", "copy_env", "from_env", "into_env"}
    | {"env", "missing_from"}
)
# Attribute names a finding field may not take over on its node: stored as `field_NAME`.
RESERVED = frozenset({"type", "label", "kind", "finding_id", "note"})
_FULL_ID = re.compile(r"[0-9a-f]{40}")
# Characters XML 1.0 cannot hold, even escaped (GraphML readers reject the file).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
Scalar = str | int | float | bool


def env_node(name: str) -> str:
    """Node id of an environment."""
    return f"env:{name}"


def commit_node(commit_id: str) -> str:
    """Node id of a commit."""
    return f"commit:{commit_id}"


def change_node(change_id: str) -> str:
    """Node id of a change (its id is its first-introduced commit)."""
    return f"change:{change_id}"


def finding_node(finding_id: str) -> str:
    """Node id of a finding."""
    return f"finding:{finding_id}"


def scalar(value: object) -> Scalar | None:
    """A value as a GraphML attribute: scalars as they are, lists joined, None and the rest
    (dicts) left out."""
    if isinstance(value, str):
        return _NOT_XML.sub("\ufffd", value)
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return _NOT_XML.sub("\ufffd", ",".join(str(v) for v in value))
    return None


def _attrs(**values: object) -> dict[str, Scalar]:
    return {k: v for k, raw in values.items() if (v := scalar(raw)) is not None}


def build_graph(analysis: Analysis) -> nx.MultiDiGraph:
    """The graph of an analysis, nodes and edges inserted in sorted order."""
    report = analysis.report
    graph = nx.MultiDiGraph()
    names = [env.name for env in analysis.chain.envs]
    graph.graph.update(
        _attrs(
            tool="drift",
            version=__version__,
            graph_version=GRAPH_VERSION,
            repository=report.repository.get("path"),
            environments=names,
            as_of=report.settings.get("as_of"),
        )
    )
    for position, env in enumerate(analysis.chain.envs):
        graph.add_node(
            env_node(env.name),
            **_attrs(type="env", label=env.name, name=env.name, ref=env.ref, commit=env.commit)
            | _attrs(position=position, reason=env.reason, upstream=env.upstream),
        )
    for env in analysis.chain.envs:
        if env.upstream is not None:
            graph.add_edge(
                env_node(env.upstream), env_node(env.name), key="flows_to", kind="flows_to"
            )
    commits = _scope(analysis)
    grouping = analysis.grouping
    left_out = (set(grouping.ignored), set(grouping.empty)) if grouping else (set(), set())
    for commit_id in commits:
        graph.add_node(commit_node(commit_id), **_commit(analysis, commit_id, *left_out))
    for env in analysis.chain.envs:
        graph.add_edge(env_node(env.name), commit_node(env.commit), key="tip", kind="tip")
    _parents(graph, analysis, commits)
    _introductions(graph, analysis, commits)
    _changes(graph, analysis)
    for finding in analysis.findings:
        _finding(graph, finding, set(names))
    return graph


def _scope(analysis: Analysis) -> list[str]:
    """Outside the common base, named by a finding or a change, or an environment tip."""
    scope = set(analysis.report.commits) | {env.commit for env in analysis.chain.envs}
    if analysis.history is not None:
        scope |= {c for c in analysis.history.order if analysis.history.outside_base(c)}
    if analysis.grouping is not None:
        scope |= {c for change in analysis.grouping.changes for c in change.commits}
    return sorted(scope)


def _commit(
    analysis: Analysis, commit_id: str, ignored: set[str], empty: set[str]
) -> dict[str, Scalar]:
    history = analysis.history
    info = analysis.repo.commit(commit_id)
    names = [env.name for env in analysis.chain.envs]
    envs = names if history is None else [names[i] for i in history.envs_of(commit_id)]
    in_base = history is None or history.in_common_base(commit_id)
    return _attrs(
        type="commit",
        label=f"{commit_id[:10]} {info.subject}",
        sha=commit_id,
        subject=info.subject,
        author=info.author_name,
        author_email=info.author_email,
        author_time=iso(info.author_time),
        commit_time=iso(info.commit_time),
        parents=list(info.parents),
        is_merge=info.is_merge,
        in_base=in_base,
        envs=envs,
        ignored=commit_id in ignored,
        empty=commit_id in empty,
    )


def _parents(graph: nx.MultiDiGraph, analysis: Analysis, commits: list[str]) -> None:
    inside = set(commits)
    for commit_id in commits:
        for index, parent in enumerate(analysis.repo.commit(commit_id).parents):
            if parent in inside:
                graph.add_edge(
                    commit_node(commit_id),
                    commit_node(parent),
                    key=f"parent:{index}",
                    kind="parent",
                    index=index,
                    first_parent=index == 0,
                )


def _introductions(graph: nx.MultiDiGraph, analysis: Analysis, commits: list[str]) -> None:
    history = analysis.history
    if history is None:
        return
    for commit_id in commits:
        for env, intro in zip(history.envs, history.intro, strict=True):
            how = intro.get(commit_id)
            if how is None:
                continue
            graph.add_edge(
                commit_node(commit_id),
                env_node(env.name),
                key="introduced_into",
                kind="introduced_into",
                env=env.name,
                via=how.via,
                how="commit" if how.via == commit_id else "merge",
                time=iso(how.time),
            )


def _changes(graph: nx.MultiDiGraph, analysis: Analysis) -> None:
    if analysis.grouping is None:
        return
    for change in sorted(analysis.grouping.changes, key=lambda c: c.id):
        subject = graph.nodes[commit_node(change.id)]["subject"]
        graph.add_node(
            change_node(change.id),
            **_attrs(type="change", label=subject, change_id=change.id, subject=subject)
            | _attrs(size=len(change.commits), is_revert=change.is_revert)
            | _attrs(approximate=bool(getattr(change, "approximate", False))),
        )
        for member in change.commits:
            graph.add_edge(
                commit_node(member),
                change_node(change.id),
                key="part_of",
                kind="part_of",
                first=member == change.id,
            )


def _finding(graph: nx.MultiDiGraph, finding: Finding, envs: set[str]) -> None:
    node = finding_node(finding.id)
    fields = {(f"field_{k}" if k in RESERVED else k): v for k, v in finding.fields.items()}
    graph.add_node(
        node,
        **_attrs(type="finding", label=finding.kind, kind=finding.kind, finding_id=finding.id)
        | _attrs(note=finding.note, **fields),
    )
    _derived_edge(graph, finding)
    for role, value in finding.fields.items():
        for target in value if isinstance(value, list | tuple) else [value]:
            if not isinstance(target, str):
                continue
            if role == "change" and change_node(target) in graph:
                to = change_node(target)
            elif _FULL_ID.fullmatch(target) and commit_node(target) in graph:
                to = commit_node(target)
            elif role in ENV_FIELDS and target in envs:
                to = env_node(target)
            else:
                continue
            graph.add_edge(node, to, key=f"concerns:{role}", kind="concerns", role=role)


def _derived_edge(graph: nx.MultiDiGraph, finding: Finding) -> None:
    """The findings that are relations get an edge of their own between what they relate."""
    f, fid = finding.fields, finding.id
    if finding.kind == "cherry_pick" and f.get("copy") and f.get("original"):
        extra = {k: f.get(k) for k in ("method", "score", "patch_differs", "original_env")}
        graph.add_edge(
            commit_node(f["copy"]),
            commit_node(f["original"]),
            key="cherry_pick_of",
            **_attrs(kind="cherry_pick_of", finding=fid, copy_env=f.get("copy_env"), **extra),
        )
    elif finding.kind == "revert" and f.get("revert") and f.get("reverted"):
        graph.add_edge(
            commit_node(f["revert"]),
            commit_node(f["reverted"]),
            key="reverts",
            **_attrs(kind="reverts", method=f.get("method"), finding=fid),
        )
    elif (
        finding.kind in ("back_merge", "promotion_merge", "cross_merge")
        and f.get("from_env")
        and f.get("into_env")
    ):
        graph.add_edge(
            env_node(f["from_env"]),
            env_node(f["into_env"]),
            key=f"{finding.kind}:{f['merge']}",
            **_attrs(kind=finding.kind, merge=f["merge"], merged=f.get("merged"), finding=fid)
            | _attrs(time=f.get("time")),
        )
