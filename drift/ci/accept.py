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

_TRAILER = re.compile(r"^drift-ignore[ \t]*:[ \t]*(\S.*?)\s*$", re.IGNORECASE)
_ANY_TRAILER = re.compile(r"^[A-Za-z0-9-]+[ \t]*:")
_GIT_WRITES = ("Signed-off-by: ", "(cherry picked from commit ")


def drift_ignore(message: str) -> str | None:
    """The reason of the last `Drift-Ignore:` trailer in a commit message, if any: a line of
    its trailer block only, as `git interpret-trailers --parse` reads one, so that a
    `Drift-Ignore:` quoted in the body is not taken as the author's decision."""
    reasons: list[str] = []
    current = False  # whether the line before was a Drift-Ignore trailer
    for line in trailer_block(message):
        if line[:1] in (" ", "\t"):  # a continuation, joined by one space as git joins it
            if current and line.strip():
                reasons[-1] = f"{reasons[-1]} {line.strip()}"
            continue
        match = _TRAILER.match(line)
        current = match is not None
        if match is not None:
            reasons.append(match.group(1))
    return reasons[-1] if reasons else None


def trailer_block(message: str) -> list[str]:
    """The lines of a message's trailer block, by git's rule (trailer.c): the last paragraph,
    never the first (the title), whose lines are all trailers (`Token: value`, a line that
    starts with white space continuing the one before), or of which at least a quarter are
    and one is a line git writes itself (`Signed-off-by: `, `(cherry picked from commit `)."""
    lines = [line for line in message.split("\n") if not line.startswith("#")]
    while lines and not lines[-1].strip():
        lines.pop()
    title_end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    start = len(lines)
    while start > title_end and lines[start - 1].strip():
        start -= 1
    block = lines[start:]
    if start <= title_end or not block:
        return []
    trailers = others = 0
    git_wrote = False
    for line in block:
        if line[:1] in (" ", "\t") and trailers + others:  # a continuation line
            continue
        git_wrote = git_wrote or line.startswith(_GIT_WRITES)
        if _ANY_TRAILER.match(line) or line.startswith(_GIT_WRITES):
            trailers += 1
        else:
            others += 1
    if trailers and (not others or (git_wrote and trailers * 3 >= others)):
        return block
    return []


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
