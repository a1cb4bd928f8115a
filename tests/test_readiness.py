"""The readiness score and the migration plan: ordering on real scenarios, monotonicity on
synthetic reports, and a plan whose evidence matches the findings."""

from __future__ import annotations

import copy
import itertools
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drift.audit import run_audit
from drift.config import EnvSpec, Settings
from drift.readiness.plan import migration_plan
from drift.readiness.score import readiness
from drift.render.headline import headline_risks
from drift_fixtures.scenarios import ALL
from tests.small_repos import four_envs


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out = {}
    for name in (
        "clean_trunk",
        "feature_picks_x",
        "hotfix_forgotten_on_dev",
        "back_merge_conflict",
        "release_conflicts",
        "gitflow",
    ):
        scenario = ALL[name](tmp_path_factory.mktemp(name))
        envs = None if scenario.detect else tuple(EnvSpec(e) for e in scenario.envs)
        out[name] = run_audit(scenario.path, Settings(envs=envs), now=0).to_dict()
    return out


def test_scores_order_as_a_practitioner_would(reports: dict[str, dict[str, Any]]) -> None:
    score = {name: readiness(data)["score"] for name, data in reports.items()}
    assert score["clean_trunk"] == 100
    assert score["clean_trunk"] > score["feature_picks_x"] > score["hotfix_forgotten_on_dev"]
    assert score["hotfix_forgotten_on_dev"] > score["back_merge_conflict"]
    assert score["hotfix_forgotten_on_dev"] > score["release_conflicts"]
    assert readiness(reports["feature_picks_x"])["band"] == "ready"
    forgotten = readiness(reports["hotfix_forgotten_on_dev"])
    assert forgotten["band"] != "ready" and forgotten["blockers"]


def test_dimensions_name_the_findings_behind_them(reports: dict[str, dict[str, Any]]) -> None:
    data = reports["back_merge_conflict"]
    ids = {f["id"]: f["kind"] for f in data["findings"]}
    dims = {d["name"]: d for d in readiness(data)["dimensions"]}
    assert {ids[i] for i in dims["hotfix_hygiene"]["findings"]} == {"hotfix", "missing_hotfix"}
    assert "conflict_merge" in {ids[i] for i in dims["release_identity"]["findings"]}
    delivery = dims["delivery_configuration"]
    assert delivery["assessed"] is True
    assert delivery["measures"]["no_ci_definition"] == 1  # the scenarios carry no CI files
    assert data["delivery"]["summary"]["ci_systems"] == []


def _synthetic(
    pending: int, picks: int, missing: int, untested: int, conflicts: int
) -> dict[str, Any]:
    finding = itertools.count()

    def make(kind: str, **fields: Any) -> dict[str, Any]:
        return {"id": f"{kind}-{next(finding)}", "kind": kind, **fields}

    findings = [make("pending", age_days=10 * i) for i in range(pending)]
    findings += [make("cherry_pick") for _ in range(picks)]
    findings += [make("missing_hotfix", age_days=5 * i) for i in range(missing)]
    findings += [make("hotfix") for _ in range(missing)]
    findings += [make("untested_release", time="2025-06-01T00:00:00Z") for _ in range(untested)]
    findings += [make("conflict_merge") for _ in range(conflicts)]
    findings.append(
        make(
            "divergence",
            ahead=1,
            behind=pending,
            downstream_only_changes=0,
            upstream="dev",
            downstream="prod",
        )
    )
    return {
        "environments": [{"name": "dev"}, {"name": "prod"}],
        "settings": {"as_of": "2025-07-01T00:00:00Z"},
        "generated_at": "2025-07-01T00:00:00Z",
        "findings": findings,
        "commits": {},
    }


counts = st.integers(min_value=0, max_value=30)


@settings(max_examples=200, deadline=None)
@given(
    base=st.tuples(counts, counts, counts, counts, counts),
    which=st.integers(0, 4),
    extra=st.integers(1, 10),
)
def test_more_of_anything_bad_never_raises_the_score(
    base: tuple[int, int, int, int, int], which: int, extra: int
) -> None:
    worse = list(base)
    worse[which] += extra
    assert readiness(_synthetic(*worse))["score"] <= readiness(_synthetic(*base))["score"]


def test_plan_orders_the_migration_path_with_evidence(reports: dict[str, dict[str, Any]]) -> None:
    data = reports["hotfix_forgotten_on_dev"]
    plan = migration_plan(data)
    assert [s["key"] for s in plan][:2] == ["release_identity", "establish_main"]
    assert [s["order"] for s in plan] == list(range(1, len(plan) + 1))
    main = next(s for s in plan if s["key"] == "establish_main")
    assert main["status"] == "todo"
    hotfix = next(f for f in data["findings"] if f["kind"] == "missing_hotfix")
    assert hotfix["id"] in main["findings"]
    assert any(hotfix["commit"][:10] in line for line in main["actions"])
    retire = plan[-1]
    assert retire["key"] == "retire_environment_branches" and retire["status"] == "todo"


def test_plan_marks_satisfied_steps_done(reports: dict[str, dict[str, Any]]) -> None:
    plan = {s["key"]: s for s in migration_plan(reports["feature_picks_x"])}
    assert plan["establish_main"]["status"] == "done"
    assert plan["establish_main"]["actions"] == []
    assert plan["establish_main"]["evidence"]
    assert migration_plan(reports["clean_trunk"]) == []


def test_scores_do_not_mutate_the_report(reports: dict[str, dict[str, Any]]) -> None:
    data = reports["gitflow"]
    before = copy.deepcopy(data)
    readiness(data)
    migration_plan(data)
    assert data == before


def test_counts_of_one_read_in_the_singular(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The verdict, the plan and the headline risks are read by people who are not engineers:
    a pick, a hotfix and a back-merge of one each are "1 commit was copied", never "1 commits
    were copied"."""
    b = four_envs(tmp_path_factory.mktemp("one_each"))
    data = run_audit(b.path, Settings(), now=0).to_dict()
    plan = [line for step in data["plan"] for line in step["evidence"] + step["actions"]]
    risks = [risk["text"] for risk in headline_risks(data)]
    sentences = data["summary"]["verdict"] + plan + risks
    assert "1 fix made on prod or below never reached dev; it is 0 days old." in risks
    assert "1 commit was copied between environments by cherry-pick." in plan
    assert "1 fix exists downstream but not on every environment above it." in plan
    assert "Bring the downstream-only fix to dev first:" in plan
    assert any(s.startswith("1 fix made downstream never reached") for s in sentences)
    nouns = "commits|fixes|merges|back-merges|changes|reverts|versions|days|manifests|images|files"
    assert not [s for s in sentences if re.search(rf"\b1 (\w+ )?({nouns})\b", s)]
