"""Accepted drift: findings a baseline or a `Drift-Ignore: <reason>` trailer accepts.

Accepting never removes a finding: it gains `accepted: {reason, source, ...}`, the summary
gains `accepted` counts, and gates skip it. A trailer marks its commit as deliberately not
promoted, so every finding naming that commit (or another commit of the same change) is
accepted; divergence findings sum up a pair and are accepted only by a baseline.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from drift.findings.model import KINDS
from drift.report import COMMIT_FIELDS

_TRAILER = re.compile(r"^drift-ignore:[ \t]*(\S.*?)\s*$", re.IGNORECASE | re.MULTILINE)


def drift_ignore(message: str) -> str | None:
    """The reason of the last `Drift-Ignore:` trailer in a commit message, if any."""
    reasons = _TRAILER.findall(message)
    return str(reasons[-1]) if reasons else None


def named_commits(finding: dict[str, Any]) -> list[str]:
    """Commit ids a finding is about (divergence: none).

    Only the single-commit fields: lists such as `reverted_by` name commits the finding
    mentions, not the one it is about.
    """
    if finding["kind"] == "divergence":
        return []
    return [finding[k] for k in COMMIT_FIELDS if isinstance(finding.get(k), str)]


def trailer_reasons(data: dict[str, Any], message_of: Callable[[str], str]) -> dict[str, str]:
    """Commit id -> reason, for the commits findings name (and their changes) with a trailer."""
    siblings: dict[str, list[str]] = {}
    for change in data.get("changes", []):
        for commit in change["commits"]:
            siblings[commit] = change["commits"]
    wanted = {c for f in data["findings"] for n in named_commits(f) for c in siblings.get(n, [n])}
    reasons = {}
    for commit in sorted(wanted):
        reason = drift_ignore(message_of(commit))
        if reason is not None:
            reasons[commit] = reason
    return reasons


def accept(
    data: dict[str, Any],
    *,
    trailers: dict[str, str] | None = None,
    baseline: dict[str, dict[str, Any]] | None = None,
    baseline_source: str = "baseline",
) -> dict[str, Any]:
    """A copy of the report with accepted findings marked and counted.

    `trailers` maps commit ids to Drift-Ignore reasons; `baseline` maps finding ids to
    baseline entries (see drift.ci.baseline). A trailer wins over a baseline.
    """
    # Only accepted findings gain a field and only the summary gains a key: copying those (not
    # the whole report, 0.5 s of deepcopy at 100k commits) keeps `data` untouched, and the
    # findings list itself is copied only when a finding is accepted.
    findings: list[dict[str, Any]] = data["findings"]
    siblings: dict[str, list[str]] = {}
    if trailers:
        siblings = {c: ch["commits"] for ch in data.get("changes", []) for c in ch["commits"]}
    for n, finding in enumerate(data["findings"]):
        mark = _by_trailer(finding, trailers, siblings) if trailers else None
        if mark is None and baseline and finding["id"] in baseline:
            entry = baseline[finding["id"]]
            reason = entry.get("reason") or "known drift recorded in the baseline"
            mark = {"reason": str(reason), "source": "baseline", "file": baseline_source}
        if mark is not None:
            if findings is data["findings"]:
                findings = list(findings)
            findings[n] = {**finding, "accepted": mark}
    summary = {**data["summary"], "accepted": accepted_counts(findings)}
    return {**data, "findings": findings, "summary": summary}


def _by_trailer(
    finding: dict[str, Any], trailers: dict[str, str], siblings: dict[str, list[str]]
) -> dict[str, Any] | None:
    for named in named_commits(finding):
        for commit in siblings.get(named, [named]):
            if commit in trailers:
                return {"reason": trailers[commit], "source": "trailer", "commit": commit}
    return None


def accepted_counts(findings: list[dict[str, Any]]) -> dict[str, Any]:
    """How many findings are accepted, per kind and per source."""
    accepted = [f for f in findings if f.get("accepted")]
    kinds = Counter(f["kind"] for f in accepted)
    sources = Counter(f["accepted"]["source"] for f in accepted)
    return {
        "total": len(accepted),
        "by_kind": {kind: kinds.get(kind, 0) for kind in KINDS},
        "by_source": {source: sources.get(source, 0) for source in ("baseline", "trailer")},
    }
