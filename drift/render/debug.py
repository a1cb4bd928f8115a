"""`--debug`: the reason behind each classification, one line per finding, on stderr.

A user who questions a finding wants the facts it rests on in the words of findings.md, and a
command to check it with plain git; `drift explain` then tells the whole story of one change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def _short(commit: object) -> str:
    return str(commit)[:12] if commit else "-"


def reason(f: dict[str, Any]) -> str:
    """Why drift classified this finding so, from its own fields (and its note)."""
    kind = f["kind"]
    if kind == "pending":
        why = (
            f"on {f['upstream']} since {f['introduced_at']} (brought by "
            f"{_short(f['introduced_by'])}), no commit of its change reaches {f['downstream']}"
        )
    elif kind in ("back_merge", "promotion_merge", "cross_merge"):
        why = (
            f"{_short(f['merge'])} is on {f['into_env']}'s first-parent line and its parent "
            f"{_short(f['merged'])} on {f['from_env']}'s"
        )
    elif kind in ("hotfix", "missing_hotfix"):
        why = (
            f"first introduced into {f['origin']} by {_short(f['introduced_by'])} at "
            f"{f['introduced_at']}"
        )
        if kind == "missing_hotfix":
            why += f"; no commit of its change reaches {', '.join(f['missing_from'])}"
    elif kind == "cherry_pick":
        why = f"{_short(f['copy'])} copies {_short(f['original'])} by {f['method']}"
        if f.get("score") not in (None, 1.0):
            why += f" (score {f['score']})"
    elif kind == "revert":
        why = f"{_short(f['revert'])} reverts {_short(f['reverted'])} by {f.get('method')}"
    elif kind == "untested_release":
        why = f"no commit introduced into {f['upstream']} before it had its tree"
    elif kind == "conflict_merge":
        why = f"git's own merge of its parents differs at {', '.join(f['paths'][:5])}"
    elif kind == "divergence":
        why = f"git rev-list --count: {f['ahead']} ahead, {f['behind']} behind"
    else:
        why = ""
    note = f.get("note")
    return why + (f"; note: {note}" if note else "")


def reasons(data: dict[str, Any]) -> Iterator[str]:
    """`drift: why ID: reason` per finding, after the environments and why each ref."""
    for env in data["environments"]:
        upstream = env.get("upstream")
        fed = f", fed by {upstream}" if upstream and "fed by" not in env["reason"] else ""
        yield f"drift: env {env['name']}: {env['ref']} ({env['reason']}{fed})"
    for f in data["findings"]:
        yield f"drift: why {f['id']}: {reason(f)}"
