"""`back_merge`, `promotion_merge` and `cross_merge`: merges between environments' lines.

In a tree of release lines a merge can also run between two lines neither of which feeds the
other (`release/1.x` merged forward into `release/2.x`): that is a `cross_merge`.
"""

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
    line holds it, nearest in the chain or tree (upstream on a tie, then the earlier
    listed); and every line that holds it."""
    lines = [
        j
        for j in range(len(history.envs))
        if j != into and history.on_first_parent_chain(parent, j)
    ]
    if not lines:
        return None
    tree = history.topology
    nearest = min(lines, key=lambda j: (tree.distance(j, into), not tree.is_upstream(j, into), j))
    return nearest, lines


def merge_kind(history: History, source: int, into: int) -> str:
    """`promotion_merge` from upstream, `back_merge` from downstream, else `cross_merge`."""
    tree = history.topology
    if tree.is_upstream(source, into):
        return "promotion_merge"
    if tree.is_upstream(into, source):
        return "back_merge"
    return "cross_merge"


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
        kind = merge_kind(history, source, into)
        fields = {
            "merge": merge_id,
            "from_env": ctx.names[source],
            "into_env": ctx.names[into],
            "merged": parent,
            "time": iso(history.commits[merge_id].commit_time),
        }
        return Finding(kind, fields, "; ".join(notes) or None)
    return None
