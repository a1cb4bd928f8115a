"""A tree of environments: maintenance lines below one main line (issue 8).

The `release_lines` scenario's whole findings list is checked in test_scenarios.py (with
plain git); here: detection by name, the fork point, configuration of upstream links, the
views of a tree, and the explanation of a fix missing from a line beside its origin.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from drift.audit import open_repository, run_audit
from drift.cli import main
from drift.config import EnvSpec, Settings, load_settings, parse_envs
from drift.environments import MAX_RELEASE_LINES, RELEASE_LINE, resolve_chain
from drift.errors import DriftError
from drift.render.html import render_html
from drift.render.markdown import render_markdown
from drift.topology import Topology
from drift_fixtures.builder import RepoBuilder
from drift_fixtures.expect import Scenario
from drift_fixtures.scenarios import release_lines
from tests.gitoracle import git, is_ancestor


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return release_lines(tmp_path_factory.mktemp("lines"))


@pytest.fixture(scope="module")
def report(lines: Scenario) -> dict[str, Any]:
    return run_audit(lines.path, Settings(), now=0).to_dict()


@pytest.mark.parametrize(
    "name",
    [
        "release/2.x",
        "releases/1.4",
        "release-3.0",
        "rel_1_4",
        "version-2",
        "stable/3.1",
        "maint-1.2",
        "1.4.x",
        "v2.x",
        "2.7",
        "release/1.2.0",
    ],
)
def test_release_line_names(name: str) -> None:
    assert RELEASE_LINE.fullmatch(name)


@pytest.mark.parametrize(
    "name", ["release/next", "feature/1.2", "hotfix/1.2", "releases", "dev", "v2", "1", "main"]
)
def test_names_that_are_not_release_lines(name: str) -> None:
    assert not RELEASE_LINE.fullmatch(name)


def test_detected_tree_is_reported_with_upstreams(report: dict[str, Any]) -> None:
    envs = {e["name"]: e for e in report["environments"]}
    assert list(envs) == ["main", "release/2.x", "release/1.x"]  # newest version first
    assert [e["upstream"] for e in envs.values()] == [None, "main", "main"]
    assert report["settings"]["topology"] == "tree"
    assert "fed by main" in envs["release/1.x"]["reason"]
    # release/0.9 was merged into main long ago: nothing of its own, so left out, and said so
    assert any("release/0.9" in note and "left out" in note for note in report["notes"])


def test_every_pair_finding_is_per_upstream_link(report: dict[str, Any]) -> None:
    pairs = {
        (f["upstream"], f["downstream"])
        for f in report["findings"]
        if f["kind"] in ("divergence", "pending")
    }
    assert pairs == {("main", "release/2.x"), ("main", "release/1.x")}
    assert {(t["from"], t["to"]) for t in report["metrics"]["lead_time"]["steps"]} == pairs
    assert {(d["upstream"], d["downstream"]) for d in report["metrics"]["drift_over_time"]} == (
        pairs
    )
    tested = {e["name"]: e.get("tested_as") for e in report["environments"]}
    assert tested["main"] is None
    assert tested["release/1.x"]["upstream"] == tested["release/2.x"]["upstream"] == "main"


def test_merge_forward_between_lines_is_a_cross_merge(lines: Scenario) -> None:
    """git's own view: the merge is on 2.x's first-parent line, and its other parent on
    1.x's; neither line is upstream of the other."""
    data = run_audit(lines.path, Settings(), now=0).to_dict()
    (cross,) = [f for f in data["findings"] if f["kind"] == "cross_merge"]
    assert cross["merge"] in git(lines.path, "rev-list", "--first-parent", "release/2.x").split()
    assert cross["merged"] in git(lines.path, "rev-list", "--first-parent", "release/1.x").split()
    assert not any(f["kind"] in ("back_merge", "promotion_merge") for f in data["findings"])


def test_fork_point_picks_the_environment_the_line_was_cut_from(tmp_path: Path) -> None:
    """dev -> prod, with 1.x cut from prod after prod moved on from dev: fed by prod; 2.x
    cut from dev's newer work: fed by dev."""
    b = RepoBuilder.init(tmp_path / "r", branch="dev")
    b.commit("base", {"a": "1\n"})
    b.branch("prod", "dev")
    b.checkout("prod")
    b.commit("prod only", {"p": "1\n"})
    b.checkout("prod", None)
    b.git("checkout", "-q", "-b", "release/1.x")
    b.commit("fix on 1.x", {"f": "1\n"})
    b.checkout("dev")
    b.commit("dev work", {"d": "1\n"})
    b.git("checkout", "-q", "-b", "release/2.x")
    b.commit("fix on 2.x", {"g": "1\n"})
    repo = open_repository(b.path, Settings())
    found = resolve_chain(repo, Settings())
    assert [(e.name, e.upstream) for e in found.envs] == [
        ("dev", None),
        ("prod", "dev"),
        ("release/2.x", "dev"),
        ("release/1.x", "prod"),
    ]


def test_only_the_newest_lines_are_detected(tmp_path: Path) -> None:
    b = RepoBuilder.init(tmp_path / "r", branch="main")
    b.commit("base", {"a": "1\n"})
    for n in range(MAX_RELEASE_LINES + 2):
        b.git("checkout", "-q", "-b", f"release/{n}.x", "main")
        b.commit(f"fix {n}", {f"f{n}": "1\n"})
    repo = open_repository(b.path, Settings())
    found = resolve_chain(repo, Settings())
    names = [e.name for e in found.envs]
    assert len(names) == 1 + MAX_RELEASE_LINES
    assert "release/0.x" not in names and "release/1.x" not in names  # the oldest two
    assert any("2 older release lines were not audited" in n for n in found.notes)
    off = resolve_chain(repo, Settings(release_lines=False))
    assert [e.name for e in off.envs] == ["main"]


def test_upstream_links_from_the_command_line_and_config(lines: Scenario, tmp_path: Path) -> None:
    assert parse_envs("main,rel=refs/heads/release/1.x:main") == (
        EnvSpec("main"),
        EnvSpec("rel", "refs/heads/release/1.x", "main"),
    )
    out = tmp_path / "r.json"
    envs = "main,release/1.x:main,release/2.x:main"
    assert main(["audit", str(lines.path), "--envs", envs, "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert [(e["name"], e["upstream"]) for e in data["environments"]] == [
        ("main", None),
        ("release/1.x", "main"),
        ("release/2.x", "main"),
    ]
    config = tmp_path / "drift.toml"
    config.write_text(
        'environments = ["main", { name = "release/2.x", upstream = "main" }]\n'
        'aliases = { master = "main" }\nrelease_lines = false\n'
    )
    settings = load_settings(tmp_path, config)
    assert settings.envs == (EnvSpec("main"), EnvSpec("release/2.x", None, "main"))
    assert settings.aliases == (("master", "main"),) and settings.release_lines is False


def test_an_upstream_must_be_listed_before(
    lines: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = open_repository(lines.path, Settings())
    with pytest.raises(DriftError, match="must be an environment listed before it"):
        resolve_chain(repo, Settings(envs=parse_envs("release/1.x:main,main")))
    assert main(["audit", str(lines.path), "--envs", "main,release/1.x:nope"]) == 2
    assert "listed before it" in capsys.readouterr().err


def test_topology_questions() -> None:
    tree = Topology.of(["main", "r2", "r1", "r1-hot"], [None, "main", "main", "r1"])
    assert tree.edges == [(0, 1), (0, 2), (2, 3)]
    assert tree.leaves() == [1, 3] and not tree.is_chain
    assert tree.ancestors(3) == [2, 0] and tree.is_upstream(0, 3) and not tree.is_upstream(1, 3)
    assert tree.distance(1, 3) == 3 and tree.distance(3, 0) == 2
    assert tree.main_path() == [0, 1]
    assert Topology.chain(["a", "b", "c"]).is_chain
    assert tree.names_above("r1-hot") == ["r1", "main"] and tree.leaf_names() == ["r2", "r1-hot"]
    # a report written before release lines (no upstream) is a chain; an upstream that is no
    # earlier environment (a hand-edited report) reads as the previous one
    old = Topology.of_report([{"name": "dev"}, {"name": "test"}, {"name": "prod"}])
    assert old.is_chain and old.describe() == "dev -> test -> prod"
    odd = Topology.of_report(
        [{"name": "a", "upstream": None}, {"name": "b", "upstream": "zz"}, {"name": "c"}]
    )
    assert [odd.upstream_of(n) for n in odd.names] == [None, "a", "b"]


def test_html_and_markdown_show_the_tree(report: dict[str, Any]) -> None:
    page = render_html(report)
    assert "environments main \u2192 release/2.x, main \u2192 release/1.x" in page
    assert "--envs main,release/2.x:main,release/1.x:main" in page
    flow = re.search(r'<svg[^>]*aria-labelledby="flow-t.*?</svg>', page, re.S)
    assert flow is not None
    # both lines are boxes in the first column after main, on two rows
    boxes = re.findall(r'<rect x="(\d+)" y="(\d+)" width="110"', flow.group(0))
    assert len(boxes) == 3 and boxes[1][0] == boxes[2][0] and boxes[1][1] != boxes[2][1]
    assert "Merges between release lines" in page
    assert "release/1.x" in render_markdown(report)


def test_explain_says_a_fix_is_missing_beside_its_origin(
    lines: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    """fix2 was made on 2.x and picked to main; 1.x, beside 2.x, lacks it: not 'upstream of
    its origin' (main has it) and not downstream of 2.x."""
    fix2 = lines.labels["fix2"]
    assert main(["explain", str(lines.path), fix2, "--json", "-"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["change"]["origin"] == "release/2.x"
    assert data["missing"] == {"upstream": [], "downstream": [], "elsewhere": ["release/1.x"]}
    assert not is_ancestor(lines.path, fix2, "release/1.x")


def test_debug_gives_the_reason_behind_every_finding(
    lines: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    assert main(["audit", str(lines.path), "--debug", "--json", str(out)]) == 0
    err = capsys.readouterr().err
    data = json.loads(out.read_text())
    for finding in data["findings"]:
        assert f"drift: why {finding['id']}: " in err
    assert "drift: env release/1.x: refs/heads/release/1.x (release line" in err
    assert "drift: findings: " in err  # phase timings
    cross = next(f for f in data["findings"] if f["kind"] == "cross_merge")
    assert f"on release/2.x's first-parent line and its parent {cross['merged'][:12]}" in err


def test_timings_alone_print_each_phase_and_nothing_else(
    lines: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a benchmark reads: a line per phase, without the cost of `--debug`'s reasons."""
    out = tmp_path / "r.json"
    assert main(["audit", str(lines.path), "--timings", "--json", str(out), "--no-cache"]) == 0
    err = capsys.readouterr().err.splitlines()
    phases = [line.split(":")[1].strip() for line in err]
    names = ["walk", "changes", "findings", "report", "delivery", "render_ahead", "metrics"]
    assert phases == [*names, "render"]
    assert all(re.fullmatch(r"drift: \w+: \d+\.\d{3} s", line) for line in err)
    cache = ["--cache", str(tmp_path / "cache")]
    main(["audit", str(lines.path), "--json", str(out), *cache])
    capsys.readouterr()
    assert main(["audit", str(lines.path), "--timings", "--json", str(out), *cache]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[1].strip() for line in err] == ["cached report", "render"]
