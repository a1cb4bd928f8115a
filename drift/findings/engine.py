"""Every finding kind of the audit engine, computed from one `AuditContext`."""

from __future__ import annotations

from drift.findings.conflicts import conflict_merges
from drift.findings.context import AuditContext
from drift.findings.copies import cherry_picks, revert_findings
from drift.findings.hotfixes import hotfixes
from drift.findings.merges import merges
from drift.findings.model import KINDS, Finding
from drift.findings.presence import pending_and_divergence
from drift.findings.releases import tip_identities, untested_releases

__all__ = ["compute_findings", "tip_identities"]


def compute_findings(
    ctx: AuditContext, merges_checked: tuple[list[Finding], list[str]] | None = None
) -> list[Finding]:
    """All findings, sorted by kind (in KINDS order) and then by their identifying fields.
    `merges_checked`: `conflict_merges` of this context, when it was run already."""
    conflicts, notes = merges_checked if merges_checked is not None else conflict_merges(ctx)
    ctx.notes.extend(notes)
    found = [
        *pending_and_divergence(ctx),
        *cherry_picks(ctx),
        *hotfixes(ctx),
        *merges(ctx),
        *revert_findings(ctx),
        *untested_releases(ctx),
        *conflicts,
    ]
    order = {kind: i for i, kind in enumerate(KINDS)}
    position = {name: i for i, name in enumerate(ctx.names)}

    def key(f: Finding) -> tuple[int, tuple[int, ...], str, str]:
        envs = tuple(
            position.get(f.fields[k], len(position)) for k in _ENV_FIELDS if f.fields.get(k)
        )
        return (
            order[f.kind],
            envs,
            str(f.fields.get("introduced_at") or f.fields.get("time") or ""),
            f.id,
        )

    return sorted(found, key=key)


# Findings are listed by kind, then by the chain position of the environments they
# concern, then oldest first, so reports read downstream and chronologically.
_ENV_FIELDS = (
    "upstream",
    "downstream",
    "origin",
    "original_env",
    "copy_env",
    "from_env",
    "into_env",
    "env",
)
