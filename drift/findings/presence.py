"""`pending` and `divergence`: what each adjacent pair holds that the other lacks."""

from __future__ import annotations

from drift.changes import Change
from drift.findings.context import AuditContext
from drift.findings.model import Finding
from drift.timefmt import iso


def pending_and_divergence(ctx: AuditContext) -> list[Finding]:
    """One `divergence` per edge (adjacent pair of a chain), one `pending` per change and edge."""
    findings: list[Finding] = []
    for up, down in ctx.topology.edges:
        pending = _pending(ctx, up, down)
        findings += pending
        findings.append(_divergence(ctx, up, down, pending))
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
        notes = []
        if reverted_by:
            notes.append(
                f"reverted on {ctx.names[up]} by {', '.join(r[:12] for r in reverted_by)}: "
                "promoting would carry the change and its revert together"
            )
        shared = _fast_forwarded_from(ctx, up, how.via)
        if shared is not None:
            notes.append(
                f"{ctx.names[up]} got it by a fast-forward onto {ctx.names[shared]}'s line, which "
                f"records no time: its age counts from when it was made on {ctx.names[shared]}"
            )
        note = "; ".join(notes) or None
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
            "approximate": change.approximate,
        }
        out.append(Finding("pending", fields, note))
    return out


def _fast_forwarded_from(ctx: AuditContext, env: int, via: str) -> int | None:
    """The environment upstream of `env` whose first-parent line holds `via` too: `env` was
    moved onto that line by a fast-forward (or created there), so when is unknown."""
    for other in ctx.topology.ancestors(env):
        found = ctx.history.intro[other].get(via)
        if found is not None and found.via == via:
            return other
    return None


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
    approximate = [c for c in ctx.grouping.changes if c.approximate and _moved(ctx, c, up, down)]
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
        "approximate_changes": len(approximate),
        "differing_files": len(paths),
        "downstream_only": sorted(downstream_only),
        "differing_paths": paths,
    }
    return Finding("divergence", fields)


def _moved(ctx: AuditContext, change: Change, up: int, down: int) -> bool:
    """Whether the similar links inside an approximate change moved this pair's counts:
    its exact parts, taken as separate changes, would count differently as pending or
    downstream-only (e.g. a part on each side: two counts that the link turned into none)."""
    parts = [_side(ctx, Change(p[0], p, False), up, down) for p in change.parts]
    alone = (sum(p[0] for p in parts), sum(p[1] for p in parts))
    return _side(ctx, change, up, down) != alone


def _side(ctx: AuditContext, change: Change, up: int, down: int) -> tuple[int, int]:
    """(1, 0) when the change counts as pending on the pair, (0, 1) when downstream-only,
    as `_pending` and `_divergence` count them."""
    on_up, on_down = ctx.present(change, up), ctx.present(change, down)
    if on_up and not on_down and ctx.first_into(change, up) is not None:
        return (1, 0)
    if on_down and not on_up and ctx.first_into(change, down) is not None:
        return (0, 1)
    return (0, 0)
