"""The change graph agrees with the report and with plain git, and reads back as it was written.

Every scenario and the demo: the graph's nodes and edges are counted against the report's
findings and stats, every `introduced_into` edge is checked against `git rev-list`, and the
GraphML and node-link JSON files re-read with networkx and json.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx  # type: ignore[import-untyped, unused-ignore]
import pytest

from drift.audit import Analysis, analyse
from drift.cli import main
from drift.config import EnvSpec, Settings
from drift.graph import build_graph, commit_node
from drift.graph_io import node_id
from drift_fixtures.demo import build_demo
from drift_fixtures.expect import Scenario
from drift_fixtures.scenarios import ALL
from tests.gitoracle import git, rev_count

BUILDERS: dict[str, Callable[[Path], Scenario]] = {**ALL, "demo": build_demo}
_BUILT: dict[str, tuple[Scenario, Analysis]] = {}


def analysed(name: str, factory: pytest.TempPathFactory) -> tuple[Scenario, Analysis]:
    """A scenario built and analysed once per session (test_explain shares it)."""
    if name not in _BUILT:
        scenario = BUILDERS[name](factory.mktemp(name))
        settings = (
            Settings()
            if scenario.detect
            else Settings(envs=tuple(EnvSpec(e) for e in scenario.envs))
        )
        _BUILT[name] = scenario, analyse(scenario.path, settings, now=0)
    return _BUILT[name]


def edges(graph: nx.MultiDiGraph, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [(u, v, d) for u, v, d in graph.edges(data=True) if d["kind"] == kind]


def nodes(graph: nx.MultiDiGraph, kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [(n, d) for n, d in graph.nodes(data=True) if d["type"] == kind]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_graph_agrees_with_the_report(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    _, analysis = analysed(name, tmp_path_factory)
    graph = build_graph(analysis)
    data = analysis.report.to_dict()
    by_kind = data["summary"]["by_kind"]
    findings = data["findings"]
    assert len(nodes(graph, "env")) == len(data["environments"])
    assert len(nodes(graph, "finding")) == len(findings)
    assert len(nodes(graph, "change")) == data["stats"].get("changes", 0)
    assert len(edges(graph, "cherry_pick_of")) == by_kind["cherry_pick"]
    assert len(edges(graph, "back_merge")) == by_kind["back_merge"]
    assert len(edges(graph, "promotion_merge")) == by_kind["promotion_merge"]
    reverts = [f for f in findings if f["kind"] == "revert" and f["reverted"]]
    assert len(edges(graph, "reverts")) == len(reverts)
    drifted = [d for _, d in nodes(graph, "commit") if d["envs"] and not d["in_base"]]
    assert len(drifted) == data["stats"].get("commits_outside_base", 0)
    for f in findings:  # every commit a finding names is a node
        for key in ("commit", "original", "copy", "merge", "revert", "reverted"):
            if f.get(key):
                assert commit_node(f[key]) in graph, (f["kind"], key)
    for u, v, d in edges(graph, "cherry_pick_of"):
        pick = next(f for f in findings if f["id"] == d["finding"])
        assert (pick["copy"], pick["original"]) == (node_id(u), node_id(v))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_introductions_agree_with_git(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """`via` is on the env's first-parent line and brought the commit in: git lists the
    commit in `via^1..via`. Every drifted commit an env's tip reaches has such an edge."""
    scenario, analysis = analysed(name, tmp_path_factory)
    graph = build_graph(analysis)
    repo = scenario.path
    refs = {env.name: env.ref for env in analysis.chain.envs}
    brought: dict[str, set[str]] = {}
    got: dict[str, set[str]] = defaultdict(set)
    for u, v, d in edges(graph, "introduced_into"):
        env, via = node_id(v), d["via"]
        if via not in brought:
            parents = git(repo, "rev-list", "--parents", "-n1", via).split()[1:]
            span = f"{parents[0]}..{via}" if parents else via
            brought[via] = set(git(repo, "rev-list", span).split())
        assert via in first_parent(repo, refs[env])
        assert node_id(u) in brought[via], (env, node_id(u), via)
        assert d["how"] == ("commit" if via == node_id(u) else "merge")
        got[env].add(node_id(u))
    drifted = {node_id(n) for n, d in nodes(graph, "commit") if not d["in_base"]}
    for env, ref in refs.items():
        if len(refs) > 1:
            assert got[env] == drifted & set(git(repo, "rev-list", ref).split()), env


_FIRST_PARENT: dict[tuple[Path, str], set[str]] = {}


def first_parent(repo: Path, ref: str) -> set[str]:
    if (repo, ref) not in _FIRST_PARENT:
        _FIRST_PARENT[repo, ref] = set(git(repo, "rev-list", "--first-parent", ref).split())
    return _FIRST_PARENT[repo, ref]


def test_graph_holds_the_drift_not_the_whole_history(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    scenario, analysis = analysed("demo", tmp_path_factory)
    graph = build_graph(analysis)
    commits = nodes(graph, "commit")
    assert len(commits) < rev_count(scenario.path, "--all") / 2
    named = set(analysis.report.commits) | {env.commit for env in analysis.chain.envs}
    for n, d in commits:
        assert (d["envs"] and not d["in_base"]) or node_id(n) in named


def test_attributes_are_graphml_scalars_with_one_type_per_name(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    _, analysis = analysed("demo", tmp_path_factory)
    graph = build_graph(analysis)
    types: dict[tuple[str, str], set[type]] = defaultdict(set)
    for _, d in graph.nodes(data=True):
        for k, v in d.items():
            types["node", k].add(type(v))
    for *_, d in graph.edges(data=True):
        for k, v in d.items():
            types["edge", k].add(type(v))
    for k, v in graph.graph.items():
        types["graph", k].add(type(v))
    for name, seen in types.items():
        assert len(seen) == 1 and seen <= {str, int, float, bool}, (name, seen)


@pytest.mark.parametrize("name", ["demo", "revert_reapply"])
def test_written_graphs_read_back(
    name: str, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    scenario, analysis = analysed(name, tmp_path_factory)
    graph = build_graph(analysis)
    graphml, node_link = tmp_path / "g.graphml", tmp_path / "g.json"
    argv = ["audit", str(scenario.path), "--graph"]
    assert main([*argv, str(graphml)]) == 0
    assert main([*argv, str(node_link)]) == 0
    for read in (
        nx.read_graphml(graphml),
        nx.node_link_graph(json.loads(node_link.read_text()), edges="edges"),
    ):
        assert isinstance(read, nx.MultiDiGraph)
        assert dict(read.nodes(data=True)) == dict(graph.nodes(data=True))
        assert sorted(read.edges(keys=True)) == sorted(graph.edges(keys=True))
        assert Counter(d["kind"] for *_, d in read.edges(data=True)) == Counter(
            d["kind"] for *_, d in graph.edges(data=True)
        )
    for first in (graphml, node_link):  # no clock in the graph: the same bytes every run
        again = tmp_path / f"again{first.suffix}"
        assert main([*argv, str(again)]) == 0
        assert again.read_bytes() == first.read_bytes()


@pytest.mark.parametrize("target", ["graph.dot", "graph", "-", "graph.xml"])
def test_unknown_graph_format_is_refused_before_any_work(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = target if target == "-" else str(tmp_path / target)
    code = main(["audit", str(tmp_path / "not-a-repo"), "--graph", path])
    out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and out == ""
    assert ".graphml" in err and "not a git repository" not in err
    assert not Path(path).exists()
