"""The terminal view: chain, divergence per pair, counts, the most urgent findings, a verdict.

User text (subjects, names, refs) goes into rich `Text` objects, never into markup, so a
commit subject like `[red]` or `</script>` prints as itself.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from drift.render.lines import lead_rows, topology
from drift.wording import plural

URGENT_ROWS = 10


def _short(commit_id: str | None) -> str:
    return commit_id[:10] if commit_id else "-"


def _subject(data: dict[str, Any], commit_id: str | None) -> Text:
    info = data["commits"].get(commit_id or "", {})
    return Text(info.get("subject", ""), overflow="ellipsis", no_wrap=True)


def _date(data: dict[str, Any], commit_id: str) -> str:
    info = data["commits"].get(commit_id, {})
    return str(info.get("commit_time", ""))[:10]


def render_terminal(data: dict[str, Any], console: Console) -> None:
    """Print the summary of one report."""
    repo = data["repository"]
    console.print(Text.assemble(("drift ", "bold"), Text(str(repo.get("path", "")))))
    envs = data["environments"]
    tree = topology(data)
    label = "Chain: " if tree.is_chain else "Environments: "
    console.print(Text(label) + Text(tree.describe(), style="bold"))
    console.print(_environments(envs))
    for note in data["notes"]:
        console.print(Text("note: ", style="yellow") + Text(note))
    if len(envs) < 2:
        _verdict(data, console)
        return
    console.print(_divergence(data))
    if any(f.get("approximate_changes") for f in data["findings"] if f["kind"] == "divergence"):
        console.print(Text("~ counts rest partly on near-miss (similar) matches", style="dim"))
    console.print(_counts(data))
    _urgent(data, console)
    _release_identity(data, console)
    _metrics(data, console)
    _readiness(data, console)
    _plan(data, console)
    _verdict(data, console)


def _tested_as(env: dict[str, Any]) -> Text:
    tested = env.get("tested_as")
    if tested is None:
        return Text("-")
    if not tested["commit"]:
        return Text(f"never on {tested['upstream']}", style="red")
    return Text(f"{tested['upstream']} {_short(tested['commit'])} ({str(tested['time'])[:10]})")


def _environments(envs: list[dict[str, Any]]) -> Table:
    table = Table(title="Environments", title_justify="left")
    for column in ("environment", "ref", "tip", "tip date", "tip tree tested as", "why this ref"):
        table.add_column(column)
    for env in envs:
        table.add_row(
            Text(env["name"]),
            Text(env["ref"]),
            _short(env["commit"]),
            env["commit_time"][:10],
            _tested_as(env),
            Text(env["reason"]),
        )
    return table


def _divergence(data: dict[str, Any]) -> Table:
    chain = topology(data).is_chain
    title = "Divergence per adjacent pair" if chain else "Divergence per upstream link"
    table = Table(title=title, title_justify="left")
    for column in (
        "pair",
        "ahead",
        "behind",
        "pending",
        "downstream-only",
        "files differ",
        "oldest pending",
    ):
        table.add_column(column, justify="left" if column == "pair" else "right")
    for f in data["findings"]:
        if f["kind"] != "divergence":
            continue
        oldest = f.get("oldest_pending_days")
        table.add_row(
            Text(f"{f['upstream']} -> {f['downstream']}"),
            str(f["ahead"]),
            str(f["behind"]),
            _approx(f["pending_changes"], f),
            _approx(f["downstream_only_changes"], f),
            str(f["differing_files"]),
            "-" if oldest is None else f"{oldest} d",
        )
    return table


def _approx(count: int, divergence: dict[str, Any]) -> str:
    """`~5` when a near-miss (`similar`) match decided part of the count."""
    return f"~{count}" if divergence.get("approximate_changes") else str(count)


def _counts(data: dict[str, Any]) -> Table:
    table = Table(title="Findings by kind", title_justify="left")
    table.add_column("kind")
    table.add_column("count", justify="right")
    for kind, count in data["summary"]["by_kind"].items():
        table.add_row(kind, str(count), style=None if count else "dim")
    return table


def _urgent(data: dict[str, Any], console: Console) -> None:
    findings = data["findings"]
    missing = sorted(
        (f for f in findings if f["kind"] == "missing_hotfix"), key=lambda f: -int(f["age_days"])
    )
    if missing:
        table = Table(title=f"Fixes missing upstream ({len(missing)})", title_justify="left")
        for column in ("commit", "date", "origin", "missing from", "age", "subject"):
            table.add_column(column)
        for f in missing[:URGENT_ROWS]:
            table.add_row(
                _short(f["commit"]),
                _date(data, f["commit"]),
                Text(f["origin"]),
                Text(", ".join(f["missing_from"])),
                f"{f['age_days']} d",
                _subject(data, f["commit"]),
            )
        console.print(table)
    pending = sorted(
        (f for f in findings if f["kind"] == "pending"),
        key=lambda f: (-int(f["age_days"]), f["commit"]),
    )
    if pending:
        title = f"Oldest pending changes ({min(len(pending), URGENT_ROWS)} of {len(pending)})"
        table = Table(title=title, title_justify="left")
        for column in ("commit", "since", "pair", "age", "subject"):
            table.add_column(column)
        for f in pending[:URGENT_ROWS]:
            table.add_row(
                _short(f["commit"]),
                str(f["introduced_at"])[:10],
                Text(f"{f['upstream']} -> {f['downstream']}"),
                f"{f['age_days']} d",
                _subject(data, f["commit"]),
            )
        console.print(table)


def _release_identity(data: dict[str, Any], console: Console) -> None:
    findings = data["findings"]
    untested = [f for f in findings if f["kind"] == "untested_release"]
    if untested:
        newest = sorted(untested, key=lambda f: (str(f["time"]), f["commit"]), reverse=True)
        shown = min(len(untested), URGENT_ROWS)
        title = f"Releases never tested as such ({shown} newest of {len(untested)})"
        table = Table(title=title, title_justify="left")
        for column in ("commit", "date", "on", "not tested on", "subject"):
            table.add_column(column)
        for f in newest[:URGENT_ROWS]:
            table.add_row(
                _short(f["commit"]),
                str(f["time"])[:10],
                Text(f["env"]),
                Text(f["upstream"]),
                _subject(data, f["commit"]),
            )
        console.print(table)
    conflicts = [f for f in findings if f["kind"] == "conflict_merge"]
    if conflicts:
        table = Table(
            title=f"Merges that differ from git's own merge ({len(conflicts)})",
            title_justify="left",
        )
        for column in ("merge", "date", "on", "type", "paths", "subject"):
            table.add_column(column)
        for f in conflicts[:URGENT_ROWS]:
            paths = f["paths"]
            listed = ", ".join(paths[:3]) + (f" (+{len(paths) - 3})" if len(paths) > 3 else "")
            table.add_row(
                _short(f["merge"]),
                str(f["time"])[:10],
                Text(f["env"]),
                f["type"],
                Text(listed),
                _subject(data, f["merge"]),
            )
        console.print(table)


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:g} d"


def _metrics(data: dict[str, Any], console: Console) -> None:
    metrics = data.get("metrics")
    if not metrics:
        return
    window = metrics["window"]
    title = f"Delivery, {str(window['start'])[:10]} to {str(window['end'])[:10]}"
    table = Table(title=title, title_justify="left")
    for column in ("measure", "value"):
        table.add_column(column)
    for step in lead_rows(data):
        table.add_row(
            Text(f"lead time {step['from']} -> {step['to']} (median / p90)"),
            f"{_days(step['median_days'])} / {_days(step['p90_days'])}  "
            f"({plural(step['count'], 'change')})",
        )
    hotfixes = metrics["hotfixes"]
    back = hotfixes["back_propagation"]
    rate = hotfixes["rate"]
    share = "no changes in the window" if rate is None else f"{rate:.1%} of changes"
    table.add_row("hotfixes", f"{hotfixes['count']} ({share})")
    table.add_row(
        f"hotfix back to {back['to']} (median / p90)",
        f"{_days(back['median_days'])} / {_days(back['p90_days'])}  ({back['count']} fixes)",
    )
    for pair in metrics["drift_over_time"]:
        table.add_row(
            Text(f"pending {pair['upstream']} -> {pair['downstream']}"), _over_time(pair["trend"])
        )
    cadence = metrics["cadence"]
    table.add_row(
        Text(f"changes reaching {cadence['env']} per week (mean)"),
        f"{cadence['mean_changes_per_week']:g}",
    )
    console.print(table)


def _readiness(data: dict[str, Any], console: Console) -> None:
    ready = data["summary"].get("readiness")
    if not ready:
        return
    console.print(
        Text.assemble(
            ("Readiness for trunk-based delivery: ", "bold"),
            (f"{ready['score']}/100 ({ready['band']})", "bold"),
            "  " + ready["summary"],
        )
    )
    table = Table(title_justify="left")
    for column in ("dimension", "score", "what set it"):
        table.add_column(column, justify="right" if column == "score" else "left")
    for dim in ready["dimensions"]:
        if not dim["assessed"]:
            table.add_row(dim["title"], "-", "not assessed", style="dim")
            continue
        measures = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in dim["measures"].items() if v)
        table.add_row(dim["title"], str(dim["score"]), Text(measures or "nothing found"))
    console.print(table)
    for blocker in ready.get("blockers", []):
        console.print(Text("blocker: ", style="red") + Text(blocker))


def _plan(data: dict[str, Any], console: Console) -> None:
    plan: list[dict[str, Any]] = data.get("plan") or []
    todo = [step for step in plan if step["status"] != "done"]
    first: dict[str, Any] | None = todo[0] if todo else None
    if not plan:
        return
    console.print(Text(f"Migration plan ({len(todo)} of {len(plan)} steps open)", style="bold"))
    for step in plan:
        mark = {"done": "done", "todo": "TODO", "unknown": "  ? "}[step["status"]]
        console.print(
            Text(f" {step['order']}. [{mark}] {step['title']}: ") + Text(step["evidence"][0])
        )
        if step is first:
            for action in step["actions"]:
                console.print(Text("      - " + action))


def _verdict(data: dict[str, Any], console: Console) -> None:
    console.print(Text("Verdict", style="bold"))
    for line in data["summary"]["verdict"]:
        console.print(Text("  " + line))


def _over_time(trend: dict[str, Any]) -> str:
    """The pending count over the window's week ends. A window of one week end has no trend
    (drift.readiness.timeline gives it no direction), and none has no count."""
    weeks = trend["weeks"]
    if weeks == 0:
        return "no week end in the window"
    if trend["direction"] is None:
        return f"{trend['last']} at the one week end (too short for a trend)"
    return f"{trend['first']} -> {trend['last']} over {weeks} weeks ({trend['direction']})"
