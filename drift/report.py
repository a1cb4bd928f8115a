"""The report model: the one structure every renderer reads (shared/spec/report-json.md).

`Report.to_dict()` is the JSON document and the context of every view. Renderers never
see pygit2 or the history: whatever they show must be in here, so a saved JSON report
re-renders without the repository.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from drift import __version__
from drift.findings.model import KINDS, Finding
from drift.readiness.plan import migration_plan
from drift.readiness.score import readiness
from drift.topology import Topology
from drift.wording import plural, verb

# schema_version history:
#   1 - first release: environments, findings (engine kinds), summary counts, commits, changes;
#       untested_release, conflict_merge, environments[].tested_as, summary.readiness, plan
#       (additions only).
SCHEMA_VERSION = 1

# Finding fields that hold commit ids (single or list); their commits are described in
# `commits` so views can show subjects and authors without the repository.
COMMIT_FIELDS = ("commit", "original", "copy", "merge", "merged", "revert", "reverted")
COMMIT_LIST_FIELDS = ("reverted_by", "downstream_only")


@dataclass(frozen=True)
class Report:
    """Everything one audit found, ready to serialise."""

    generated_at: str
    repository: dict[str, Any]
    settings: dict[str, Any]
    environments: list[dict[str, Any]]
    findings: list[Finding]
    commits: dict[str, dict[str, Any]]
    changes: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)
    """Further top-level sections (delivery configuration, metrics) the score can read."""

    def summary(self) -> dict[str, Any]:
        """Counts per kind and per environment pair; each equals the findings behind it."""
        by_kind = Counter(f.kind for f in self.findings)
        names = [env["name"] for env in self.environments]
        position = {name: i for i, name in enumerate(names)}
        pairs: dict[tuple[str, str], Counter[str]] = {}
        for finding in self.findings:
            pair = finding.pair()
            if pair is not None and None not in pair:
                pairs.setdefault(pair, Counter())[finding.kind] += 1
        return {
            "by_kind": {kind: by_kind.get(kind, 0) for kind in KINDS},
            "by_pair": [
                {"from": a, "to": b, "counts": dict(sorted(counts.items()))}
                for (a, b), counts in sorted(
                    pairs.items(),
                    key=lambda item: (position.get(item[0][0], 99), position.get(item[0][1], 99)),
                )
            ],
            "verdict": verdict(
                self.findings, names, Topology.of_report(self.environments).leaf_names()
            ),
        }

    @cached_property
    def finding_dicts(self) -> list[dict[str, Any]]:
        """The findings as the JSON report lists them, made once: a view rendered while the
        audit waits for its metrics (drift.cli) is then of the very list `to_dict` gives."""
        return [f.to_dict() for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        """The JSON report; the readiness score and the plan are computed from it."""
        data: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "drift", "version": __version__},
            "generated_at": self.generated_at,
            "repository": self.repository,
            "settings": self.settings,
            "environments": self.environments,
            "summary": self.summary(),
            "findings": self.finding_dicts,
            "changes": self.changes,
            "commits": self.commits,
            "notes": self.notes,
            "stats": self.stats,
            **self.sections,
        }
        data["summary"]["not_analysed"] = len(self.sections.get("not_analysed", []))
        data["summary"]["readiness"] = readiness(data)
        data["plan"] = migration_plan(data)
        return data


def referenced_commits(findings: list[Finding]) -> dict[str, None]:
    """Every commit id a finding names, once each, in the order the findings name them.

    The order is the walk's for the long lists (untested releases down a line), which is
    the pack's: describing 29k commits at 300k in hash order instead read them all over a
    278 MB pack and cost 0.37 s more (most of it page faults)."""
    ids: dict[str, None] = {}
    single, listed = frozenset(COMMIT_FIELDS), frozenset(COMMIT_LIST_FIELDS)
    for finding in findings:
        for name, value in finding.fields.items():  # a few fields each: 46k findings at 300k
            if name in single:
                if isinstance(value, str):
                    ids[value] = None
            elif name in listed and value:
                for commit_id in value:
                    ids[commit_id] = None
    return ids


def verdict(findings: list[Finding], names: list[str], leaves: list[str]) -> list[str]:
    """A few plain-language sentences a non-engineer can act on, from the findings alone.

    `leaves` are the most downstream environments (one for a chain, one per release line)."""
    if len(names) < 2:
        only = names[0] if names else "one branch"
        return [
            f"Only one environment branch ({only}): nothing to compare. "
            "The repository already has a single line of integration."
        ]
    by_kind: dict[str, list[Finding]] = {}
    for finding in findings:
        by_kind.setdefault(finding.kind, []).append(finding)
    first = names[0]
    last = leaves[0] if len(leaves) == 1 else "every release line"
    lines: list[str] = []
    missing = by_kind.get("missing_hotfix", [])
    if missing:
        oldest = max(int(f.fields["age_days"]) for f in missing)
        lines.append(
            f"{plural(len(missing), 'fix', 'fixes')} made downstream never reached every "
            f"environment above it; {'it is' if len(missing) == 1 else 'the oldest is'} "
            f"{plural(oldest, 'day')} old. The next promotion can undo "
            f"{verb(len(missing), 'it', 'them')}."
        )
    pending = by_kind.get("pending", [])
    if pending:
        oldest = max(int(f.fields["age_days"]) for f in pending)
        lines.append(
            f"{plural(len(pending), 'change')} {verb(len(pending), 'waits', 'wait')} between "
            "adjacent environments; "
            f"{'it has' if len(pending) == 1 else 'the oldest has'} waited "
            f"{plural(oldest, 'day')}."
        )
    picks = by_kind.get("cherry_pick", [])
    if picks:
        lines.append(
            f"{plural(len(picks), 'commit')} {verb(len(picks), 'was', 'were')} copied between "
            "environment branches by "
            "cherry-pick instead of promoted: the same change exists as different commits, "
            "so what was tested is not, commit for commit, what was released."
        )
    untested = Counter(
        (f.fields["env"], f.fields["upstream"]) for f in by_kind.get("untested_release", [])
    )
    for (env, upstream), count in sorted(untested.items(), key=lambda i: names.index(i[0][0])):
        lines.append(
            f"{plural(count, 'version')} of {env} ran a tree that was never tested as "
            f"such on {upstream}."
        )
    conflicts = by_kind.get("conflict_merge", [])
    if conflicts:
        lines.append(
            f"{plural(len(conflicts), 'merge')} carried content that neither side had "
            "(conflicts resolved by hand, or edits slipped into the merge)."
        )
    backs = by_kind.get("back_merge", [])
    if backs:
        lines.append(
            f"{plural(len(backs), 'back-merge')} carried changes upstream against the flow."
        )
    reverts = by_kind.get("revert", [])
    if reverts:
        lines.append(f"{plural(len(reverts), 'revert')} undid changes on environment branches.")
    if not lines:
        lines.append(
            f"No drift: every change on {first} has reached {last} and nothing was copied by hand."
        )
    return lines
