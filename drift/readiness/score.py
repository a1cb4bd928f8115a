"""The readiness score: how far this repository is from trunk-based delivery, and why.

Five named dimensions, each scored 0..100 from measured numbers. Every number enters
through a halving factor `0.5 ** (value / half)`: the score halves each time the value grows
by `half`. Factors multiply, so a dimension is monotone: more of anything bad never raises
it, and no single number can push it below zero. The overall score is the weighted mean
of the assessed dimensions (a dimension without data, e.g. delivery configuration of a
repository without CI files, is marked not assessed and its weight is redistributed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RECENT_DAYS = 180
READY = 80

BANDS = (
    (READY, "ready", "Ready: environment branches can be retired with little risk."),
    (60, "close", "Close: a few concrete drifts to settle before retiring environment branches."),
    (40, "work needed", "Work needed: the branches have drifted; settle the evidence below first."),
    (0, "far", "Far: environment branches hide substantial untested and unmerged work."),
)


@dataclass
class Dimension:
    """One scored aspect with the numbers that set it and the findings behind them."""

    name: str
    title: str
    weight: int
    measures: dict[str, float | int | bool] = field(default_factory=dict)
    factors: dict[str, float] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    assessed: bool = True

    def penalise(self, measure: str, value: float, half: float) -> None:
        """Record `value` and its halving factor."""
        self.measures[measure] = value
        self.factors[measure] = round(0.5 ** (max(value, 0.0) / half), 4)

    @property
    def score(self) -> int:
        """100 times the product of the factors, rounded down."""
        product = 1.0
        for factor in self.factors.values():
            product *= factor
        return int(100 * product)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "name": self.name,
            "title": self.title,
            "score": self.score if self.assessed else None,
            "weight": self.weight,
            "assessed": self.assessed,
            "measures": self.measures,
            "factors": self.factors,
            "findings": sorted(self.findings),
        }


def _of(findings: list[dict[str, Any]], *kinds: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["kind"] in kinds]


def _ids(findings: list[dict[str, Any]]) -> list[str]:
    return [str(f["id"]) for f in findings]


def _recent(findings: list[dict[str, Any]], as_of_day: str) -> list[dict[str, Any]]:
    """Findings whose `time` falls in the last RECENT_DAYS before `as_of` (ISO dates)."""
    from datetime import date, timedelta

    cutoff = (date.fromisoformat(as_of_day) - timedelta(days=RECENT_DAYS)).isoformat()
    return [f for f in findings if str(f.get("time", ""))[:10] >= cutoff]


def integration(findings: list[dict[str, Any]]) -> Dimension:
    """Do the environment branches hold the same changes?"""
    dim = Dimension("integration", "Integration: one line of changes", 25)
    pending = _of(findings, "pending")
    divergence = _of(findings, "divergence")
    only_down = sum(int(f["downstream_only_changes"]) for f in divergence)
    dim.penalise("pending_changes", len(pending), half=20)
    dim.penalise(
        "oldest_pending_days", max((int(f["age_days"]) for f in pending), default=0), half=60
    )
    dim.penalise("downstream_only_changes", only_down, half=10)
    dim.findings = _ids(pending) + _ids(divergence)
    return dim


def promotion(findings: list[dict[str, Any]]) -> Dimension:
    """Are changes promoted as they were tested, or copied and undone by hand?"""
    dim = Dimension("promotion", "Promotion: changes move forward unchanged", 20)
    picks = _of(findings, "cherry_pick")
    reverts = _of(findings, "revert")
    backs = _of(findings, "back_merge")
    dim.penalise("cherry_picks", len(picks), half=10)
    dim.penalise("reverts", len(reverts), half=8)
    dim.penalise("back_merges", len(backs), half=8)
    dim.findings = _ids(picks) + _ids(reverts) + _ids(backs)
    return dim


def hotfix_hygiene(findings: list[dict[str, Any]]) -> Dimension:
    """Do fixes made downstream reach every environment upstream?"""
    dim = Dimension("hotfix_hygiene", "Hotfix hygiene: fixes flow back upstream", 20)
    missing = _of(findings, "missing_hotfix")
    hotfixes = _of(findings, "hotfix")
    dim.penalise("missing_hotfixes", len(missing), half=2)
    dim.penalise(
        "oldest_missing_hotfix_days", max((int(f["age_days"]) for f in missing), default=0), half=90
    )
    dim.penalise("hotfixes_in_flight", len(hotfixes), half=10)
    dim.findings = _ids(missing) + _ids(hotfixes)
    return dim


def release_identity(findings: list[dict[str, Any]], as_of_day: str) -> Dimension:
    """Was what runs downstream tested as such, and did merges add untested content?"""
    dim = Dimension("release_identity", "Release identity: what runs is what was tested", 20)
    untested = _recent(_of(findings, "untested_release"), as_of_day)
    conflicts = _of(findings, "conflict_merge")
    dim.penalise(f"untested_releases_last_{RECENT_DAYS}_days", len(untested), half=3)
    dim.penalise("conflict_merges", len(conflicts), half=3)
    dim.findings = _ids(untested) + _ids(conflicts)
    return dim


def delivery_configuration(delivery: dict[str, Any] | None) -> Dimension:
    """Is the build done once and promoted, with pinned inputs and flags available?"""
    dim = Dimension("delivery_configuration", "Delivery configuration: build once, promote", 15)
    facts = (delivery or {}).get("summary")
    if not isinstance(facts, dict):
        dim.assessed = False
        return dim
    dim.penalise("no_ci_definition", int(not facts.get("ci_systems")), half=2)
    dim.penalise("rebuild_per_environment", int(bool(facts.get("rebuild_per_environment"))), half=1)
    dim.penalise("unpinned_base_images", int(facts.get("unpinned_base_images", 0)), half=4)
    dim.penalise("images_by_tag", int(facts.get("images_by_tag", 0)), half=4)
    dim.penalise("lockfiles_missing", len(facts.get("lockfiles_missing", [])), half=2)
    dim.penalise("no_flag_library", int(not facts.get("flag_libraries")), half=3)
    dim.penalise("differing_delivery_files", len(facts.get("differing_files", [])), half=4)
    return dim


def readiness(data: dict[str, Any]) -> dict[str, Any]:
    """The score, its band and its dimensions, from a report's JSON data."""
    findings: list[dict[str, Any]] = data["findings"]
    envs = data["environments"]
    if len(envs) < 2:
        return {
            "score": 100,
            "band": "ready",
            "summary": "Already one line of integration: no environment branches to retire.",
            "dimensions": [],
        }
    as_of_day = str(data["settings"].get("as_of") or data["generated_at"])[:10]
    dims = [
        integration(findings),
        promotion(findings),
        hotfix_hygiene(findings),
        release_identity(findings, as_of_day),
        delivery_configuration(data.get("delivery")),
    ]
    assessed = [d for d in dims if d.assessed]
    total = sum(d.weight for d in assessed)
    score = round(sum(d.score * d.weight for d in assessed) / total)
    blockers = _blockers(dims)
    if blockers:  # a cap only ever lowers the score, so monotonicity holds
        score = min(score, READY - 1)
    band = next(b for b in BANDS if score >= b[0])
    return {
        "score": score,
        "band": band[1],
        "summary": band[2],
        "blockers": blockers,
        "dimensions": [d.to_dict() for d in dims],
    }


def _blockers(dims: list[Dimension]) -> list[str]:
    """Findings that keep a repository out of the `ready` band whatever its other numbers:
    a fix missing upstream, or a recent release that was never tested as such."""
    measures = {k: v for d in dims for k, v in d.measures.items()}
    out = []
    if measures.get("missing_hotfixes"):
        out.append(f"{measures['missing_hotfixes']} fixes are missing upstream")
    recent = measures.get(f"untested_releases_last_{RECENT_DAYS}_days")
    if recent:
        out.append(f"{recent} releases in the last {RECENT_DAYS} days were never tested as such")
    return out
