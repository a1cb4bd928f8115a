"""The findings behind the metrics' numbers: finding ids by kind and by the commit they are
about, so a number can list the findings a reader can open."""

from __future__ import annotations

from drift.findings.model import Finding

#: Finding kinds the metrics point at, and the field that names their commit.
KEY_FIELD = {
    "hotfix": "commit",
    "missing_hotfix": "commit",
    "cherry_pick": "copy",
    "back_merge": "merge",
    "promotion_merge": "merge",
    "cross_merge": "merge",
    "revert": "revert",
    "conflict_merge": "merge",
}


class FindingIndex:
    """Finding ids by kind and by the commit each finding is about."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        self.ids: dict[tuple[str, str], set[str]] = {}
        for finding in findings:
            field = KEY_FIELD.get(finding.kind)
            if field is not None:
                key = (finding.kind, str(finding.fields[field]))
                self.ids.setdefault(key, set()).add(finding.id)

    def of(self, kind: str, *commits: str) -> list[str]:
        """Sorted ids of the findings of `kind` about any of `commits`."""
        return sorted({i for c in commits for i in self.ids.get((kind, c), ())})
