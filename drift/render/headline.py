"""What the first screen says: the headline risks, points lost per dimension, the verdict.

Shared by the HTML and Markdown views; computed from the report dict alone, and every
number is the count of findings (rows) it links to.
"""

from __future__ import annotations

from typing import Any

from drift.render.lines import topology
from drift.wording import plural

DIMENSION_WORDS = {
    "integration": "changes waiting between environments",
    "promotion": "copies and back-merges instead of promotion",
    "hotfix_hygiene": "fixes that never flowed back",
    "release_identity": "releases that were never tested as such",
    "delivery_configuration": "builds rebuilt per environment",
}


def _oldest(rows: list[dict[str, Any]], key: str = "age_days") -> int:
    return max((int(r.get(key) or 0) for r in rows), default=0)


def headline_risks(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Up to three risks in plain words, each with its count and the finding kind behind it."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for finding in data["findings"]:
        by_kind.setdefault(finding["kind"], []).append(finding)
    names = [env["name"] for env in data["environments"]]
    ends = topology(data).leaf_names()
    last = ends[0] if len(ends) == 1 else "a release line"
    first = names[0] if names else "development"
    candidates = []
    if rows := by_kind.get("missing_hotfix"):
        candidates.append(
            (
                rows,
                f"{plural(len(rows), 'fix', 'fixes')} made on {last} or below never reached "
                f"{first}; {'it' if len(rows) == 1 else 'the oldest'} is "
                f"{plural(_oldest(rows), 'day', 'days')} old.",
            )
        )
    if rows := by_kind.get("untested_release"):
        candidates.append(
            (
                rows,
                f"{plural(len(rows), 'version', 'versions')} of "
                f"{last if len(ends) == 1 else 'the release lines'} ran code that was "
                "never tested as such upstream.",
            )
        )
    if rows := by_kind.get("pending"):
        candidates.append(
            (
                rows,
                f"{plural(len(rows), 'change waits', 'changes wait')} between environments; "
                f"{'' if len(rows) == 1 else 'the oldest '}for "
                f"{plural(_oldest(rows), 'day', 'days')}.",
            )
        )
    if rows := by_kind.get("cherry_pick"):
        candidates.append(
            (
                rows,
                f"{plural(len(rows), 'change was', 'changes were')} copied by cherry-pick "
                "instead of promoted.",
            )
        )
    if rows := by_kind.get("conflict_merge"):
        candidates.append(
            (
                rows,
                f"{plural(len(rows), 'merge', 'merges')} carried hand-made content "
                "neither side had.",
            )
        )
    if rows := by_kind.get("back_merge"):
        candidates.append(
            (
                rows,
                f"{plural(len(rows), 'back-merge', 'back-merges')} moved changes against the flow.",
            )
        )
    return [
        {"kind": rows[0]["kind"], "count": len(rows), "text": text} for rows, text in candidates[:3]
    ]


def points_lost(readiness: dict[str, Any]) -> list[dict[str, Any]]:
    """Points each assessed dimension costs, summing to 100 minus the score.

    The weighted mean's shares are rounded by largest remainder; a cap (a blocker) is its
    own line, so the column always adds up to what the score lost.
    """
    dims = [d for d in readiness["dimensions"] if d["assessed"]]
    total = sum(d["weight"] for d in dims) or 1
    raw = [d["weight"] * (100 - d["score"]) / total for d in dims]
    uncapped = 100 - round(sum(d["weight"] * d["score"] for d in dims) / total)
    floors = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - floors[i], reverse=True)
    for i in order[: max(uncapped - sum(floors), 0)]:
        floors[i] += 1
    out = [
        {
            "name": d["name"],
            "title": d["title"],
            "score": d["score"],
            "weight": d["weight"],
            "lost": lost,
            "findings": len(d["findings"]),
        }
        for d, lost in zip(dims, floors, strict=True)
    ]
    cap = (100 - readiness["score"]) - uncapped
    if cap > 0:
        out.append(
            {
                "name": "cap",
                "title": "Capped below 80: " + "; ".join(readiness["blockers"]),
                "score": None,
                "weight": None,
                "lost": cap,
                "findings": 0,
            }
        )
    return out


def verdict_sentence(data: dict[str, Any]) -> str:
    """One sentence of at most 40 words from the largest contributors and the first step."""
    readiness = data["summary"]["readiness"]
    lost = sorted(
        (d for d in points_lost(readiness) if d["name"] in DIMENSION_WORDS and d["lost"] > 0),
        key=lambda d: -d["lost"],
    )
    band = readiness["band"]
    head = "Ready" if band == "ready" else f"Not ready ({band}, {readiness['score']}/100)"
    if not lost:
        return f"{head}: no drift found between the environment branches."
    words = " and ".join(DIMENSION_WORDS[d["name"]] for d in lost[:2])
    step = next((s for s in data.get("plan", []) if s["status"] != "done"), None)
    tail = f" Start with: {step['title'].lower()}." if step else ""
    return f"{head}: most points are lost to {words}.{tail}"


def trend(data: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any] | None:
    """What changed since an earlier report of the same repository (None without one)."""
    if previous is None:
        return None
    before = previous["summary"]["by_kind"]
    now = data["summary"]["by_kind"]
    return {
        "as_of": previous["settings"].get("as_of") or previous["generated_at"],
        "score": previous["summary"]["readiness"]["score"],
        "delta": data["summary"]["readiness"]["score"] - previous["summary"]["readiness"]["score"],
        "kinds": {kind: now.get(kind, 0) - before.get(kind, 0) for kind in now},
        "pairs": pair_deltas(data, previous),
    }


def _last_points(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (upstream, downstream): the drift-over-time point at the report's as-of date."""
    series = (data.get("metrics") or {}).get("drift_over_time") or []
    return {(s["upstream"], s["downstream"]): s["months"][-1] for s in series if s["months"]}


def pair_deltas(data: dict[str, Any], previous: dict[str, Any]) -> list[dict[str, Any]]:
    """Pending changes and oldest pending age per adjacent pair, now and in `previous` (at
    each report's as-of date); None where a report has no such pair or nothing pending."""
    now, before = _last_points(data), _last_points(previous)
    out = []
    for (up, down), point in now.items():
        old = before.get((up, down))
        oldest, oldest_before = point["oldest_days"], old["oldest_days"] if old else None
        delta = (
            round(oldest - oldest_before, 1)
            if oldest is not None and oldest_before is not None
            else None
        )
        out.append(
            {
                "upstream": up,
                "downstream": down,
                "pending": point["pending"],
                "pending_before": old["pending"] if old else None,
                "pending_delta": point["pending"] - old["pending"] if old else None,
                "oldest": oldest,
                "oldest_before": oldest_before,
                "oldest_delta": delta,
                "oldest_delta_text": _signed_days(delta),
            }
        )
    return out


def _signed_days(value: float | None) -> str:
    """+3.5, \u22122.0, 0 or an en dash for no value."""
    if value is None:
        return "\u2013"
    if value == 0:
        return "0"
    return f"+{value}" if value > 0 else f"\u2212{-value}"


def signed(n: int) -> str:
    """+3, -2, 0 (with a real minus sign)."""
    return f"+{n}" if n > 0 else f"\u2212{-n}" if n < 0 else "0"
