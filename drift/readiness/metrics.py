"""Delivery metrics reconstructed from history: how long changes take to flow downstream, how
they get there, how hotfixes come back, and whether drift grows (issue 4).

Everything is read from introductions (findings.md: the first-parent commit of an environment
that brought a commit in, and when) over the changes of the window (`window.py`), so changes
promoted all the way, which sit in the common base, count as much as the ones that got stuck.
Every number carries the ids behind it: `findings` where the engine has a finding (outside the
common base), else `changes` (a change's id is its first-introduced commit) or `commits`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drift.changes import Grouping
from drift.collector import collector_paused
from drift.config import Settings
from drift.environments import Environment
from drift.findings.model import Finding
from drift.git import GitRepository
from drift.history import History
from drift.parallel import aside
from drift.readiness.change_fail import change_fail_proxy
from drift.readiness.evidence import FindingIndex
from drift.readiness.flows import arrivals, hotfixes, lead_times
from drift.readiness.timeline import cadence, drift_over_time, monthly_events
from drift.readiness.trunk import trunk_measures
from drift.readiness.window import DAY, Window, group_window, read_window
from drift.timefmt import iso

WINDOW_SCOPE = (
    "Changes: every change outside the common base (the engine's grouping, any age) and the "
    "changes of commits committed in the window or its lead-in inside the common base (same "
    "commit and cherry-pick trailers only: the common base is never diffed, so a copy made "
    "without -x there is a change of its own). `changes` counts those first introduced anywhere "
    "in the window. Commits inside the common base committed before the lead-in are not seen."
)


#: The metrics in the report's order (drafted or finished, they are listed this way).
METRICS = (
    "window",
    "lead_time",
    "arrival",
    "hotfixes",
    "monthly",
    "drift_over_time",
    "cadence",
    "change_fail_proxy",
    "trunk",
)


def delivery_metrics(
    repo: GitRepository,
    envs: list[Environment],
    history: History,
    grouping: Grouping,
    findings: list[Finding],
    as_of: int,
    window_days: int = 365,
    *,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """The delivery metrics of the JSON report: deterministic, sorted, ids behind numbers.

    `settings`, when given, applies the ignore rules (time, authors, messages; path rules
    need a diff) to commits inside the common base as the engine applies them outside it.
    """
    with collector_paused():
        window = read_window(repo, history, as_of, window_days, settings=settings)
        draft = draft_metrics(window, repo, envs, history, grouping, window_days)
        return finish_metrics(draft, history, findings)


@dataclass(frozen=True)
class Draft:
    """The window and every metric that needs no finding: most of the work, done before the
    findings exist (drift.readiness.ahead does it on the second core meanwhile)."""

    window: Window
    names: list[str]
    ready: dict[str, Any]
    later: dict[str, Callable[[], Any]] = field(default_factory=dict)
    """Metrics begun `aside` (drift.parallel), taken when the metrics are finished."""


def draft_metrics(
    window: Window,
    repo: GitRepository,
    envs: list[Environment],
    history: History,
    grouping: Grouping,
    window_days: int = 365,
) -> Draft:
    """The window's changes, and the metrics read from the window alone."""
    with collector_paused():
        group_window(window, history, grouping)
        tree = history.topology
        # The longest of these (0.1 s of the metrics child's 0.4 s in a re-run at 100k
        # commits, where that child finishes last): in a grandchild, when this is the child.
        over_time = aside(lambda: drift_over_time(window, tree))
        ready = {
            "window": _summary(window, window_days),
            "lead_time": lead_times(window, tree),
            "cadence": cadence(window, tree),
            "change_fail_proxy": change_fail_proxy(window, tree),
            "trunk": trunk_measures(repo, envs, window, window.end, tree),
        }
        return Draft(window, [env.name for env in envs], ready, {"drift_over_time": over_time})


def finish_metrics(draft: Draft, history: History, findings: list[Finding]) -> dict[str, Any]:
    """The metrics that list the findings behind them, and all of them in the report's order.
    Only findings of the kinds in `evidence.KEY_FIELD` are read."""
    with collector_paused():
        window, names = draft.window, draft.names
        index = FindingIndex(findings)
        found = {
            **draft.ready,
            "arrival": arrivals(window, names, index),
            "hotfixes": hotfixes(window, names, index),
            "monthly": monthly_events(window, history, index),
        }
        found.update((key, value()) for key, value in draft.later.items())  # taken last
        return {key: found[key] for key in METRICS}


def _summary(window: Window, window_days: int) -> dict[str, Any]:
    counted = window.counted_changes()
    return {
        "start": iso(window.start),
        "end": iso(window.end),
        "days": window_days,
        "lead_in_days": (window.start - window.scan_start) // DAY,
        "commits": sum(1 for c in window.commits.values() if window.in_window(c.commit_time)),
        "changes": len(counted),
        "changes_in_common_base": sum(1 for c in counted if c.in_base),
        "possible_copies": [
            {"original": original, "copy": copy} for original, copy in window.possible_copies
        ],
        "scope": WINDOW_SCOPE,
    }
