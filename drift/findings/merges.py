"""`back_merge`, `promotion_merge` and `cross_merge`: merges between environments' lines.

In a tree of release lines a merge can also run between two lines neither of which feeds the
other (`release/1.x` merged forward into `release/2.x`): that is a `cross_merge`.
"""

from __future__ import annotations

from typing import Any

from drift.findings.context import AuditContext
from drift.findings.model import Finding
from drift.history import History
from drift.merge_messages import EnvNames, Said, parse
from drift.timefmt import iso


def merges(ctx: AuditContext) -> list[Finding]:
    """Classify each merge on an environment's first-parent line, once, by where its other
    parent lies; its message is a second witness (merge_messages.py)."""
    history = ctx.history
    names = history.env_names
    holders: dict[str, list[int]] = {}
    for into, chain in enumerate(history.first_parent):
        for merge_id in chain:
            if history.commits[merge_id].is_merge:
                holders.setdefault(merge_id, []).append(into)
    findings: list[Finding] = []
    unmapped: dict[str, list[str]] = {}
    for merge_id, lines in holders.items():
        said = parse(history.commits[merge_id].message)
        if said is not None:
            for name in (said.source, said.target):
                if (
                    name
                    and names.lookup(name) is None
                    and (names.env_like(name) or name == said.target)
                ):
                    unmapped.setdefault(name, []).append(merge_id)
        finding = _classify(ctx, names, merge_id, lines, said)
        if finding is not None:
            findings.append(finding)
    ctx.cache["merge_names"] = {
        "aliases": dict(ctx.settings.aliases),
        "unmapped": [
            {"name": name, "count": len(ids), "merges": sorted(ids)}
            for name, ids in sorted(unmapped.items(), key=lambda i: (-len(i[1]), i[0]))
        ],
    }
    if unmapped:
        listed = ", ".join(f"{n} ({len(ids)})" for n, ids in sorted(unmapped.items())[:5])
        ctx.notes.append(
            f"merge messages name branches that are not environments today: {listed}; if they "
            "were environments under another name, map them with `aliases` in .drift.toml "
            '(e.g. aliases = { master = "prod" }) so their merges are read as evidence'
        )
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


def _made_on(lines: list[int], said: Said | None, names: EnvNames) -> int:
    """The environment a merge was made on, of the lines that hold it: the one its message
    names as target, else the most upstream (the others were fast-forwarded onto it)."""
    if said is not None and said.target is not None:
        target = names.lookup(said.target)
        if target in lines:
            return target
    return min(lines)


def _classify(
    ctx: AuditContext, names: EnvNames, merge_id: str, lines: list[int], said: Said | None
) -> Finding | None:
    history = ctx.history
    info = history.commits[merge_id]
    into = _made_on(lines, said, names)
    others = history.other_parents(merge_id, into)
    notes: list[str] = []
    pulled = history.reversed_merges[into].get(merge_id)
    if pulled is not None:
        notes.append(
            f"read with its parents reversed: its message ({pulled!r}) merged "
            f"{ctx.names[into]} into another line, pushed to {ctx.names[into]} as a "
            f"fast-forward, so {ctx.names[into]}'s own history is its second parent"
        )
    found = next(
        (
            (parent, where)
            for parent in others
            if (where := merged_from(history, into, parent)) is not None
        ),
        None,
    )
    said_from = names.lookup(said.source) if said is not None else None
    said_into = names.lookup(said.target) if said is not None and said.target else None
    if found is not None:
        parent, (source, holding) = found
        if len(holding) > 1:
            also = ", ".join(ctx.names[j] for j in holding if j != source)
            notes.append(
                f"the merged commit is also on the first-parent line of {also}; "
                "the nearest was used"
            )
        if said is not None and said_from is not None and said_from != source and pulled is None:
            notes.append(
                f"its message names {said.source!r} ({ctx.names[said_from]}); the first-parent "
                f"structure says {ctx.names[source]}, which was used"
            )
    elif said is not None and said_from is not None and said_from != into:
        parent, source = others[0], said_from
        alias = names.aliases.get(said.source) or names.aliases.get(said.source.partition("/")[2])
        notes.append(
            f"classified by its message ({said.source!r}"
            + (f", an alias of {alias}" if alias else "")
            + "): the merged commit is on no environment's first-parent line (replaced by a "
            "fast-forward, or the branch was renamed)"
        )
    else:
        return None
    if said is not None and said_into is not None and said_into != into and pulled is None:
        notes.append(
            f"its message says it was made on {ctx.names[said_into]} ('into {said.target}'), "
            f"but it is on {ctx.names[into]}'s first-parent line: {ctx.names[into]} was "
            "fast-forwarded onto it, or a pull reversed its parents"
        )
    if len(lines) > 1:
        also = ", ".join(ctx.names[j] for j in lines if j != into)
        notes.append(f"also on the first-parent line of {also} (fast-forwarded there)")
    if len(others) > 1:
        notes.append(f"octopus merge of {len(others) + 1} parents; classified by {parent[:12]}")
    fields: dict[str, Any] = {
        "merge": merge_id,
        "from_env": ctx.names[source],
        "into_env": ctx.names[into],
        "merged": parent,
        "time": iso(info.commit_time),
    }
    if said is not None:
        fields["message_from"] = said.source
        fields["message_into"] = said.target
    return Finding(merge_kind(history, source, into), fields, "; ".join(notes) or None)
