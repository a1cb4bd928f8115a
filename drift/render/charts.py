"""Inline SVG charts for the HTML report, drawn from the report dict alone.

Each function returns markup (a `markupsafe.Markup`) whose every piece of report text went
through `escape`; each chart has `role="img"`, a title and a description, and the report
shows the same numbers in a table beside it.
"""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup, escape

from drift.render.lines import lead_rows, topology
from drift.topology import Topology

# Greyscale-safe palette (blue / orange / grey, no red-green pair); patterns carry meaning too.
MERGE, PICK, DIRECT, BACK = "#1f5fa8", "#b35900", "#5c5c5c", "#6a3d9a"


def _svg(width: int, height: int, title: str, desc: str, body: str, key: str) -> Markup:
    return Markup(
        f'<svg role="img" aria-labelledby="{key}-t {key}-d" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{key}-t">{escape(title)}</title><desc id="{key}-d">{escape(desc)}</desc>'
        f"{body}</svg>"
    )


def flow_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per environment with an upstream: how its changes arrived (the flow chart's table)."""
    rows = []
    arrival = data.get("metrics", {}).get("arrival", [])
    tree = topology(data)
    for entry in arrival:
        if entry["env"] not in tree.names:
            continue
        upstream = tree.upstream_of(entry["env"])
        if upstream is None:
            continue
        picks = sum(m["count"] for m in entry["cherry_pick"].values())
        rows.append(
            {
                "from": upstream,
                "to": entry["env"],
                "merge": entry["merge"]["count"] + entry["fast_forward"]["count"],
                "cherry_pick": picks,
                "direct": entry["direct"]["count"],
                "back_merges": _back_merges(data, entry["env"]),
                "stranded": _stranded(data, entry["env"]),
            }
        )
    return rows


def _back_merges(data: dict[str, Any], from_env: str) -> int:
    return sum(
        1 for f in data["findings"] if f["kind"] == "back_merge" and f["from_env"] == from_env
    )


def _stranded(data: dict[str, Any], env: str) -> int:
    return sum(
        f["downstream_only_changes"]
        for f in data["findings"]
        if f["kind"] == "divergence" and f["downstream"] == env
    )


def flow_chart(data: dict[str, Any]) -> Markup:
    """Environments left to right; edge widths by changes per step, split by how they came."""
    rows = {r["to"]: r for r in flow_rows(data)}
    place = _layout(topology(data))
    box_w, gap, band = 110, 150, 150
    columns = max(col for col, _ in place.values()) + 1
    height = 210 + band * max(row for _, row in place.values())
    width = columns * box_w + (columns - 1) * gap + 20
    top = max([r["merge"] + r["cherry_pick"] + r["direct"] for r in rows.values()] + [1])
    parts: list[str] = []
    for name, (col, line) in place.items():
        x, dy = 10 + col * (box_w + gap), band * line
        parts.append(
            f'<rect x="{x}" y="{70 + dy}" width="{box_w}" height="50" rx="6" fill="#fff" '
            f'stroke="#222" stroke-width="2"/><text x="{x + box_w / 2}" y="{100 + dy}" '
            f'text-anchor="middle" font-size="15">{escape(name)}</text>'
        )
        row = rows.get(name)
        if row is None:
            continue
        x0, x1 = x - gap + 4, x - 4
        up_line = place[row["from"]][1]
        if up_line != line:  # a release line below its upstream's row: a connector down to it
            parts.append(
                f'<path d="M{x0 - 4} {120 + band * up_line} L{x0} {76 + dy}" fill="none" '
                'stroke="#222" stroke-width="1.5"/>'
            )
        y = 76.0 + dy
        for key, colour, dash, label in (
            ("merge", MERGE, "", "merged"),
            ("cherry_pick", PICK, ' stroke-dasharray="6 3"', "picked"),
            ("direct", DIRECT, ' stroke-dasharray="2 2"', "direct"),
        ):
            width_px = 2 + 16 * row[key] / top if row[key] else 0
            if not width_px:
                continue
            y += width_px / 2
            parts.append(
                f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="{colour}" '
                f'stroke-width="{width_px:.1f}"{dash}/>'
            )
            parts.append(
                f'<text x="{x0 + 2}" y="{y - width_px / 2 - 2:.1f}" font-size="11">'
                f"{row[key]} {label}</text>"
            )
            y += width_px / 2 + 12
        if row["back_merges"]:
            parts.append(
                f'<path d="M{x1 - 10} {125 + dy} C{x1 - 40} {175 + dy} {x0 + 40} {175 + dy} '
                f'{x0 + 10} {125 + dy}" fill="none" '
                f'stroke="{BACK}" stroke-width="2" marker-end="url(#arrow)"/>'
                f'<text x="{(x0 + x1) / 2}" y="{185 + dy}" text-anchor="middle" font-size="11">'
                f"{row['back_merges']} back-merge(s) out of {escape(row['to'])}</text>"
            )
        if row["stranded"]:
            parts.append(
                f'<text x="{x + box_w / 2}" y="{140 + dy}" text-anchor="middle" font-size="11">'
                f"\u25b2 {row['stranded']} only here</text>"
            )
    defs = (
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="6" '
        f'markerHeight="6" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="{BACK}"/>'
        "</marker></defs>"
    )
    desc = "; ".join(
        f"into {r['to']}: {r['merge']} merged, {r['cherry_pick']} cherry-picked, "
        f"{r['direct']} committed directly, {r['back_merges']} back-merges out of it"
        for r in rows.values()
    )
    return _svg(
        width, height, "How changes reached each environment", desc, defs + "".join(parts), "flow"
    )


def _layout(tree: Topology) -> dict[str, tuple[int, int]]:
    """(column, row) per environment: a column per step downstream, and a row per release
    line beside another (a chain is one row, left to right)."""
    place: dict[str, tuple[int, int]] = {}
    used: dict[int, int] = {}
    for name in tree.names:
        up = tree.upstream_of(name)
        col = 0 if up is None else place[up][0] + 1
        row = max(place[up][1] if up is not None else 0, used.get(col, -1) + 1)
        used[col] = row
        place[name] = (col, row)
    return place


def drift_multiples(data: dict[str, Any]) -> Markup:
    """Pending changes per month, one small chart per adjacent pair, on one shared scale."""
    series = data.get("metrics", {}).get("drift_over_time", [])
    if not series:
        return Markup("")
    top = max([m["pending"] for s in series for m in s["months"]] + [1])
    w, h, pad = 260, 110, 22
    charts = []
    for n, s in enumerate(series):
        months = s["months"]
        step = (w - 2 * pad) / max(len(months), 1)
        bars = []
        for i, m in enumerate(months):
            bh = (h - 2 * pad) * m["pending"] / top
            bars.append(
                f'<rect x="{pad + i * step:.1f}" y="{h - pad - bh:.1f}" width="{step * 0.8:.1f}" '
                f'height="{bh:.1f}" fill="{MERGE}"/>'
            )
        label = f"{s['upstream']} \u2192 {s['downstream']}"
        first = escape(months[0]["period"]) if months else ""
        last = escape(months[-1]["period"]) if months else ""
        body = (
            f'<text x="{pad}" y="14" font-size="12">{escape(label)} (max {top})</text>'
            f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#222"/>'
            + "".join(bars)
            + f'<text x="{pad}" y="{h - 6}" font-size="10">{first}</text>'
            f'<text x="{w - pad}" y="{h - 6}" font-size="10" text-anchor="end">{last}</text>'
        )
        desc = ", ".join(f"{m['period']}: {m['pending']}" for m in months)
        charts.append(_svg(w, h, f"Pending changes per month, {label}", desc, body, f"drift{n}"))
    return Markup("").join(charts)


def lead_time_chart(data: dict[str, Any]) -> Markup:
    """Median and p90 lead time per step on a log axis (days)."""
    steps = [s for s in lead_rows(data) if s.get("median_days") is not None]
    if not steps:
        return Markup("")
    w, row, left = 520, 26, 130
    h = 40 + row * len(steps)
    lo, hi = 0.1, max(max(s["p90_days"] or 0 for s in steps) * 1.5, 10.0)

    def x(days: float) -> float:
        days = max(days, lo)
        return left + (w - left - 20) * math.log10(days / lo) / math.log10(hi / lo)

    parts = []
    for tick in (0.1, 1, 7, 30, 90, 365):
        if tick <= hi:
            parts.append(
                f'<line x1="{x(tick):.1f}" y1="20" x2="{x(tick):.1f}" y2="{h - 14}" stroke="#bbb"/>'
                f'<text x="{x(tick):.1f}" y="{h - 2}" font-size="10" text-anchor="middle">'
                f"{tick:g}d</text>"
            )
    for i, s in enumerate(steps):
        y = 30 + i * row
        label = f"{s['from']} \u2192 {s['to']}"
        med, p90 = s["median_days"], s["p90_days"] or s["median_days"]
        parts.append(
            f'<text x="{left - 6}" y="{y + 4}" font-size="11" text-anchor="end">{escape(label)}'
            f'</text><line x1="{x(med):.1f}" y1="{y}" x2="{x(p90):.1f}" y2="{y}" stroke="{PICK}" '
            f'stroke-width="4"/><circle cx="{x(med):.1f}" cy="{y}" r="5" fill="{MERGE}"/>'
            f'<rect x="{x(p90) - 4:.1f}" y="{y - 4}" width="8" height="8" fill="{PICK}"/>'
        )
    desc = "; ".join(
        f"{s['from']} to {s['to']}: median {s['median_days']} days, p90 {s['p90_days']} days, "
        f"n={s['count']}"
        for s in steps
    )
    return _svg(
        w,
        h,
        "Lead time per step, log scale (circle median, square p90)",
        desc,
        "".join(parts),
        "lead",
    )


MONTHLY_SERIES = (
    ("back_merges", "back-merges", BACK),
    ("cherry_picks", "cherry-picks", PICK),
    ("conflict_merges", "conflict merges", DIRECT),
)


def monthly_chart(data: dict[str, Any]) -> Markup:
    """Back-merges, cherry-picks and conflict merges per month, side by side."""
    months = data.get("metrics", {}).get("monthly", {}).get("months", [])
    if not months:
        return Markup("")
    top = max([m[key]["count"] for m in months for key, _, _ in MONTHLY_SERIES] + [1])
    w, h, pad, legend = 560, 150, 24, 18
    group = (w - 2 * pad) / len(months)
    bar = group * 0.8 / len(MONTHLY_SERIES)
    parts = []
    for i, (_, label, colour) in enumerate(MONTHLY_SERIES):
        parts.append(
            f'<rect x="{pad + i * 140}" y="4" width="10" height="10" fill="{colour}"/>'
            f'<text x="{pad + i * 140 + 14}" y="13" font-size="11">{label}</text>'
        )
    for g, month in enumerate(months):
        for i, (key, _, colour) in enumerate(MONTHLY_SERIES):
            bh = (h - 2 * pad - legend) * month[key]["count"] / top
            x = pad + g * group + i * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{h - pad - bh:.1f}" width="{bar:.1f}" height="{bh:.1f}" '
                f'fill="{colour}"/>'
            )
    parts.append(
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#222"/>'
        f'<text x="{pad}" y="{h - 8}" font-size="10">{escape(months[0]["month"])}</text>'
        f'<text x="{w - pad}" y="{h - 8}" font-size="10" text-anchor="end">'
        f"{escape(months[-1]['month'])}</text>"
        f'<text x="{w - pad}" y="{legend + 10}" font-size="10" text-anchor="end">max {top}</text>'
    )
    desc = "; ".join(
        f"{m['month']}: "
        + ", ".join(f"{m[key]['count']} {label}" for key, label, _ in MONTHLY_SERIES)
        for m in months
    )
    title = "Back-merges, cherry-picks and conflict merges per month"
    return _svg(w, h, title, desc, "".join(parts), "monthly")


RUN_SERIES = (
    ("score", "Readiness score"),
    ("pending", "Pending changes"),
    ("missing_hotfix", "Fixes missing upstream"),
    ("untested_release", "Releases never tested as such"),
)


def history_runs(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The runs of `--history DIR` (oldest first), flattened for the chart and its table."""
    runs = data.get("ci", {}).get("history", {}).get("runs", [])
    return [
        {
            "date": str(run.get("generated_at") or "")[:10],
            "score": run.get("score"),
            **{key: run.get("by_kind", {}).get(key, 0) for key, _ in RUN_SERIES[1:]},
        }
        for run in runs
    ]


def runs_chart(data: dict[str, Any]) -> Markup:
    """One small line chart per series over the runs kept in the history folder."""
    runs = history_runs(data)
    if len(runs) < 2:
        return Markup("")
    w, h, pad = 260, 110, 22
    charts = []
    for n, (key, title) in enumerate(RUN_SERIES):
        values = [run[key] for run in runs]
        known = [v for v in values if v is not None]
        top = 100 if key == "score" else max([*known, 1])
        step = (w - 2 * pad) / (len(runs) - 1)
        points = [
            (pad + i * step, h - pad - (h - 2 * pad) * v / top)
            for i, v in enumerate(values)
            if v is not None
        ]
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        dots = "".join(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{MERGE}"/>' for x, y in points
        )
        last = known[-1] if known else "-"
        body = (
            f'<text x="{pad}" y="14" font-size="12">{escape(title)}: {escape(str(last))} now</text>'
            f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#222"/>'
            f'<polyline points="{line}" fill="none" stroke="{MERGE}" stroke-width="2"/>{dots}'
            f'<text x="{pad}" y="{h - 6}" font-size="10">{escape(runs[0]["date"])}</text>'
            f'<text x="{w - pad}" y="{h - 6}" font-size="10" text-anchor="end">'
            f"{escape(runs[-1]['date'])}</text>"
        )
        desc = ", ".join(f"{run['date']}: {run[key]}" for run in runs)
        charts.append(_svg(w, h, f"{title} over {len(runs)} runs", desc, body, f"runs{n}"))
    return Markup("").join(charts)
