"""`back_merge` and `promotion_merge`: merges between environments' first-parent lines."""

from __future__ import annotations

from drift.findings.context import AuditContext
from drift.findings.model import Finding
from drift.history import History
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


def merged_from(history: History, into: int, parent: str) -> tuple[int, list[int]] | None:
    """The environment a merge into `into` brought `parent` from: the one whose first-parent
    line holds it, nearest in the chain (upstream on a tie); and every line that holds it."""
    lines = [
        j
        for j in range(len(history.envs))
        if j != into and history.on_first_parent_chain(parent, j)
    ]
    if not lines:
        return None
    return min(lines, key=lambda j: (abs(j - into), j > into)), lines


def _classify(
    ctx: AuditContext, into: int, merge_id: str, others: tuple[str, ...]
) -> Finding | None:
    history = ctx.history
    for parent in others:
        found = merged_from(history, into, parent)
        if found is None:
            continue
        source, lines = found
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
