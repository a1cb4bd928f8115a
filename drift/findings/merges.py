"""`back_merge` and `promotion_merge`: merges between environments' first-parent lines."""

from __future__ import annotations

from drift.findings.context import AuditContext
from drift.findings.model import Finding
from drift.timefmt import iso


def merges(ctx: AuditContext) -> list[Finding]:
    """Classify each merge on an environment's first-parent chain by where its other parent lies."""
    history = ctx.history
    findings: list[Finding] = []
    for into, chain in enumerate(history.first_parent):
        for merge_id in chain:
            info = history.commits[merge_id]
            if not info.is_merge:
                continue
            finding = _classify(ctx, into, merge_id, info.parents[1:])
            if finding is not None:
                findings.append(finding)
    return findings


def _classify(
    ctx: AuditContext, into: int, merge_id: str, others: tuple[str, ...]
) -> Finding | None:
    history = ctx.history
    for parent in others:
        lines = [
            j
            for j in range(len(ctx.names))
            if j != into and history.on_first_parent_chain(parent, j)
        ]
        if not lines:
            continue
        source = min(lines, key=lambda j: (abs(j - into), j > into))
        notes = []
        if len(lines) > 1:
            also = ", ".join(ctx.names[j] for j in lines if j != source)
            notes.append(
                f"the merged commit is also on the first-parent line of {also}; "
                "the nearest was used"
            )
        if len(others) > 1:
            notes.append(f"octopus merge of {len(others) + 1} parents; classified by {parent[:12]}")
        kind = "back_merge" if source > into else "promotion_merge"
        fields = {
            "merge": merge_id,
            "from_env": ctx.names[source],
            "into_env": ctx.names[into],
            "merged": parent,
            "time": iso(history.commits[merge_id].commit_time),
        }
        return Finding(kind, fields, "; ".join(notes) or None)
    return None
