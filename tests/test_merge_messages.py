"""Merge messages as a second witness: renamed and deleted branches, fast-forwards (issue 8).

The repository (fixtures/drift_fixtures/renamed.py) was made under old branch names; its
findings are compared whole, without and with `aliases`, and the structure they rest on is
checked with `git rev-list --first-parent`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drift.audit import run_audit
from drift.cli import main
from drift.config import Settings
from drift.merge_messages import Said, parse
from drift_fixtures.expect import Scenario, finding_key
from drift_fixtures.renamed import ALIASES, renamed_branches
from tests.gitoracle import git


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scenario, list[Any]]:
    scenario, aliased = renamed_branches(tmp_path_factory.mktemp("renamed"))
    return scenario, aliased.resolved(scenario.labels)


def keys(data: dict[str, Any]) -> list[Any]:
    return sorted((finding_key(f) for f in data["findings"]), key=repr)


@pytest.mark.parametrize(
    ("subject", "said"),
    [
        ("Merge branch 'prod' into dev", Said("prod", "dev")),
        ("Merge branch 'devel'", Said("devel", None)),
        ("Merge branch 'x' of github.com:acme/shop into test", Said("x", "test")),
        ("Merge remote-tracking branch 'origin/prod' into dev", Said("origin/prod", "dev")),
        ("Merge branch 'feature/a' into 'develop'", Said("feature/a", "develop")),
        ("Merge pull request #12 from acme/hotfix/tax", Said("hotfix/tax", None)),
        ("Merged in release/1.2 (pull request #5)", Said("release/1.2", None)),
        ("Merge tag 'v1.0'", None),
        ("Fix tax rounding", None),
    ],
)
def test_merge_message_forms(subject: str, said: Said | None) -> None:
    assert parse(subject + "\n\nbody") == said


def test_without_aliases_structure_decides_and_old_names_are_reported(
    built: tuple[Scenario, list[Any]],
) -> None:
    scenario, _ = built
    data = run_audit(scenario.path, Settings(), now=0).to_dict()
    assert [e["name"] for e in data["environments"]] == ["dev", "test", "prod"]
    assert keys(data) == scenario.expected_keys()
    unmapped = {u["name"]: u["count"] for u in data["merge_names"]["unmapped"]}
    assert unmapped == {"devel": 2, "master": 1, "staging/1.2": 1}
    assert any("aliases" in n and "staging/1.2 (1)" in n for n in data["notes"])
    labels = scenario.labels
    (bm1,) = [f for f in data["findings"] if f["kind"] == "back_merge"]
    # test was fast-forwarded onto dev: the merge is on both first-parent lines, reported once
    for ref in ("dev", "test"):
        assert labels["bm1"] in git(scenario.path, "rev-list", "--first-parent", ref).split()
    assert bm1["message_from"] == "master" and bm1["message_into"] == "devel"
    assert "also on the first-parent line of test (fast-forwarded there)" in bm1["note"]
    # test's pending changes came by that fast-forward: their age is from dev, and says so
    pending = [f for f in data["findings"] if f["kind"] == "pending" and f["upstream"] == "test"]
    assert pending and all("fast-forward onto dev's line" in f["note"] for f in pending)
    dev = [f for f in data["findings"] if f["kind"] == "pending" and f["upstream"] == "dev"]
    assert all(f["note"] is None for f in dev)


def test_aliases_map_old_names_and_classify_a_merge_of_a_deleted_line(
    built: tuple[Scenario, list[Any]], tmp_path: Path
) -> None:
    scenario, aliased = built
    labels = scenario.labels
    # git's view: s1 is on no environment's first-parent line, so only the message can say
    for ref in ("dev", "test", "prod"):
        assert labels["s1"] not in git(scenario.path, "rev-list", "--first-parent", ref).split()
    data = run_audit(scenario.path, Settings(aliases=ALIASES), now=0).to_dict()
    assert keys(data) == aliased
    assert data["merge_names"]["unmapped"] == []
    bm2 = next(f for f in data["findings"] if f.get("merge") == labels["bm2"])
    assert bm2["kind"] == "back_merge" and "classified by its message" in bm2["note"]
    assert "an alias of prod" in bm2["note"]
    config = tmp_path / "drift.toml"
    config.write_text('aliases = { master = "prod", "staging/1.2" = "nowhere" }\n')
    code = main(["audit", str(scenario.path), "--config", str(config), "--json", "-"])
    assert code == 2  # an alias to no environment is a usage error, not a traceback


def test_cli_reads_aliases_from_config(
    built: tuple[Scenario, list[Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario, aliased = built
    config = tmp_path / "drift.toml"
    config.write_text('aliases = { master = "prod", devel = "dev", "staging/1.2" = "prod" }\n')
    out = tmp_path / "r.json"
    assert main(["audit", str(scenario.path), "--config", str(config), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert keys(data) == aliased
    assert data["merge_names"]["aliases"] == {
        "devel": "dev",
        "master": "prod",
        "staging/1.2": "prod",
    }
