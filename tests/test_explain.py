"""`drift explain`: one change's journey, checked against git, found by id or subject, read
from the graph alone; bad queries are one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx  # type: ignore[import-untyped, unused-ignore]
import pytest

from drift.cli import main
from drift.explain import explain
from drift.graph import build_graph
from drift.graph_io import write_graph as write_graph_file
from drift.history import read_history
from drift.resolve import resolve
from drift_fixtures.builder import RepoBuilder
from tests.gitoracle import git, is_ancestor
from tests.test_graph import analysed


def run_explain(
    capsys: pytest.CaptureFixture[str], path: Path, query: str, *options: str
) -> dict[str, Any]:
    assert main(["explain", str(path), query, "--json", "-", *options]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def env(data: dict[str, Any], name: str) -> dict[str, Any]:
    row: dict[str, Any] = next(r for r in data["environments"] if r["name"] == name)
    return row


def brought_in(repo: Path, commit: str, via: str) -> bool:
    """git's own answer: `via` reaches the commit and its first parent does not."""
    first = git(repo, "rev-list", "--parents", "-n1", via).split()[1:][:1]
    return is_ancestor(repo, commit, via) and not (first and is_ancestor(repo, commit, first[0]))


@pytest.mark.parametrize(
    ("name", "fix", "merges"),
    [
        ("hotfix_forgotten_on_dev", "hotfix", {"test": "bm_test", "staging": "bm_staging"}),
        (
            "demo",
            "hotfix_double_charge",
            {"test": "back_merge_test", "staging": "back_merge_staging"},
        ),
    ],
)
def test_a_hotfix_forgotten_on_dev(
    name: str,
    fix: str,
    merges: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    scenario, _ = analysed(name, tmp_path_factory)
    repo, labels = scenario.path, scenario.labels
    hotfix = labels[fix]
    subject = git(repo, "log", "-1", "--format=%s", hotfix)
    data = run_explain(capsys, repo, subject)
    assert data["commit"] == hotfix
    assert not env(data, "dev")["present"] and env(data, "dev")["missing"] == "upstream"
    assert not is_ancestor(repo, hotfix, "dev")
    assert data["missing"] == {"upstream": ["dev"], "downstream": [], "elsewhere": []}
    assert data["change"]["origin"] == "prod"
    prod = env(data, "prod")
    assert (prod["how"], prod["introduced_by"], prod["commit"]) == ("commit", hotfix, hotfix)
    for name_, label in merges.items():
        row = env(data, name_)
        assert row["how"] == "merge" and row["introduced_by"] == labels[label]
        assert row["merge"]["kind"] == "back_merge"
        assert brought_in(repo, hotfix, labels[label])
    assert env(data, "staging")["merge"]["from_env"] == "prod"
    assert {"hotfix", "missing_hotfix"} <= {f["kind"] for f in data["findings"]}
    assert main(["explain", str(repo), hotfix[:7], "--color", "never"]) == 0
    out = capsys.readouterr().out
    assert "missing: upstream of its origin (prod)" in out
    for name_, label in merges.items():
        assert f"back-merge from {'prod' if name_ == 'staging' else 'staging'}, by " in out
        assert f"by {labels[label][:10]}" in out
    assert "Merge branch 'prod' into staging" in out
    assert "Missing upstream of prod on dev" in out


def test_by_full_id_short_id_and_subject_alike(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario, _ = analysed("hotfix_forgotten_on_dev", tmp_path_factory)
    hotfix = scenario.labels["hotfix"]
    answers = [
        run_explain(capsys, scenario.path, query)
        for query in (hotfix, hotfix[:7], hotfix[:4].upper(), "TAX ROUNDING", "invoices")
    ]
    for answer in answers:
        answer.pop("query")
        assert answer == answers[0]


def test_a_cherry_pick_and_what_is_pending(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario, _ = analysed("feature_picks_x", tmp_path_factory)
    labels = scenario.labels
    data = run_explain(capsys, scenario.path, labels["pick_f1"][:10])
    assert data["commit"] == labels["pick_f1"]
    assert data["change"]["commits"] == [labels["f1"], labels["pick_f1"]]
    test = env(data, "test")
    assert test["how"] == "cherry-pick" and test["commit"] == labels["pick_f1"]
    assert data["copies"] == [
        {
            "copy": labels["pick_f1"],
            "original": labels["f1"],
            "method": "trailer",
            "score": 1.0,
            "patch_differs": False,
            "original_env": "dev",
            "copy_env": "test",
        }
    ]
    assert data["pending"] == [{"upstream": "test", "downstream": "staging"}]
    assert data["missing"] == {"upstream": [], "downstream": ["staging", "prod"], "elsewhere": []}


def test_a_change_reverted_and_reapplied(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario, _ = analysed("revert_reapply", tmp_path_factory)
    labels = scenario.labels
    data = run_explain(capsys, scenario.path, "Add loyalty points")
    assert data["commit"] == labels["f2"]
    assert data["reverted_by"] == [
        {
            "revert": labels["revert"],
            "reverted": labels["f2"],
            "method": "message",
            "envs": ["test"],
            "undone_by": [labels["reapply"]],
        }
    ]
    assert env(data, "test")["reverted_by"] == [labels["revert"]]
    assert env(data, "test")["reapplied_by"] == [labels["reapply"]]
    assert env(data, "dev")["reverted_by"] == []
    revert = run_explain(capsys, scenario.path, labels["revert"])
    assert revert["change"]["is_revert"] and revert["change"]["undoes"] == [labels["f2"]]


@pytest.mark.parametrize("name", ["demo", "revert_reapply"])
def test_explain_reads_the_graph_alone(
    name: str, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """The same explanations from the graph re-read from GraphML and node-link JSON."""
    _, analysis = analysed(name, tmp_path_factory)
    graph = build_graph(analysis)
    write_graph_file(graph, str(tmp_path / "g.graphml"))
    write_graph_file(graph, str(tmp_path / "g.json"))
    node_link = json.loads((tmp_path / "g.json").read_text())
    copies = [nx.read_graphml(tmp_path / "g.graphml"), nx.node_link_graph(node_link, edges="edges")]
    for commit in sorted(analysis.report.commits):
        expected = explain(graph, resolve(graph, commit, str), commit)
        for copy in copies:
            assert explain(copy, resolve(copy, commit, str), commit) == expected


def test_the_analysis_runs_once_per_command(
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scenario, _ = analysed("hotfix_forgotten_on_dev", tmp_path_factory)
    calls: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return read_history(*args, **kwargs)

    monkeypatch.setattr("drift.audit.read_history", counting)
    assert main(["explain", str(scenario.path), "tax", "--json", str(tmp_path / "e.json")]) == 0
    assert len(calls) == 1
    graph = str(tmp_path / "g.json")
    assert main(["audit", str(scenario.path), "--graph", graph, "--json", "-"]) == 0
    assert len(calls) == 2
    capsys.readouterr()


def bad(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["explain", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_bad_queries_are_one_line(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario, _ = analysed("hotfix_forgotten_on_dev", tmp_path_factory)
    repo, labels = str(scenario.path), scenario.labels
    assert "no commit outside the common base" in bad(capsys, repo, "no such words")
    assert "no commit outside the common base" in bad(capsys, repo, "deadbeef")
    err = bad(capsys, repo, "Merge branch")
    assert "matches 5 different commits by subject" in err
    assert labels["bm_test"][:10] in err and labels["m_prod"][:10] in err
    assert "common base" in bad(capsys, repo, labels["base1"][:8])
    assert "name a commit" in bad(capsys, repo, "  ")
    pasted = "no such words " * 5000  # a page pasted by mistake: not echoed back whole
    err = bad(capsys, repo, pasted)
    assert "no commit outside the common base" in err and len(err) < 300
    trunk, _ = analysed("clean_trunk", tmp_path_factory)
    assert "only one environment (main)" in bad(capsys, str(trunk.path), "cart")


def test_a_commit_on_no_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    b = RepoBuilder.init(tmp_path / "r")
    b.commit("base", {"a": "1\n"})
    b.branch("prod", "dev")
    b.commit("[bold red]boom[/] </script><img src=x onerror=alert(1)>", {"b": "2\n"})
    b.checkout("feature/x", create_from="dev")
    side = b.commit("Side work", {"c": "3\n"})
    b.checkout("dev")
    assert "on no environment branch (dev, prod)" in bad(capsys, str(b.path), side[:12])
    assert main(["explain", str(b.path), "boom", "--color", "never"]) == 0
    out = capsys.readouterr().out
    assert "[bold red]boom[/] </script><img src=x onerror=alert(1)>" in out
    assert "missing: pending on dev" in out
