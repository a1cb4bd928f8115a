"""`pending` and `divergence`: what each adjacent pair holds that the other lacks."""

from __future__ import annotations

from drift.findings.context import AuditContext
from drift.findings.model import Finding
from drift.timefmt import iso


def pending_and_divergence(ctx: AuditContext) -> list[Finding]:
    """One `divergence` per adjacent pair, and one `pending` per change and pair."""
    findings: list[Finding] = []
    for up in range(len(ctx.names) - 1):
        pending = _pending(ctx, up, up + 1)
        findings += pending
        findings.append(_divergence(ctx, up, up + 1, pending))
    return findings


def _pending(ctx: AuditContext, up: int, down: int) -> list[Finding]:
    out: list[Finding] = []
    for change in ctx.grouping.changes:
        if not ctx.present(change, up) or ctx.present(change, down):
            continue
        first = ctx.first_into(change, up)
        if first is None:  # present only through the common base: cannot be missing below
            continue
        commit_id, how = first
        reverted_by = sorted(
            revert
            for commit in change.commits
            for revert in ctx.reverted_by.get(commit, ())
            if ctx.history.present(revert, up)
        )
        note = None
        if reverted_by:
            note = (
                f"reverted on {ctx.names[up]} by {', '.join(r[:12] for r in reverted_by)}: "
                "promoting would carry the change and its revert together"
            )
        fields = {
            "commit": commit_id,
            "upstream": ctx.names[up],
            "downstream": ctx.names[down],
            "age_days": ctx.age_days(how.time),
            "introduced_at": iso(how.time),
            "introduced_by": how.via,
            "change": change.id,
            "is_revert": change.is_revert,
            "reverted_by": reverted_by,
        }
        out.append(Finding("pending", fields, note))
    return out


def _divergence(ctx: AuditContext, up: int, down: int, pending: list[Finding]) -> Finding:
    history = ctx.history
    ahead = behind = 0
    for mask in history.masks.values():
        on_up, on_down = mask >> up & 1, mask >> down & 1
        ahead += on_down and not on_up
        behind += on_up and not on_down
    downstream_only = []
    for change in ctx.grouping.changes:
        if ctx.present(change, down) and not ctx.present(change, up):
            first = ctx.first_into(change, down)
            if first is not None:
                downstream_only.append(first[0])
    repo = history.repo
    paths = repo.differing_paths(
        repo.commit(history.envs[up].commit).tree, repo.commit(history.envs[down].commit).tree
    )
    fields = {
        "upstream": ctx.names[up],
        "downstream": ctx.names[down],
        "ahead": ahead,
        "behind": behind,
        "pending_changes": len(pending),
        "oldest_pending_days": max((f.fields["age_days"] for f in pending), default=None),
        "downstream_only_changes": len(downstream_only),
        "differing_files": len(paths),
        "downstream_only": sorted(downstream_only),
        "differing_paths": paths,
    }
    return Finding("divergence", fields)
