"""The GitHub-flavoured Markdown view, for CI job summaries and pull-request comments.

Size-limited (a pull-request comment holds 65,536 characters): findings are added worst
first until the budget is spent, and a closing line says what was left out. Every string
from the repository goes through `md_escape`.
"""

from __future__ import annotations

import re
from typing import Any

from drift.render.evidence import KIND_ORDER, KIND_TITLES
from drift.render.headline import headline_risks, points_lost, signed, trend, verdict_sentence
from drift.render.html import environment
from drift.render.webhost import commit_url_template

LIMIT = 60_000
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md_escape(text: object) -> str:
    """User text made inert in a GFM table cell: no HTML, no links, no markup, no `|`."""
    value = str(text)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _SPECIAL.sub(r"\\\1", value)
    # GFM autolinks URLs, www. names and e-mail addresses in plain text; a zero-width space
    # after the scheme, the `www` and the `@` keeps them text.
    value = re.sub(r"(?i)(\w)(:)(//)", "\\1\\2\u200b\\3", value)
    value = re.sub(r"(?i)\bwww\.", "www\u200b.", value)
    value = value.replace("@", "@\u200b")
    return " ".join(value.split())


def _row(data: dict[str, Any], finding: dict[str, Any], url: str | None) -> str:
    commit = next(
        (finding[k] for k in ("commit", "copy", "merge", "revert") if finding.get(k)), None
    )
    if commit is None:
        what = f"{finding.get('upstream')} \u2192 {finding.get('downstream')}"
        return f"| `{finding['id']}` | | {md_escape(what)} | {_detail(finding)} |"
    short = f"`{commit[:10]}`"
    if url:
        short = f"[{short}]({url.replace('{commit}', commit)})"
    subject = md_escape(data["commits"].get(commit, {}).get("subject", ""))
    return f"| `{finding['id']}` | {short} | {subject} | {md_escape(_detail(finding))} |"


def _detail(finding: dict[str, Any]) -> str:
    kind = finding["kind"]
    if kind in ("pending",):
        return f"{finding['upstream']} \u2192 {finding['downstream']}, {finding['age_days']} days"
    if kind == "missing_hotfix":
        return (
            f"from {finding['origin']}, missing on {', '.join(finding['missing_from'])}, "
            f"{finding['age_days']} days"
        )
    if kind == "cherry_pick":
        return f"{finding['original_env']} \u2192 {finding['copy_env']} by {finding['method']}"
    if kind in ("back_merge", "promotion_merge", "cross_merge"):
        return f"{finding['from_env']} \u2192 {finding['into_env']}"
    if kind == "divergence":
        return f"ahead {finding['ahead']}, behind {finding['behind']}"
    return str(finding.get("env") or finding.get("origin") or "")


def render_markdown(
    data: dict[str, Any],
    commit_url: str | None = None,
    limit: int = LIMIT,
    previous: dict[str, Any] | None = None,
) -> str:
    """The Markdown report of one report dict, at most `limit` characters."""
    url = commit_url_template(data["repository"].get("remote_url"), commit_url)
    head = (
        environment()
        .get_template("report.md.j2")
        .render(
            data=data,
            risks=headline_risks(data),
            lost=points_lost(data["summary"]["readiness"]),
            verdict_sentence=verdict_sentence(data),
            first_step=next((s for s in data.get("plan", []) if s["status"] != "done"), None),
            esc=md_escape,
            trend=trend(data, previous),
            signed=signed,
            divergence=[f for f in data["findings"] if f["kind"] == "divergence"],
        )
    )
    return _with_findings(data, head, url, limit)


def _with_findings(data: dict[str, Any], head: str, url: str | None, limit: int) -> str:
    rank = {kind: i for i, kind in enumerate(KIND_ORDER)}  # kinds added later go last
    ordered = sorted(
        (f for f in data["findings"] if f["kind"] not in ("divergence", "promotion_merge")),
        key=lambda f: rank.get(f["kind"], len(rank)),
    )
    lines = [head.rstrip("\n"), "", "### Findings, worst first", ""]
    reserve = 200
    shown, kind = 0, None
    for finding in ordered:
        block = []
        if finding["kind"] != kind:
            kind = finding["kind"]
            block += [
                "",
                f"**{KIND_TITLES.get(kind, kind)}**",
                "",
                "| id | commit | subject | detail |",
                "|---|---|---|---|",
            ]
        block.append(_row(data, finding, url))
        if sum(len(x) + 1 for x in lines + block) + reserve > limit:
            break
        lines += block
        shown += 1
    left = len(ordered) - shown
    lines.append("")
    if left:
        lines.append(
            f"_{left} of {len(ordered)} findings left out to stay under {limit:,} characters; "
            "every finding is in report.json._"
        )
    else:
        shown_all = "The finding is" if len(ordered) == 1 else f"All {len(ordered)} findings are"
        lines.append(
            f"_{shown_all} shown (promotion merges and divergence: above and in report.json)._"
        )
    return "\n".join(lines) + "\n"
