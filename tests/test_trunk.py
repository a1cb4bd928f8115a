"""The change-fail proxy and the trunk-based measures on one purpose-built history, exact.

dev -> prod, every step at 10:00 UTC on day N of the fixtures' clock (Monday 2025-01-06):

    day 1   f1 on dev                       day 2   R1: merge dev into prod
    day 3   R2: hotfix h1 committed on prod (a release, and a hotfix)
    day 3   old-work branched from dev (merge-base f1, day 1); commits on days 4 and 50
    day 5   stale branched from dev; last commit day 10 (not active)
    day 17  f2 on feat-a, merged into dev day 18   day 19  R3: merge dev into prod
    day 25  f3 on dev                       day 26  R4: merge dev into prod
    day 30  R5: revert of f3 on prod
    day 46  f4 on feat-b, merged into dev day 47   day 48  R6: merge dev into prod
    day 47  fresh branched from dev; commit day 55 (merge-base day 47: not long-lived)
    day 50  f5 on dev                       day 51  R7: merge dev into prod
    day 59  f6 on dev                       day 60  R8: merge dev into prod (as of)

Releases counted (7 days over before as of): R1..R7; R8 is too recent. Followed within 7
days: R1 (h1 on day 3) and R4 (the revert on day 30): 2 of 7. Freeze gaps over 14 days:
R2 -> R3 (16 days) and R5 -> R6 (18 days). Merges on dev's first-parent line: days 18 and 47
of the 61 calendar days from day 0 to day 60. Long-lived active branches: old-work only
(local and origin/old-work counted once), merge-base 59 days before as of.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drift.render.html import tiles, trunk_view
from drift_fixtures.builder import RepoBuilder
from drift_fixtures.metrics_scenarios import at
from drift_fixtures.scenarios import module
from tests.test_metrics import Audited, audit


def _feature(b: RepoBuilder, day: float, name: str) -> str:
    at(b, day)
    return b.commit(f"Add {name}", {f"shop/{name}.py": module(f"{name}.", name)}, hours=0)


def _merge(b: RepoBuilder, day: float, src: str, dst: str) -> str:
    at(b, day)
    b.checkout(dst)
    return b.merge(src, message=f"Merge branch '{src}' into {dst}", hours=0)


def build(root: Path) -> tuple[Audited, dict[str, str]]:
    ids: dict[str, str] = {}
    b = RepoBuilder.init(root / "trunk", branch="dev")
    b.commit("Initial commit", {"README.md": "# shop\n"}, hours=0)
    b.commit("Add package", {"shop/__init__.py": ""}, hours=0)
    b.branch("prod", "dev")
    ids["f1"] = _feature(b, 1, "f1")
    ids["R1"] = _merge(b, 2, "dev", "prod")
    at(b, 3)
    ids["R2"] = b.commit("Fix checkout crash", {"shop/h1.py": "FIX = 1\n"}, hours=0)
    b.checkout("old-work", create_from="dev")
    ids["old1"] = _feature(b, 4, "old1")
    b.checkout("stale", create_from="dev")
    _feature(b, 10, "stale1")
    b.checkout("feat-a", create_from="dev")
    _feature(b, 17, "f2")
    _merge(b, 18, "feat-a", "dev")
    ids["R3"] = _merge(b, 19, "dev", "prod")
    b.checkout("dev")
    ids["f3"] = _feature(b, 25, "f3")
    ids["R4"] = _merge(b, 26, "dev", "prod")
    at(b, 30)
    ids["R5"] = b.revert(ids["f3"], hours=0)
    b.checkout("feat-b", create_from="dev")
    _feature(b, 46, "f4")
    ids["M2"] = _merge(b, 47, "feat-b", "dev")
    ids["M1"] = b.git("rev-parse", "dev~1")
    b.checkout("fresh", create_from="dev")
    ids["R6"] = _merge(b, 48, "dev", "prod")
    b.checkout("old-work")
    ids["old2"] = _feature(b, 50, "old2")
    b.git("update-ref", "refs/remotes/origin/old-work", ids["old2"])
    b.git("tag", "old-tag", ids["old2"])
    b.checkout("dev")
    _feature(b, 50, "f5")
    ids["R7"] = _merge(b, 51, "dev", "prod")
    b.checkout("fresh")
    _feature(b, 55, "fresh1")
    b.checkout("dev")
    _feature(b, 59, "f6")
    ids["R8"] = _merge(b, 60, "dev", "prod")
    ids["M1"] = b.git("log", "--first-parent", "--merges", "--format=%H", "dev").split()[-1]
    return audit(b.path, ["dev", "prod"]), ids


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Audited, dict[str, str], Any]:
    audited, ids = build(tmp_path_factory.mktemp("trunk"))
    return audited, ids, audited.metrics()


def test_change_fail_proxy_counts_releases_followed_by_a_hotfix_or_revert(
    built: tuple[Audited, dict[str, str], Any],
) -> None:
    _, ids, metrics = built
    fail = metrics["change_fail_proxy"]
    releases = sorted(ids[f"R{n}"] for n in range(1, 8))
    assert fail["env"] == "prod"
    assert fail["days"] == 7
    assert (fail["releases"], fail["followed"], fail["share"]) == (7, 2, 0.286)
    assert fail["release_commits"] == releases
    assert fail["releases_followed"] == sorted([ids["R1"], ids["R4"]])
    assert fail["too_recent"] == [ids["R8"]]
    assert fail["by_hotfix"] == [ids["R2"]]  # the hotfix is its own change's id
    assert fail["by_revert"] == [ids["R5"]]
    assert fail["by"] == sorted([ids["R2"], ids["R5"]])


def test_long_lived_active_branches(built: tuple[Audited, dict[str, str], Any]) -> None:
    _, ids, metrics = built
    long_lived = metrics["trunk"]["long_lived_branches"]
    assert metrics["trunk"]["integration"] == "dev"
    assert (long_lived["count"], long_lived["target_max"], long_lived["meets_target"]) == (
        1,
        3,
        True,
    )
    (branch,) = long_lived["branches"]
    assert branch["name"] == "old-work"
    assert branch["refs"] == ["refs/heads/old-work", "refs/remotes/origin/old-work"]
    assert branch["tip"] == ids["old2"]
    assert branch["merge_base"] == ids["f1"]
    assert branch["days_since_merge_base"] == 59.0


def test_share_of_days_with_merges_into_the_integration_branch(
    built: tuple[Audited, dict[str, str], Any],
) -> None:
    _, ids, metrics = built
    merges = metrics["trunk"]["merge_days"]
    assert (merges["from"], merges["to"]) == ("2025-01-06", "2025-03-07")
    assert (merges["days"], merges["days_with_merges"], merges["share"]) == (61, 2, 0.033)
    assert merges["dates"] == ["2025-01-24", "2025-02-22"]
    assert merges["merges"] == sorted([ids["M1"], ids["M2"]])


def test_freeze_windows_are_the_longest_gaps_between_releases(
    built: tuple[Audited, dict[str, str], Any],
) -> None:
    _, ids, metrics = built
    freezes = metrics["trunk"]["freeze_windows"]
    assert (freezes["env"], freezes["min_days"], freezes["releases"]) == ("prod", 14, 8)
    assert freezes["count"] == 2
    spans = [(g["days"], g["after"], g["before"], g["ongoing"]) for g in freezes["longest"]]
    assert spans == [(18.0, ids["R5"], ids["R6"], False), (16.0, ids["R2"], ids["R3"], False)]


def test_tile_and_ladder_show_the_numbers(built: tuple[Audited, dict[str, str], Any]) -> None:
    _, _, metrics = built
    data: dict[str, Any] = {"metrics": metrics}
    tile = next(t for t in tiles(data) if t["title"].startswith("Change-fail proxy"))
    assert (tile["value"], tile["n"], tile["unit"]) == (28.6, 7, "%")
    assert "within 7 days" in tile["title"]
    assert tile["ids"] == metrics["change_fail_proxy"]["releases_followed"]
    view = trunk_view(data)
    assert view is not None and view["merge_days"]["share_pct"] == 3.3
    assert view["branches"]["count"] == 1
