"""Reading and writing the change graph: its two file formats, and the queries views make.

The format is chosen by the file's extension (`.graphml`, `.json`); writing goes through
`write_output`, so a half-written file never stays. The queries return edges sorted, so
whatever a view builds from them comes out in the same order every run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx  # type: ignore[import-untyped, unused-ignore]

from drift.errors import DriftError
from drift.graph import commit_node
from drift.render.output import write_output


def _graphml(graph: nx.MultiDiGraph) -> str:
    writer = nx.readwrite.graphml.GraphMLWriter(
        encoding="utf-8", prettyprint=True, infer_numeric_types=True
    )
    writer.add_graph_element(graph)
    return "<?xml version='1.0' encoding='utf-8'?>\n" + str(writer) + "\n"


def _node_link(graph: nx.MultiDiGraph) -> str:
    data = nx.node_link_data(graph, edges="edges")
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


GRAPH_FORMATS = {".graphml": _graphml, ".json": _node_link}


def check_graph_target(target: str) -> None:
    """Refuse a file whose extension names no graph format, before any work is done."""
    if Path(target).suffix.lower() not in GRAPH_FORMATS:
        raise DriftError(
            f"--graph {target}: unknown graph format; name a file ending in .graphml "
            "(GraphML, for Gephi or yEd) or .json (node-link JSON)"
        )


def write_graph(graph: nx.MultiDiGraph, target: str) -> None:
    """Write the graph to `target`, in the format its extension names (atomically)."""
    check_graph_target(target)
    write_output(target, GRAPH_FORMATS[Path(target).suffix.lower()](graph))


# -- reading: what views query ---------------------------------------------------------


def environments(graph: nx.MultiDiGraph) -> list[str]:
    """Environment names in chain order."""
    envs = [(d["position"], d["name"]) for _, d in graph.nodes(data=True) if d["type"] == "env"]
    return [name for _, name in sorted(envs)]


def upstream_of(graph: nx.MultiDiGraph) -> dict[str, str | None]:
    """Each environment's upstream (None for the most upstream one)."""
    return {d["name"]: d.get("upstream") for _, d in graph.nodes(data=True) if d["type"] == "env"}


def edges_out(graph: nx.MultiDiGraph, node: str, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(target, attributes) of the node's outgoing edges of one kind, sorted by target."""
    found = [
        (v, k, d) for _, v, k, d in graph.out_edges(node, keys=True, data=True) if d["kind"] == kind
    ]
    return [(v, d) for v, _, d in sorted(found, key=lambda item: item[:2])]


def edges_in(graph: nx.MultiDiGraph, node: str, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(source, attributes) of the node's incoming edges of one kind, sorted by source."""
    found = [
        (u, k, d) for u, _, k, d in graph.in_edges(node, keys=True, data=True) if d["kind"] == kind
    ]
    return [(u, d) for u, _, d in sorted(found, key=lambda item: item[:2])]


def change_of(graph: nx.MultiDiGraph, commit_id: str) -> str | None:
    """The id of the change a commit belongs to (None: a merge, empty or ignored commit)."""
    changes = edges_out(graph, commit_node(commit_id), "part_of")
    return node_id(changes[0][0]) if changes else None


def node_id(node: str) -> str:
    """The commit id, change id, env name or finding id a node stands for."""
    return node.split(":", 1)[1]
