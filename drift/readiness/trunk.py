"""Trunk-based measures read from history: long-lived active branches, how often the
integration branch (the most upstream environment) receives merges, and freeze windows of
the most downstream environment.

- Long-lived active branch: a branch name (local `refs/heads/NAME` or remote-tracking
  `refs/remotes/REMOTE/NAME`; a name counts once however many refs carry it) that is not an
  environment branch, whose newest tip was committed in the `ACTIVE_DAYS` days up to as_of, and
  whose merge-base with the integration branch's tip was committed more than `ACTIVE_DAYS` days
  before as_of: work going on for over a month without integrating. Tags, HEAD, other
  namespaces and branches unrelated to the integration branch are not counted. Target:
  `TARGET_MAX` or fewer.
- Merge days: UTC calendar days from the window's series start to its end on which at least
  one merge commit was committed on the integration branch's first-parent line, over all those
  days. Squash merges and rebases leave no merge commit and are not seen.
- Freeze windows: gaps of more than `FREEZE_DAYS` days between consecutive releases of the
  most downstream environment in the window (a release introduced a change there,
  `change_fail.releases`), and from the last one to as_of (`ongoing`); the longest
  `FREEZES_SHOWN`, with the count of all of them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from drift.environments import Environment
from drift.git import GitRepository
from drift.readiness.change_fail import releases
from drift.readiness.periods import days
from drift.readiness.window import DAY, Window
from drift.timefmt import iso
from drift.topology import Topology

ACTIVE_DAYS = 30
TARGET_MAX = 3
FREEZE_DAYS = 14
FREEZES_SHOWN = 3


def trunk_measures(
    repo: GitRepository, envs: list[Environment], window: Window, as_of: int, tree: Topology
) -> dict[str, Any]:
    """The three measures, each with the ids behind its numbers; freezes on the most
    downstream environment (of a tree: its main path's release line)."""
    last = tree.main_path()[-1]
    return {
        "integration": envs[0].name,
        "long_lived_branches": long_lived_branches(repo, envs, as_of),
        "merge_days": merge_days(window, envs[0].name),
        "freeze_windows": freeze_windows(window, envs[last].name, last),
    }


def branch_name(ref: str) -> str | None:
    """`NAME` of refs/heads/NAME and refs/remotes/REMOTE/NAME; None for other refs."""
    if ref.startswith("refs/heads/"):
        return ref[len("refs/heads/") :]
    if ref.startswith("refs/remotes/"):
        parts = ref[len("refs/remotes/") :].split("/", 1)
        return parts[1] if len(parts) == 2 else None
    return None


def long_lived_branches(repo: GitRepository, envs: list[Environment], as_of: int) -> dict[str, Any]:
    """Branches active in the last ACTIVE_DAYS days that last met the integration branch
    more than ACTIVE_DAYS days ago."""
    env_names = {name for env in envs if (name := branch_name(env.ref)) is not None}
    env_names |= {env.name for env in envs}
    env_refs = {env.ref for env in envs}
    by_name: dict[str, list[tuple[str, str]]] = {}
    for ref in repo.references():
        name = branch_name(ref.name)
        if name is None or name == "HEAD" or name in env_names or ref.name in env_refs:
            continue
        by_name.setdefault(name, []).append((ref.name, ref.commit))
    since = as_of - ACTIVE_DAYS * DAY
    integration = envs[0].commit
    found: list[dict[str, Any]] = []
    for name, refs in sorted(by_name.items()):
        tips = [(repo.commit(c).commit_time, c) for _, c in refs]
        active = [(t, c) for t, c in tips if since <= t <= as_of]
        if not active:
            continue
        when, tip = max(active)
        base = repo.merge_base(tip, integration)
        if base is None:
            continue
        base_time = repo.commit(base).commit_time
        if base_time >= since:
            continue
        found.append(
            {
                "name": name,
                "refs": sorted(r for r, _ in refs),
                "tip": tip,
                "last_commit": iso(when),
                "merge_base": base,
                "merge_base_at": iso(base_time),
                "days_since_merge_base": days(as_of - base_time),
            }
        )
    found.sort(key=lambda b: (-float(b["days_since_merge_base"]), str(b["name"])))
    return {
        "count": len(found),
        "target_max": TARGET_MAX,
        "meets_target": len(found) <= TARGET_MAX,
        "active_days": ACTIVE_DAYS,
        "branches": found,
    }


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def merge_days(window: Window, integration: str) -> dict[str, Any]:
    """Days with at least one merge on the integration branch's first-parent line."""
    first = datetime.fromtimestamp(window.series_start, UTC).date()
    last = datetime.fromtimestamp(window.end, UTC).date()
    total = (last - first).days + 1
    merges = [
        c
        for c in window.first_parent[0]
        if window.commits[c].is_merge and window.in_window(window.commits[c].commit_time)
    ]
    dates = sorted({_date(window.commits[c].commit_time) for c in merges})
    return {
        "env": integration,
        "days": total,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "days_with_merges": len(dates),
        "share": round(len(dates) / total, 3) if total > 0 else None,
        "dates": dates,
        "merges": sorted(merges),
    }


def freeze_windows(window: Window, env_name: str, env: int) -> dict[str, Any]:
    """Gaps over FREEZE_DAYS days between releases of the environment (and to as_of)."""
    times = releases(window, env)
    gaps: list[dict[str, Any]] = []
    points: list[tuple[int, str | None]] = [(t, c) for t, c in times]
    if points:
        points.append((window.end, None))
    for (start, after), (end, before) in pairwise(points):
        length = end - start
        if length > FREEZE_DAYS * DAY:
            gaps.append(
                {
                    "from": iso(start),
                    "to": iso(end),
                    "days": days(length),
                    "after": after,
                    "before": before,
                    "ongoing": before is None,
                }
            )
    gaps.sort(key=lambda g: (-float(g["days"]), str(g["from"])))
    return {
        "env": env_name,
        "min_days": FREEZE_DAYS,
        "releases": len(times),
        "count": len(gaps),
        "longest": gaps[:FREEZES_SHOWN],
    }
