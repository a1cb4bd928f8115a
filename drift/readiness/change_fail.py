"""A change-fail proxy from branch history: the share of releases of the most downstream
environment followed within N days by a hotfix or a revert there.

A release is a first-parent commit of the most downstream environment, committed in the
window, that introduced at least one change there (findings.md: a non-merge first-parent
commit introduces itself, a merge what its other parents bring) and is not on an upstream
environment's first-parent line too (a fast-forward or branch creation, whose time is not
recorded). A release is followed when,
strictly after it and at most N days later, that environment receives a hotfix (a non-revert
change first introduced anywhere but the first environment, as `hotfixes` counts them) or a
revert (a change recognised as a revert). Releases less than N days before the window's end
are `too_recent`: their N days are not over, so they are left out rather than counted as
not followed. DORA's change failure rate counts deployments that needed remediation; this
reads the remediation (hotfix, revert) from history, not the deployments or the failures.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from drift.readiness.window import DAY, Window
from drift.topology import Topology

#: Days after a release in which a hotfix or revert marks it as followed. A week covers a
#: weekly release rhythm's next release, when a fix for the previous one usually ships.
FOLLOW_DAYS = 7


def releases(window: Window, env: int) -> list[tuple[int, str]]:
    """(time, commit) of the environment's first-parent commits in the window that
    introduced a change there, oldest first. A commit on an upstream environment's
    first-parent line too is left out: the branch was created or fast-forwarded there, so
    when that happened is not recorded (as `fast_forward` in the lead times)."""
    vias: dict[str, int] = {}
    for change in window.changes:
        arrival = change.arrivals[env]
        if arrival is not None and window.in_window(arrival.time):
            vias[arrival.via] = arrival.time
    upstream = [window.introduced_by_itself(i) for i in window.topology.ancestors(env)]
    return sorted(
        (when, via) for via, when in vias.items() if not any(via in line for line in upstream)
    )


def change_fail_proxy(
    window: Window, tree: Topology, follow_days: int = FOLLOW_DAYS
) -> dict[str, Any]:
    """Releases of the most downstream environment (of a tree: its main path's release line)
    followed within `follow_days` days by a hotfix or a revert there, with the ids behind
    each number."""
    names = list(tree.names)
    last = tree.main_path()[-1]
    remedies: list[tuple[int, str, str]] = []
    for change in window.changes:
        arrival = change.arrivals[last]
        if arrival is None:
            continue
        origin = change.origin()
        if change.is_revert:
            remedies.append((arrival.time, change.id, "revert"))
        elif origin is not None and not tree.is_root(origin[1]):
            remedies.append((arrival.time, change.id, "hotfix"))
    remedies.sort()  # by time: those following a release are one slice, found by bisection
    times = [t for t, _, _ in remedies]
    span = follow_days * DAY
    counted: list[str] = []
    recent: list[str] = []
    followed: list[str] = []
    by: set[str] = set()
    for when, release in releases(window, last):
        if when + span > window.end:
            recent.append(release)
            continue
        counted.append(release)
        after = remedies[bisect_right(times, when) : bisect_right(times, when + span)]
        if after:
            followed.append(release)
            by.update(c for _, c, _ in after)
    kinds = {c: kind for _, c, kind in remedies}
    return {
        "env": names[last],
        "days": follow_days,
        "releases": len(counted),
        "followed": len(followed),
        "share": round(len(followed) / len(counted), 3) if counted else None,
        "release_commits": sorted(counted),
        "releases_followed": sorted(followed),
        "by": sorted(by),
        "by_hotfix": sorted(c for c in by if kinds[c] == "hotfix"),
        "by_revert": sorted(c for c in by if kinds[c] == "revert"),
        "too_recent": sorted(recent),
        "scope": (
            f"Releases: first-parent commits of {names[last]} in the window that introduced "
            f"a change. Followed: a hotfix or revert introduced into {names[last]} after it "
            f"and within {follow_days} days. Releases in the last {follow_days} days of the "
            "window are left out (too_recent). Proxy from branch history, not deployments."
        ),
    }
