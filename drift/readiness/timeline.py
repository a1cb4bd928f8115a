"""Drift over time: events per month, pending changes at each month and week end, and the
release cadence of the most downstream environment, all read from the window."""

from __future__ import annotations

from bisect import bisect_right
from operator import itemgetter
from typing import Any

from drift.history import History
from drift.readiness.evidence import KEY_FIELD, FindingIndex
from drift.readiness.periods import days, median, month_key, months, week_key, weeks
from drift.readiness.window import Window
from drift.timefmt import iso
from drift.topology import Topology

#: Monthly event -> the finding kind behind it.
_MONTHLY = {
    "back_merges": "back_merge",
    "promotion_merges": "promotion_merge",
    "cherry_picks": "cherry_pick",
    "conflict_merges": "conflict_merge",
    "reverts": "revert",
}
MONTHLY_SCOPE = (
    "Each event is counted in the month of its commit's committer time. Outside the common "
    "base the counts are the engine's findings (listed in `findings`). Inside it, the window "
    "adds what can be read without diffing (listed in `commits`): merges on an environment's "
    "first-parent line classified like back_merge/promotion_merge findings (once, on the most "
    "upstream line that holds them), commits with a cherry-pick trailer (one per copy), and "
    "reverts by message. Conflict merges are findings only (merges outside the common base)."
)


def monthly_events(window: Window, history: History, index: FindingIndex) -> dict[str, Any]:
    """Back-merges, promotion merges, cherry-picks, conflict merges and reverts per month."""
    rows = {
        key: {e: (set[str](), set[str]()) for e in _MONTHLY}
        for key, _ in months(window.series_start, window.end)
    }
    kinds = {kind: event for event, kind in _MONTHLY.items()}
    found = [
        (kinds[f.kind], str(f.fields[KEY_FIELD[f.kind]]), f.id)
        for f in index.findings
        if f.kind in kinds
    ]
    seen: list[tuple[str, str]] = [
        *window.base_merges,
        *(("cherry_picks", c) for c in window.base_picks),
        *(("reverts", c) for c in window.base_reverts),
    ]
    for event, commit_id, finding in [*found, *((e, c, None) for e, c in seen)]:
        when = history.repo.commit(commit_id).commit_time
        key = month_key(when)
        if window.in_window(when) and key in rows:
            findings, commits = rows[key][event]
            if finding is not None:
                findings.add(finding)
            else:
                commits.add(commit_id)
    out: list[dict[str, Any]] = [
        {"month": key, **{e: _evidence(*ids) for e, ids in events.items()}}
        for key, events in rows.items()
    ]
    totals = {e: sum(r[e]["count"] for r in out) for e in _MONTHLY}
    return {"scope": MONTHLY_SCOPE, "months": out, "totals": totals}


def _evidence(findings: set[str], commits: set[str]) -> dict[str, Any]:
    return {
        "count": len(findings) + len(commits),
        "findings": sorted(findings),
        "commits": sorted(commits),
    }


#: Weeks listed in full per edge; the trend reads the pending count of every week.
WEEKS_LISTED = 12


def drift_over_time(window: Window, tree: Topology) -> list[dict[str, Any]]:
    """Pending on each edge (up, down) at T: first arrival on up <= T < first arrival on down."""
    names = tree.names
    month_ends = months(window.series_start, window.end)
    week_ends = weeks(window.series_start, window.end)
    out = []
    for up, down in tree.edges:
        joins, leaves = _spans(window, up, down)
        rows = _pending_rows(joins, leaves, [*month_ends, *week_ends[-WEEKS_LISTED:]])
        out.append(
            {
                "upstream": names[up],
                "downstream": names[down],
                "months": rows[: len(month_ends)],
                "weeks": rows[len(month_ends) :],
                "trend": _trend(_pending_counts(joins, leaves, [at for _, at in week_ends])),
            }
        )
    return out


Span = tuple[int, str]
"""(time, change): when a change starts or stops being pending on an edge."""


def _spans(window: Window, up: int, down: int) -> tuple[list[Span], list[Span]]:
    """When each change that reached `up` starts being pending (its arrival there), sorted
    (oldest, then by id: the oldest pending is the first of them still pending); and when
    each that also reached `down` stops (its arrival there, but never before it started: one
    that reached `down` first, against the flow, is never pending), sorted by time."""
    joins: list[Span] = []
    leaves: list[Span] = []
    for change in window.changes:
        there = change.arrivals[up]
        if there is not None:
            joins.append((there.time, change.id))
            below = change.arrivals[down]
            if below is not None:
                leaves.append((max(there.time, below.time), change.id))
    joins.sort()
    leaves.sort(key=itemgetter(0))
    return joins, leaves


def _pending_counts(joins: list[Span], leaves: list[Span], points: list[int]) -> list[int]:
    """How many changes are pending at each point, by bisection: those started by then less
    those over by then (no list of ids is built for a count)."""
    starts = [t for t, _ in joins]
    overs = [t for t, _ in leaves]
    return [bisect_right(starts, at) - bisect_right(overs, at) for at in points]


def _pending_rows(
    joins: list[Span], leaves: list[Span], periods: list[tuple[str, int]]
) -> list[dict[str, Any]]:
    """What is pending at the end of each period, in one sweep (rescanning every change for
    every period took 0.35 s at 100k commits): in time order, a change joins when it starts
    and leaves when it is over, so each is touched twice. A change has one span, so its id
    names it; the oldest pending is the first joined that has not left, found by a pointer
    that only moves forward."""
    active: set[str] = set()
    joined = left = oldest = 0
    out: dict[int, dict[str, Any]] = {}
    for slot in sorted(range(len(periods)), key=lambda n: periods[n][1]):
        period, at = periods[slot]
        while joined < len(joins) and joins[joined][0] <= at:
            active.add(joins[joined][1])
            joined += 1
        while left < len(leaves) and leaves[left][0] <= at:
            active.remove(leaves[left][1])
            left += 1
        while oldest < joined and joins[oldest][1] not in active:
            oldest += 1
        first = joins[oldest] if active else None
        out[slot] = _pending_row(period, at, first, active)
    return [out[slot] for slot in range(len(periods))]


def _pending_row(
    period: str, at: int, oldest: tuple[int, str] | None, pending: set[str]
) -> dict[str, Any]:
    return {
        "period": period,
        "at": iso(at),
        "pending": len(pending),
        "oldest_days": days(at - oldest[0]) if oldest else None,
        "oldest": oldest[1] if oldest else None,
        "changes": sorted(pending),
    }


def _trend(counts: list[int]) -> dict[str, Any]:
    """Least-squares slope of the pending count at every week end of the window (week ends
    fall on the same weekday, so a weekly release rhythm does not alias as month ends do).
    `growing` when the fitted line rises over the window by more than a tenth of the mean
    count and by at least one change, `shrinking` likewise, else `stable`."""
    n = len(counts)
    first, last = (counts[0], counts[-1]) if counts else (None, None)
    if n < 2:
        return {"weeks": n, "first": first, "last": last, "slope_per_week": None, "direction": None}
    mean_x, mean_y = (n - 1) / 2, sum(counts) / n
    cov = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(counts))
    slope = cov / sum((x - mean_x) ** 2 for x in range(n))
    rise = slope * (n - 1)
    threshold = max(1.0, 0.1 * mean_y)
    direction = "growing" if rise > threshold else "shrinking" if rise < -threshold else "stable"
    return {
        "weeks": n,
        "first": first,
        "last": last,
        "slope_per_week": round(slope, 3),
        "direction": direction,
    }


def cadence(window: Window, tree: Topology) -> dict[str, Any]:
    """The most downstream environment (of a tree: its main path's release line): first-parent
    commits and changes introduced per ISO week (every week of the window, empty ones too),
    with the median per week."""
    names = tree.names
    last = tree.main_path()[-1]
    rows = {key: (list[str](), list[str]()) for key, _ in weeks(window.series_start, window.end)}
    start, end = window.start, window.end
    for commit_id in window.first_parent[last]:
        when = window.commits[commit_id].commit_time
        if start <= when <= end and (row := rows.get(week_key(when))) is not None:
            row[0].append(commit_id)
    for change in window.changes:
        arrival = change.arrivals[last]
        if (
            arrival is not None
            and start <= arrival.time <= end
            and (row := rows.get(week_key(arrival.time))) is not None
        ):
            row[1].append(change.id)
    out: list[dict[str, Any]] = [
        {
            "week": key,
            "first_parent_commits": {"count": len(commits), "commits": sorted(commits)},
            "changes": {"count": len(changes), "changes": sorted(changes)},
        }
        for key, (commits, changes) in rows.items()
    ]
    commits_per_week = [float(len(c)) for c, _ in rows.values()]
    changes_per_week = [float(len(c)) for _, c in rows.values()]
    return {
        "env": names[last],
        "weeks": out,
        "median_first_parent_commits_per_week": median(commits_per_week),
        "median_changes_per_week": median(changes_per_week),
        "mean_first_parent_commits_per_week": _mean(commits_per_week),
        "mean_changes_per_week": _mean(changes_per_week),
        "weeks_with_changes": sum(1 for n in changes_per_week if n),
    }


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None
