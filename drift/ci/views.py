"""Terminal and Markdown views of a `drift diff` and of gate results.

User text (subjects, branch names, reasons) is escaped: rich `Text` objects in the
terminal; `|`, `<`, `>`, backticks and autolinks neutralised in Markdown.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from drift.ci.baseline import describe
from drift.ci.gates import GateResult

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def md(text: Any) -> str:
    """User text made inert in Markdown: no markup, no tables broken, no autolinks."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _MD_SPECIAL.sub(r"\\\1", text.replace("\n", " "))
    return escaped.replace("://", ":&#47;&#47;").replace("@", "&#64;")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4g}"
    return str(int(value)) if isinstance(value, float) else str(value)


def _delta(value: float) -> str:
    return "0" if value == 0 else f"{'+' if value > 0 else ''}{_fmt(value)}"


def changed_numbers(result: dict[str, Any], everything: bool = False) -> list[dict[str, Any]]:
    """The number rows to show: those that moved (all of them with `everything`)."""
    return [row for row in result["numbers"] if everything or row["old"] != row["new"]]


def render_diff_terminal(
    result: dict[str, Any], console: Console, everything: bool = False
) -> None:
    """Print a diff: runs compared, findings appeared and resolved, numbers that moved."""
    old, new = result["old"], result["new"]
    console.print(Text(f"drift diff: {old['generated_at']} -> {new['generated_at']}", style="bold"))
    console.print(Text(f"score {_fmt(old['score'])} -> {_fmt(new['score'])}"))
    for note in result["notes"]:
        console.print(Text("note: ", style="yellow") + Text(note))
    for title, rows in (("Appeared", result["appeared"]), ("Resolved", result["resolved"])):
        if not rows:
            console.print(Text(f"{title}: none"))
            continue
        table = Table(title=f"{title} ({len(rows)})", title_justify="left")
        table.add_column("id")
        table.add_column("finding")
        table.add_column("accepted")
        for row in rows:
            accepted = (row.get("accepted") or {}).get("reason", "")
            table.add_row(Text(row["id"]), Text(row["description"]), Text(accepted))
        console.print(table)
    moved = changed_numbers(result, everything)
    table = Table(title=f"Numbers ({len(moved)})", title_justify="left")
    for column in ("number", "old", "new", "change"):
        table.add_column(column, justify="left" if column == "number" else "right")
    for row in moved:
        table.add_row(Text(row["name"]), _fmt(row["old"]), _fmt(row["new"]), _delta(row["delta"]))
    console.print(table if moved else Text("Numbers: none moved"))
    console.print(Text(f"{result['unchanged']} findings in both reports"))


def render_diff_markdown(result: dict[str, Any], everything: bool = False) -> str:
    """A diff as GitHub-flavoured Markdown (for a job summary or a merge request note)."""
    old, new = result["old"], result["new"]
    lines = [
        "## drift: changes since the last report",
        "",
        f"{md(old['generated_at'])} -> {md(new['generated_at'])}: readiness score "
        f"**{_fmt(old['score'])} -> {_fmt(new['score'])}**",
        "",
    ]
    lines += [f"> note: {md(note)}" for note in result["notes"]]
    for title, rows in (("Appeared", result["appeared"]), ("Resolved", result["resolved"])):
        lines += ["", f"### {title} ({len(rows)})", ""]
        if not rows:
            lines.append("None.")
        else:
            lines += ["| id | finding | accepted |", "|---|---|---|"]
            for row in rows:
                accepted = (row.get("accepted") or {}).get("reason", "")
                lines.append(f"| `{row['id']}` | {md(row['description'])} | {md(accepted)} |")
    moved = changed_numbers(result, everything)
    lines += ["", f"### Numbers ({len(moved)} moved)", ""]
    if not moved:
        lines.append("None moved.")
    else:
        lines += ["| number | old | new | change |", "|---|---:|---:|---:|"]
        for row in moved:
            cells = (_fmt(row["old"]), _fmt(row["new"]), _delta(row["delta"]))
            lines.append(f"| {md(row['name'])} | " + " | ".join(cells) + " |")
    lines += ["", f"{result['unchanged']} findings are in both reports.", ""]
    return "\n".join(lines)


def render_accepted(data: dict[str, Any], console: Console, limit: int | None = 10) -> None:
    """Accepted findings stay visible: how many, and each with its reason and source."""
    accepted = [f for f in data["findings"] if f.get("accepted")]
    if not accepted:
        return
    table = Table(title=f"Accepted drift ({len(accepted)})", title_justify="left")
    for column in ("finding", "source", "reason"):
        table.add_column(column)
    for finding in accepted[:limit]:
        mark = finding["accepted"]
        source = mark["source"] + (f" {mark['commit'][:10]}" if mark.get("commit") else "")
        table.add_row(Text(describe(finding, data)), Text(source), Text(mark["reason"]))
    console.print(table)
    if limit is not None and len(accepted) > limit:
        console.print(Text(f"... and {len(accepted) - limit} more (--verbose lists all)"))


def render_gates(results: list[GateResult], console: Console) -> None:
    """One plain line per gate: `gate tripped: ...`, `gate not evaluated: ...`, `gate passed`."""
    for result in results:
        status = result.status.replace("_", " ")
        style = {"passed": "green", "tripped": "red"}.get(result.status, "yellow")
        line = Text("gate ") + Text(result.gate, style="bold") + Text(" ")
        line += Text(status, style=style) + Text(f": {result.reason}")
        if result.findings:
            shown = ", ".join(result.findings[:5])
            more = f" and {len(result.findings) - 5} more" if len(result.findings) > 5 else ""
            line += Text(f" ({shown}{more})")
        console.print(line)
