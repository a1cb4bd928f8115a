"""Every finding kind of the audit engine, computed from one `AuditContext`."""

from __future__ import annotations

from drift.findings.context import AuditContext
from drift.findings.copies import cherry_picks, revert_findings
from drift.findings.hotfixes import hotfixes
from drift.findings.merges import merges
from drift.findings.model import KINDS, Finding
from drift.findings.presence import pending_and_divergence

__all__ = ["KINDS", "AuditContext", "Finding", "compute_findings"]


def compute_findings(ctx: AuditContext) -> list[Finding]:
    """All findings, sorted by kind (in KINDS order) and then by their identifying fields."""
    found = [
        *pending_and_divergence(ctx),
        *cherry_picks(ctx),
        *hotfixes(ctx),
        *merges(ctx),
        *revert_findings(ctx),
    ]
    order = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(found, key=lambda f: (order[f.kind], f.id))
