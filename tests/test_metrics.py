"""Delivery metrics on purpose-built histories (exact numbers) and on the demo (sanity), with
introductions checked against plain git."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from drift.audit import open_repository
from drift.changes import Grouping, group_changes
from drift.config import EnvSpec, IgnoreRules, Settings
from drift.environments import resolve_chain
from drift.findings.context import AuditContext
from drift.findings.engine import compute_findings
from drift.findings.model import Finding
from drift.git import GitRepository
from drift.history import History, read_history
from drift.readiness.metrics import delivery_metrics
from drift.readiness.window import Window, build_window, group_window, read_window
from drift_fixtures.builder import EPOCH, RepoBuilder
from drift_fixtures.demo import build_demo
from drift_fixtures.metrics_scenarios import ALL, MetricsScenario
from drift_fixtures.scenarios import ALL as ENGINE_SCENARIOS
from tests.gitoracle import git
from tests.probes import audit_with_jobs, record_diffs

DAY = 86400


@dataclass
class Audited:
    """One repository analysed by the engine, ready for the metrics."""

    path: Path
    history: History
    grouping: Grouping
    findings: list[Finding]
    as_of: int
    settings: Settings
    labels: dict[str, str]

    @property
    def repo(self) -> GitRepository:
        return self.history.repo

    def metrics(self, window_days: int = 365, **kwargs: Any) -> dict[str, Any]:
        return delivery_metrics(
            self.repo,
            self.history.envs,
            self.history,
            self.grouping,
            self.findings,
            self.as_of,
            window_days,
            **kwargs,
        )

    def window(self, window_days: int = 365) -> Window:
        return build_window(self.repo, self.history, self.grouping, self.as_of, window_days)


def audit(
    path: Path,
    envs: list[str],
    settings: Settings | None = None,
    labels: dict[str, str] | None = None,
) -> Audited:
    """The engine's pipeline (as drift.audit runs it) up to the findings."""
    settings = settings or Settings(envs=tuple(EnvSpec(e) for e in envs))
    repo = open_repository(path, settings)
    chain = resolve_chain(repo, settings)
    history = read_history(repo, chain.envs)
    grouping = group_changes(history, settings)
    as_of = max(repo.commit(env.commit).commit_time for env in chain.envs)
    findings = compute_findings(AuditContext(history, grouping, settings, as_of))
    return Audited(path, history, grouping, findings, as_of, settings, labels or {})


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], MetricsScenario]:
    cache: dict[str, MetricsScenario] = {}

    def get(name: str) -> MetricsScenario:
        if name not in cache:
            cache[name] = ALL[name](tmp_path_factory.mktemp(name))
        return cache[name]

    return get


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Audited:
    scenario = build_demo(tmp_path_factory.mktemp("demo"))
    return audit(scenario.path, scenario.envs, labels=scenario.labels)


def scenario_audit(scenario: MetricsScenario) -> Audited:
    return audit(scenario.path, scenario.envs, labels=scenario.labels)


def day(n: float) -> int:
    """10:00 UTC on day n of the fixtures' clock (as metrics_scenarios.at sets it)."""
    return EPOCH + int(n * DAY) + 3600


# -- exact numbers on purpose-built histories -------------------------------------------------


def test_lead_times_of_changes_promoted_into_the_common_base(
    built: Callable[[str], MetricsScenario],
) -> None:
    scenario = built("promoted_everywhere")
    audited = scenario_audit(scenario)
    assert audited.grouping.changes == []  # the engine sees no change: all in the common base
    lead = audited.metrics()["lead_time"]
    labels = scenario.labels
    steps = [(s["from"], s["to"]) for s in lead["steps"]]
    assert steps == [("dev", "test"), ("test", "staging"), ("staging", "prod")]
    numbers = [(s["median_days"], s["p90_days"], s["count"]) for s in lead["steps"]]
    assert numbers == scenario.expected["steps"] == [(1.0, 2.0, 3), (5.0, 5.0, 3), (2.0, 2.0, 3)]
    e2e = lead["end_to_end"]
    assert (e2e["from"], e2e["to"]) == ("dev", "prod")
    assert (e2e["median_days"], e2e["p90_days"], e2e["count"]) == scenario.expected["end_to_end"]
    features = sorted(labels[n] for n in ("search", "cart", "tax"))
    for step in [*lead["steps"], e2e]:
        assert step["changes"] == features
        assert step["fast_forward"]["changes"] == sorted([labels["base1"], labels["base2"]])
        assert step["against_flow"]["count"] == 0


def test_single_change_lead_times_are_the_day_differences(
    built: Callable[[str], MetricsScenario],
) -> None:
    """search: dev day 1, test day 3, staging day 8, prod day 10 -> 2, 5, 2 and 9."""
    scenario = built("promoted_everywhere")
    audited = scenario_audit(scenario)
    window = audited.window()
    search = window.change_of[scenario.labels["search"]]
    times = [a.time if a else None for a in search.arrivals]
    assert times == [day(1), day(3), day(8), day(10)]
    vias = [a.via if a else None for a in search.arrivals]
    labels = scenario.labels
    expected_vias = ["search", "promote_test_1", "promote_staging", "promote_prod"]
    assert vias == [labels["search"], *(labels[n] for n in expected_vias[1:])]


def test_monthly_counts_take_findings_outside_the_base_and_commits_inside(
    built: Callable[[str], MetricsScenario],
) -> None:
    scenario = built("promoted_everywhere")
    audited = scenario_audit(scenario)
    monthly = audited.metrics()["monthly"]
    january = next(m for m in monthly["months"] if m["month"] == "2025-01")
    labels = scenario.labels
    base = scenario.expected["base_merges"]
    assert isinstance(base, dict)
    for event, names in base.items():
        assert january[event]["commits"] == sorted(labels[n] for n in names)
    merge_findings = {
        f.id for f in audited.findings if f.kind == "promotion_merge"
    }  # exactly the last three promotions
    assert {f.fields["merge"] for f in audited.findings if f.kind == "promotion_merge"} == {
        labels[n] for n in ("promote_test_3", "promote_staging_2", "promote_prod_2")
    }
    assert set(january["promotion_merges"]["findings"]) == merge_findings
    assert january["promotion_merges"]["count"] == 7
    assert january["back_merges"]["count"] == 1
    assert monthly["totals"]["promotion_merges"] == 7
    assert "common base" in monthly["scope"]


def test_arrival_shares_by_merge_pick_and_direct(built: Callable[[str], MetricsScenario]) -> None:
    scenario = built("arrivals_and_hotfixes")
    audited = scenario_audit(scenario)
    test_env = audited.metrics()["arrival"][1]
    assert test_env["env"] == "test"
    labels = scenario.labels
    expected = scenario.expected["test_arrivals"]
    assert isinstance(expected, dict)
    buckets = {
        "merge": test_env["merge"],
        "trailer": test_env["cherry_pick"]["trailer"],
        "patch-id": test_env["cherry_pick"]["patch-id"],
        "direct": test_env["direct"],
        "fast_forward": test_env["fast_forward"],
    }
    for name, leaf in buckets.items():
        # a change is named by its first-introduced commit: the original on dev
        assert leaf["changes"] == sorted(labels[n] for n in expected[name]), name
    assert test_env["changes"] == 6
    assert [buckets[n]["share"] for n in ("merge", "trailer", "patch-id", "direct")] == [0.167] * 4
    assert buckets["fast_forward"]["share"] == 0.333
    assert test_env["cherry_pick"]["similar"]["count"] == 0
    picks = {f.fields["copy"]: f.id for f in audited.findings if f.kind == "cherry_pick"}
    assert buckets["trailer"]["findings"] == [picks[labels["cart_on_test"]]]
    assert buckets["patch-id"]["findings"] == [picks[labels["tax_on_test"]]]
    merge = next(f for f in audited.findings if f.fields.get("merge") == labels["merge_search"])
    assert (merge.kind, buckets["merge"]["findings"]) == ("promotion_merge", [merge.id])


def test_hotfix_rate_back_propagation_and_still_missing(
    built: Callable[[str], MetricsScenario],
) -> None:
    scenario = built("arrivals_and_hotfixes")
    audited = scenario_audit(scenario)
    hotfixes = audited.metrics()["hotfixes"]
    labels = scenario.labels
    assert hotfixes["changes"] == sorted(labels[n] for n in scenario.expected["hotfixes"])
    assert hotfixes["count"] == 2
    # base1, base2, search, cart, tax, wishlist, test_fix, hotfix, the revert
    assert hotfixes["rate"] == round(2 / 9, 3)
    engine = {f.id for f in audited.findings if f.kind == "hotfix"}
    assert set(hotfixes["findings"]) == engine and len(engine) == 2
    back = hotfixes["back_propagation"]
    six = scenario.expected["back_propagation_days"]
    assert (back["to"], back["count"], back["median_days"], back["p90_days"]) == (
        "dev",
        1,
        six,
        six,
    )
    assert back["changes"] == [labels["hotfix"]]
    missing = {m["commit"]: (m["missing_from"], m["age_days"]) for m in hotfixes["still_missing"]}
    assert missing == {
        labels["hotfix"]: (["test", "staging"], 10),
        labels["test_fix"]: (["dev"], 32),
    }
    ids = {f.id for f in audited.findings if f.kind == "missing_hotfix"}
    assert {m["finding"] for m in hotfixes["still_missing"]} == ids


def test_a_hotfix_picked_back_into_the_common_base_is_one_change(
    built: Callable[[str], MetricsScenario],
) -> None:
    """The copy was promoted into the common base: the engine joins it by its trailer (reading
    base messages, never base diffs), so nothing is missing, and the metrics agree."""
    scenario = built("hotfix_picked_back")
    audited = scenario_audit(scenario)
    labels = scenario.labels
    metrics = audited.metrics()
    change = audited.window().change_of[labels["hotfix_on_dev"]]
    assert change.id == labels["hotfix"] and not change.in_base
    assert change.commits == tuple(sorted([labels["hotfix"], labels["hotfix_on_dev"]]))
    back = metrics["hotfixes"]["back_propagation"]
    days = scenario.expected["back_propagation_days"]
    assert (back["count"], back["median_days"], back["changes"]) == (1, days, [labels["hotfix"]])
    dev = metrics["arrival"][0]
    assert dev["cherry_pick"]["trailer"]["changes"] == [labels["hotfix"]]
    (pick,) = [f for f in audited.findings if f.kind == "cherry_pick"]
    assert (pick.fields["original"], pick.fields["copy"]) == (
        labels["hotfix"],
        labels["hotfix_on_dev"],
    )
    assert dev["cherry_pick"]["trailer"]["findings"] == [pick.id]
    assert metrics["hotfixes"]["still_missing"] == []
    january = metrics["monthly"]["months"][-1]
    # counted once, through its finding (a base event without a finding is listed by commit)
    assert january["cherry_picks"] == {"count": 1, "findings": [pick.id], "commits": []}


def test_monthly_counts_match_the_findings(built: Callable[[str], MetricsScenario]) -> None:
    scenario = built("arrivals_and_hotfixes")
    audited = scenario_audit(scenario)
    months = {m["month"]: m for m in audited.metrics()["monthly"]["months"]}
    expected = scenario.expected["monthly"]
    assert isinstance(expected, dict)
    events = ("back_merges", "promotion_merges", "cherry_picks", "conflict_merges", "reverts")
    for key, counts in expected.items():
        assert {e: months[key][e]["count"] for e in events} == {e: counts.get(e, 0) for e in events}
        assert all(months[key][e]["commits"] == [] for e in events)  # all outside the base
    assert_monthly_findings_complete(audited)


def test_drift_grows_month_by_month(built: Callable[[str], MetricsScenario]) -> None:
    scenario = built("drift_grows")
    audited = scenario_audit(scenario)
    (pair,) = audited.metrics()["drift_over_time"]
    assert (pair["upstream"], pair["downstream"]) == ("dev", "test")
    months = {m["period"]: m for m in pair["months"]}
    expected = scenario.expected["months"]
    assert isinstance(expected, dict)
    assert {k: months[k]["pending"] for k in expected} == expected
    f2 = scenario.labels["f2"]
    january_end = int(datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC).timestamp())
    assert months["2025-01"]["at"] == "2025-01-31T23:59:59Z"
    assert months["2025-01"]["oldest"] == f2 == scenario.labels[scenario.expected["oldest"]]
    assert months["2025-01"]["oldest_days"] == round((january_end - day(10)) / DAY, 1)
    assert months["2025-03"]["at"] == "2025-03-27T10:00:00Z"  # the last point is as_of
    assert months["2025-03"]["oldest_days"] == 70.0
    assert pair["trend"]["direction"] == "growing" and pair["trend"]["last"] == 6
    weekly = [w["pending"] for w in pair["weeks"]]
    assert len(weekly) == 12 and weekly == sorted(weekly)
    assert pair["weeks"][-1]["changes"] == months["2025-03"]["changes"]


def test_window_length_is_a_parameter(built: Callable[[str], MetricsScenario]) -> None:
    """A 40-day window counts only what happened in it, but still sees what was pending when it
    opened (the lead-in)."""
    scenario = built("drift_grows")
    audited = scenario_audit(scenario)
    metrics = audited.metrics(window_days=40)
    window = metrics["window"]
    assert (window["start"], window["end"], window["days"]) == (
        "2025-02-15T10:00:00Z",
        "2025-03-27T10:00:00Z",
        40,
    )
    assert window["commits"] == 4 and window["changes"] == 4  # f4 .. f7
    (pair,) = metrics["drift_over_time"]
    assert [(m["period"], m["pending"]) for m in pair["months"]] == [("2025-02", 3), ("2025-03", 6)]
    assert pair["months"][0]["oldest"] == scenario.labels["f2"]


def test_cadence_of_the_most_downstream_environment(
    built: Callable[[str], MetricsScenario],
) -> None:
    scenario = built("promoted_everywhere")
    audited = scenario_audit(scenario)
    cadence = audited.metrics()["cadence"]
    labels = scenario.labels
    assert cadence["env"] == "prod"
    weeks = {w["week"]: w for w in cadence["weeks"]}
    # 2025-01-06 (base1, base2) is in ISO week 2; days 10 and 14 (16th, 20th) in weeks 3 and 4.
    assert weeks["2025-W02"]["first_parent_commits"]["count"] == 2
    assert weeks["2025-W03"]["first_parent_commits"]["commits"] == [labels["promote_prod"]]
    assert weeks["2025-W03"]["changes"]["changes"] == sorted(
        labels[n] for n in ("search", "cart", "tax")
    )
    assert weeks["2025-W04"]["first_parent_commits"]["commits"] == [labels["promote_prod_2"]]
    assert weeks["2025-W04"]["changes"]["count"] == 0
    assert [w["week"] for w in cadence["weeks"]] == ["2025-W02", "2025-W03", "2025-W04"]
    assert cadence["median_changes_per_week"] == 2.0  # 2, 3 and 0 changes
    assert sum(w["changes"]["count"] for w in cadence["weeks"]) == 5


def test_ignore_rules_apply_inside_the_common_base(
    built: Callable[[str], MetricsScenario],
) -> None:
    scenario = built("promoted_everywhere")
    settings = Settings(
        envs=tuple(EnvSpec(e) for e in scenario.envs),
        ignore=IgnoreRules(messages=("^Add cart",)),
    )
    audited = audit(scenario.path, scenario.envs, settings)
    lead = audited.metrics(settings=settings)["lead_time"]
    assert scenario.labels["cart"] not in lead["end_to_end"]["changes"]
    assert lead["end_to_end"]["count"] == 2


@pytest.mark.parametrize("jobs", ["1", None])
def test_an_audit_applies_its_ignore_rules_inside_the_common_base(
    built: Callable[[str], MetricsScenario], monkeypatch: pytest.MonkeyPatch, jobs: str | None
) -> None:
    """As above, through the audit: in process, and in the child that reads the window."""
    scenario = built("promoted_everywhere")
    settings = Settings(
        envs=tuple(EnvSpec(e) for e in scenario.envs),
        ignore=IgnoreRules(messages=("^Add cart",)),
    )
    lead = audit_with_jobs(scenario.path, monkeypatch, jobs, settings)["metrics"]["lead_time"]
    assert scenario.labels["cart"] not in lead["end_to_end"]["changes"]
    assert lead["end_to_end"]["count"] == 2


# -- invariants on every history --------------------------------------------------------------


def assert_monthly_findings_complete(audited: Audited) -> None:
    """Every finding of a monthly kind is listed in exactly one month, and counted."""
    kinds = {
        "back_merges": "back_merge",
        "promotion_merges": "promotion_merge",
        "cherry_picks": "cherry_pick",
        "conflict_merges": "conflict_merge",
        "reverts": "revert",
    }
    monthly = audited.metrics()["monthly"]
    for event, kind in kinds.items():
        listed = [f for m in monthly["months"] for f in m[event]["findings"]]
        assert sorted(listed) == sorted({f.id for f in audited.findings if f.kind == kind})
        counted = sum(
            len(m[event]["findings"]) + len(m[event]["commits"]) for m in monthly["months"]
        )
        assert monthly["totals"][event] == counted


def assert_consistent(audited: Audited) -> None:
    """Counts that must agree with each other and with the engine's findings."""
    metrics = audited.metrics()
    names = [env.name for env in audited.history.envs]
    window = audited.window()
    for step in [*metrics["lead_time"]["steps"], metrics["lead_time"]["end_to_end"]]:
        to = names.index(step["to"])
        arrived = sum(
            1 for c in window.changes if (a := c.arrivals[to]) and window.in_window(a.time)
        )
        parts = step["count"] + step["against_flow"]["count"] + step["fast_forward"]["count"]
        assert parts == arrived
        assert step["median_days"] is None or step["median_days"] <= step["p90_days"]
    for env in metrics["arrival"]:
        leaves = [env["merge"], env["fast_forward"], env["direct"], *env["cherry_pick"].values()]
        assert sum(leaf["count"] for leaf in leaves) == env["changes"]
        all_ids = [c for leaf in leaves for c in leaf["changes"]]
        assert len(all_ids) == len(set(all_ids)) == env["changes"]
    cadence = metrics["cadence"]
    assert sum(w["changes"]["count"] for w in cadence["weeks"]) == metrics["arrival"][-1]["changes"]
    # at as_of, what is pending is exactly what the engine reports as pending
    for pair in metrics["drift_over_time"]:
        last = pair["weeks"][-1]
        assert last["at"] == metrics["window"]["end"]
        engine = sorted(
            f.fields["change"]
            for f in audited.findings
            if f.kind == "pending"
            and (f.fields["upstream"], f.fields["downstream"])
            == (pair["upstream"], pair["downstream"])
        )
        assert last["changes"] == engine
    hotfixes = metrics["hotfixes"]
    engine_hotfixes = {f.id for f in audited.findings if f.kind == "hotfix"}
    assert engine_hotfixes <= set(hotfixes["findings"])
    missing = {f.id for f in audited.findings if f.kind == "missing_hotfix"}
    assert {m["finding"] for m in hotfixes["still_missing"]} == missing
    assert_monthly_findings_complete(audited)


def assert_introductions_agree_with_git(audited: Audited) -> None:
    """Each first-parent commit V of an environment in the window introduces exactly the
    window's commits of `git rev-list V ^V^1` (V itself when it is not a merge)."""
    window = audited.window()
    for env, line in zip(audited.history.envs, window.first_parent, strict=True):
        index = audited.history.envs.index(env)
        first_parent = git(audited.path, "rev-list", "--first-parent", env.commit).split()
        assert set(line) <= set(first_parent)
        expected: dict[str, str] = {}
        for via in line:
            parents = window.commits[via].parents
            if len(parents) > 1:
                brought = git(audited.path, "rev-list", via, f"^{parents[0]}").split()
            else:
                brought = [via]
            expected.update((c, via) for c in brought if c in window.commits)
        actual = {c: i.via for c, i in window.intro[index].items() if c in window.commits}
        assert actual == expected, env.name


@pytest.mark.parametrize("name", sorted(ALL))
def test_invariants_on_metrics_scenarios(
    name: str, built: Callable[[str], MetricsScenario]
) -> None:
    audited = scenario_audit(built(name))
    assert_consistent(audited)
    assert_introductions_agree_with_git(audited)


@pytest.mark.parametrize("name", sorted(n for n in ENGINE_SCENARIOS if n != "clean_trunk"))
def test_invariants_on_engine_scenarios(name: str, tmp_path: Path) -> None:
    scenario = ENGINE_SCENARIOS[name](tmp_path)
    audited = audit(scenario.path, scenario.envs)
    assert_consistent(audited)
    assert_introductions_agree_with_git(audited)


# -- the demo ---------------------------------------------------------------------------------


def test_demo_metrics_are_sane(demo: Audited) -> None:
    metrics = demo.metrics()
    assert_consistent(demo)
    for step in [*metrics["lead_time"]["steps"], metrics["lead_time"]["end_to_end"]]:
        assert step["count"] > 50
        assert 0 < step["median_days"] <= step["p90_days"] < 60
    e2e = metrics["lead_time"]["end_to_end"]
    assert e2e["median_days"] >= max(s["median_days"] for s in metrics["lead_time"]["steps"])
    # most changes reach test, staging and prod by the release-train merges
    for env in metrics["arrival"][1:]:
        assert env["merge"]["share"] > 0.9
    hotfixes = metrics["hotfixes"]
    assert len(hotfixes["still_missing"]) == 3
    assert (
        0 < hotfixes["back_propagation"]["median_days"] <= hotfixes["back_propagation"]["p90_days"]
    )
    # most hotfixes of the year were merged back everywhere: no finding, but counted here
    assert hotfixes["count"] > len(hotfixes["findings"]) == 3
    assert metrics["window"]["changes_in_common_base"] > 100
    assert metrics["monthly"]["totals"]["back_merges"] == 6
    labels = demo.labels
    window = demo.window()
    # a pick without -x, both commits now in the common base: not grouped (never diffed), so
    # the copy counts as a hotfix of test, and is flagged as a possible copy
    pagination = (labels["pagination"], labels["pagination_on_test"])
    assert pagination in window.possible_copies
    assert hotfixes["possible_copies"] == [labels["pagination_on_test"]]
    # a prod hotfix picked back to dev with -x, both in the common base: one change, back on
    # dev the next morning
    session = window.change_of[labels["hotfix_session_on_dev"]]
    assert session.id == labels["hotfix_session"]
    assert session.id in hotfixes["back_propagation"]["changes"]
    assert metrics["arrival"][0]["cherry_pick"]["trailer"]["count"] == 2
    staging_prod = metrics["drift_over_time"][2]
    assert staging_prod["trend"]["direction"] == "growing"  # the prod freeze from week 46


def test_demo_introductions_agree_with_git(demo: Audited) -> None:
    assert_introductions_agree_with_git(demo)


def test_demo_metrics_are_deterministic_json(demo: Audited) -> None:
    first = json.dumps(demo.metrics())
    again = audit(demo.path, [env.name for env in demo.history.envs])
    assert json.dumps(again.metrics()) == first


def test_metrics_never_diff_the_common_base(demo: Audited, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = audit(demo.path, [env.name for env in demo.history.envs])
    diffed = record_diffs(monkeypatch)
    fresh.metrics()
    assert all(fresh.history.outside_base(c) for c in diffed)


def test_the_common_bases_own_changes_are_made_before_the_grouping_as_after(
    tmp_path: Path,
) -> None:
    """read_window makes each of the base's changes ahead (the metrics child does it while
    the engine groups): the same changes as made at grouping time, a revert by message
    still a revert."""
    b = RepoBuilder.init(tmp_path / "r")
    b.commit("base", {"app.py": "1\n"})
    b.commit("feature", {"app.py": "2\n"}, label="feature")
    b.commit("other", {"other.py": "o\n"})
    revert = b.revert("feature")
    for name in ("test", "staging", "prod"):
        b.branch(name, "dev")
    repo = GitRepository.open(b.path)
    settings = Settings(envs=tuple(EnvSpec(n) for n in ("dev", "test", "staging", "prod")))
    history = read_history(repo, resolve_chain(repo, settings).envs)
    grouping = group_changes(history, settings)
    as_of = repo.commit(revert).commit_time + 86400
    ahead, late = (read_window(repo, history, as_of) for _ in range(2))
    assert revert in ahead.base_singles
    late.base_singles = {}  # every change made at grouping time, as before
    group_window(ahead, history, grouping)
    group_window(late, history, grouping)
    assert ahead.changes == late.changes
    assert ahead.change_of[revert].is_revert
    assert not ahead.change_of[b.rev("feature")].is_revert
