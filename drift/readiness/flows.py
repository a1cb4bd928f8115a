"""How changes flow: lead time per environment step and end to end, how changes arrive in each
environment, and hotfixes with their way back upstream.

A change counts once, whatever copies it has, and arrives where its first commit to be
introduced arrives. Durations are days rounded to 0.1; medians of an even count average the
middle two; the 90th percentile is the nearest rank (always an observed value).
"""

from __future__ import annotations

from typing import Any

from drift.findings.model import Finding
from drift.readiness.evidence import FindingIndex
from drift.readiness.periods import duration_stats
from drift.readiness.window import METHODS, Arrival, Window, WindowChange
from drift.timefmt import iso
from drift.topology import Topology

SEEN_NOTE = (
    "the window sees this change on environments the finding says lack it: a copy in the "
    "common base (joined by its cherry-pick trailer) carries it there, and the engine does not "
    "read the common base"
)


def lead_times(window: Window, tree: Topology) -> dict[str, Any]:
    """Each step (edge), and end to end: from the first environment to the last of a chain,
    or along the tree's main path (root to its first release line)."""
    names = list(tree.names)
    steps = [_lead(window, names, up, down) for up, down in tree.edges]
    path = tree.main_path()
    return {"steps": steps, "end_to_end": _lead(window, names, path[0], path[-1])}


def _lead(window: Window, names: list[str], a: int, b: int) -> dict[str, Any]:
    """From first arrival on `a` to first arrival on `b`, for changes reaching `b` in the
    window. Those that reached `b` without having been on `a` first are `against_flow`; those
    brought into both by one shared first-parent commit (`b` was created or fast-forwarded
    there, so when it was promoted is not recorded) are `fast_forward`."""
    samples: list[tuple[int, str]] = []
    against: list[str] = []
    shared: list[str] = []
    start, end = window.start, window.end
    for change in window.changes:
        first, second = change.arrivals[a], change.arrivals[b]
        if second is None or not start <= second.time <= end:
            continue
        if first is None or first.time > second.time:
            against.append(change.id)
        elif first.via == second.via:
            shared.append(change.id)
        else:
            samples.append((second.time - first.time, change.id))
    return {
        "from": names[a],
        "to": names[b],
        **duration_stats(samples),
        "against_flow": {"count": len(against), "changes": sorted(against)},
        "fast_forward": {"count": len(shared), "changes": sorted(shared)},
    }


# -- arrival --------------------------------------------------------------------------------


def arrivals(window: Window, names: list[str], index: FindingIndex) -> list[dict[str, Any]]:
    """Per environment: how the changes first introduced there in the window got there."""
    out = []
    merges: dict[str, list[str]] = {}  # one merge brings many changes: its findings read once
    start, end = window.start, window.end
    for env, name in enumerate(names):
        buckets: dict[str, list[tuple[str, list[str]]]] = {m: [] for m in METHODS}
        buckets.update(merge=[], fast_forward=[], direct=[])
        upstream = [window.introduced_by_itself(i) for i in window.topology.ancestors(env)]
        for change in window.changes:
            arrival = change.arrivals[env]
            if arrival is not None and start <= arrival.time <= end:
                how, evidence = _how(window, env, arrival, index, upstream, merges)
                buckets.setdefault(how, []).append((change.id, evidence))
        total = sum(len(items) for items in buckets.values())

        def leaf(items: list[tuple[str, list[str]]], total: int = total) -> dict[str, Any]:
            return {
                "count": len(items),
                "share": round(len(items) / total, 3) if total else None,
                "changes": sorted(c for c, _ in items),
                "findings": sorted({f for _, found in items for f in found}),
            }

        picks = sorted(set(buckets) - {"merge", "fast_forward", "direct"}, key=_strength)
        out.append(
            {
                "env": name,
                "changes": total,
                "merge": leaf(buckets["merge"]),
                "cherry_pick": {method: leaf(buckets[method]) for method in picks},
                "fast_forward": leaf(buckets["fast_forward"]),
                "direct": leaf(buckets["direct"]),
            }
        )
    return out


def _strength(method: str) -> tuple[int, str]:
    return (METHODS.index(method) if method in METHODS else len(METHODS), method)


def _how(
    window: Window,
    env: int,
    arrival: Arrival,
    index: FindingIndex,
    upstream: list[frozenset[str]],
    merges: dict[str, list[str]],
) -> tuple[str, list[str]]:
    """By cherry-pick when the commit that arrived is a copy made for this environment (its
    first environment); by merge when a merge brought it; by fast-forward when it is a
    first-parent commit of an environment upstream too (this one was created or fast-forwarded
    there); else direct. `upstream`: the commits the environments above `env` introduced by
    themselves; `merges`: the merge findings found so far, by merge (shared, read-only)."""
    commit = arrival.commit
    method = window.copies.get(commit)
    if method is not None and window.first_env(commit) == env:
        return method, index.of("cherry_pick", commit)
    if arrival.via != commit:
        found = merges.get(arrival.via)
        if found is None:
            found = merges[arrival.via] = [
                finding
                for kind in ("promotion_merge", "back_merge", "cross_merge")
                for finding in index.of(kind, arrival.via)
            ]
        return "merge", found
    if any(commit in line for line in upstream):
        return "fast_forward", []
    return "direct", []


def hotfixes(window: Window, names: list[str], index: FindingIndex) -> dict[str, Any]:
    """Non-revert changes first introduced (in the window) anywhere but the first environment;
    `rate` is their share of all changes first introduced in the window (`out_of`), and
    back-propagation runs from that origin to their first arrival on the first environment."""
    counted = window.counted_changes()
    roots = {i for i, up in enumerate(window.topology.parent) if up is None}
    hot: list[tuple[WindowChange, int]] = []
    for change in counted:
        origin = change.origin()
        if origin is not None and origin[1] not in roots and not change.is_revert:
            hot.append((change, origin[0]))
    back: list[tuple[int, str]] = []
    back_findings: list[str] = []
    for change, when in hot:
        upstream = change.arrivals[0]
        if upstream is not None:
            back.append((upstream.time - when, change.id))
            back_findings += index.of("hotfix", *change.commits)
    missing = [f for f in index.findings if f.kind == "missing_hotfix"]
    missing.sort(key=lambda f: (-int(f.fields["age_days"]), f.id))
    still = [_still_missing(window, names, f) for f in missing]
    return {
        "count": len(hot),
        "rate": round(len(hot) / len(counted), 3) if counted else None,
        "out_of": len(counted),
        "changes": sorted(c.id for c, _ in hot),
        "findings": sorted({i for c, _ in hot for i in index.of("hotfix", *c.commits)}),
        "back_propagation": {
            "to": names[0],
            **duration_stats(back),
            "findings": sorted(set(back_findings)),
        },
        "still_missing": still,
        "possible_copies": sorted(
            {window.change_of[copy].id for _, copy in window.possible_copies}
            & {c.id for c, _ in hot}
        ),
    }


def _still_missing(window: Window, names: list[str], finding: Finding) -> dict[str, Any]:
    """A `missing_hotfix` finding, and where the window nevertheless sees its change: a copy
    inside the common base (joined by its trailer) that the engine, which never reads the
    common base, does not know about."""
    fields = finding.fields
    change = window.change_of.get(str(fields["commit"]))
    seen_on = []
    for env in fields["missing_from"]:
        arrival = change.arrivals[names.index(env)] if change is not None else None
        if arrival is not None:
            seen_on.append({"env": env, "commit": arrival.commit, "at": iso(arrival.time)})
    return {
        "finding": finding.id,
        "commit": fields["commit"],
        "origin": fields["origin"],
        "missing_from": fields["missing_from"],
        "age_days": fields["age_days"],
        "seen_on": seen_on,
        "note": SEEN_NOTE if seen_on else None,
    }
