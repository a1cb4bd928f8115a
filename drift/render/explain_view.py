"""The terminal view of `drift explain`: one change, environment by environment.

It reads the explanation dict (drift/explain.py) only. User text (subjects, names) goes
into rich `Text` objects, never into markup, so a subject like `[red]` prints as itself.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

_MERGE_KINDS = {
    "back_merge": "back-merge",
    "promotion_merge": "promotion",
    "cross_merge": "merge between release lines",
}


def _short(commit_id: str | None) -> str:
    return commit_id[:10] if commit_id else ""


def _subject(ex: dict[str, Any], commit_id: str) -> str:
    return str(ex["commits"].get(commit_id, {}).get("subject") or "")


def render_explanation(ex: dict[str, Any], console: Console) -> None:
    """Print one explanation."""
    change = ex["change"]
    console.print(Text(change["subject"] or "", style="bold"))
    facts = [f"change {_short(change['id'] or ex['commit'])}"]
    facts.append(f"{len(change['commits'])} commit{'s' if len(change['commits']) > 1 else ''}")
    if change["is_revert"]:
        facts.append("a revert")
    if change["approximate"]:
        facts.append("approximate (similar diffs)")
    console.print(Text(", ".join(facts), style="dim"))
    console.print(_table(ex))
    for line in ex["summary"]:
        console.print(Text("  " + line))
    if ex["findings"]:
        console.print(Text("Findings", style="bold"))
        for finding in ex["findings"]:
            line = Text(f"  {finding['kind']}") + Text(_facts(finding))
            console.print(line + Text(f"  {finding['id']}", style="dim"))
            if finding.get("note"):
                console.print(Text(f"    note: {finding['note']}"))
    for note in ex["notes"]:
        console.print(Text("note: ", style="yellow") + Text(note))


def _facts(finding: dict[str, Any]) -> str:
    """The environments a finding is about, in a few words."""
    f = finding
    facts = []
    for a, b in (
        ("upstream", "downstream"),
        ("from_env", "into_env"),
        ("original_env", "copy_env"),
    ):
        if f.get(a) and f.get(b):
            facts.append(f"{f[a]} -> {f[b]}")
    for key, label in (("missing_from", "missing from"), ("origin", "origin"), ("env", "on")):
        if f.get(key) and not facts:
            facts.append(f"{label} {f[key]}")
    return f": {', '.join(facts)}" if facts else ""


def _table(ex: dict[str, Any]) -> Table:
    table = Table(title="Environments, most upstream first", title_justify="left")
    for column in ("environment", "has it", "as commit", "introduced", "how"):
        table.add_column(column)
    for row in ex["environments"]:
        when = (row["introduced_at"] or "").replace("T", " ")[:16]
        has = Text("yes", style="green") if row["present"] else Text("no", style="red")
        if row["present"] and len(row["reverted_by"]) > len(row["reapplied_by"]):
            has = Text("reverted", style="yellow")
        table.add_row(Text(row["name"]), has, _short(row["commit"]), when, _how(ex, row))
    return table


def _picked(copy_of: list[dict[str, Any]]) -> str:
    originals = ", ".join(
        f"{_short(c['original'])} ({c['method']}, {float(c['score'] or 0):.2f})" for c in copy_of
    )
    return f"cherry-pick of {originals}"


def _how(ex: dict[str, Any], row: dict[str, Any]) -> Text:
    """How the change came in, or why it is missing."""
    if not row["present"]:
        pending = [p["upstream"] for p in ex["pending"] if p["downstream"] == row["name"]]
        waiting = f"pending on {pending[0]}" if pending else ""
        if row["missing"] == "upstream":
            origin = ex["change"]["origin"]
            text = Text(f"missing: upstream of its origin ({origin})", style="red")
            return text + Text(f"; {waiting}" if waiting else "")
        if waiting:
            return Text(f"missing: {waiting}", style="yellow")
        if row["missing"] == "elsewhere":
            origin = ex["change"]["origin"]
            return Text(f"missing: a release line beside its origin ({origin})")
        return Text("missing: not promoted yet" if row["missing"] else "missing")
    text = Text()
    how = row["how"]
    if how == "merge":
        merge = row["merge"]
        kind = _MERGE_KINDS.get(merge["kind"], merge["kind"])
        text.append(f"{kind} from {merge['from_env']}" if kind else "merge")
        text.append(f", by {_short(merge['commit'])}\n")
        text.append(merge["subject"] or "", style="dim")
    elif how == "cherry-pick":
        text.append(_picked(row["copy_of"]))
    elif how == "base":
        text.append("in the common base (before the environments diverged)")
    else:
        text.append("direct commit")
    if how == "merge" and row["copy_of"]:
        text.append(f"\nits commit is a {_picked(row['copy_of'])}", style="dim")
    for commit_id in row["reverted_by"]:
        text.append(f"; reverted by {_short(commit_id)}", style="yellow")
    for commit_id in row["reapplied_by"]:
        text.append(f"; re-applied by {_short(commit_id)}")
    if row["also"]:
        text.append(f"; also as {', '.join(_short(c) for c in row['also'])}", style="dim")
    return text
