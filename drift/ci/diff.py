"""`drift diff old.json new.json`: what appeared, what was resolved, how every number moved.

Findings are matched by their stable id. Numbers are every number under `summary`
(counts per kind and pair, accepted counts, the readiness score and its dimensions), named
by a dotted path such as `by_pair.dev->test.pending` or `readiness.dimensions.promotion.score`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drift.ci.baseline import describe
from drift.errors import DriftError
from drift.render.load import shape_problem

FORMAT = "drift-diff"


def load_report(path: Path) -> dict[str, Any]:
    """A saved JSON report; anything else is a usage error naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DriftError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DriftError(f"{path}: cannot be read as JSON: {exc}") from exc
    if not is_report(data):
        raise DriftError(f"{path}: not a drift JSON report (drift audit --json writes one)")
    problem = shape_problem(data, ["findings"])  # what a diff reads besides numbers
    if problem is not None:
        raise DriftError(f"{path}: not a whole drift report: {problem}")
    return data  # type: ignore[no-any-return]


def is_report(data: Any) -> bool:
    """Whether `data` looks like a drift report (tool name, schema version, findings)."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("tool"), dict)
        and data["tool"].get("name") == "drift"
        and isinstance(data.get("schema_version"), int)
        and isinstance(data.get("findings"), list)
        and isinstance(data.get("summary"), dict)
    )


def numbers(value: Any, prefix: str = "") -> dict[str, float]:
    """Every number under `value`, by dotted path; list items are named, not numbered."""
    out: dict[str, float] = {}
    if isinstance(value, bool):
        return out
    if isinstance(value, int | float):
        out[prefix] = value
    elif isinstance(value, dict):
        for key, item in value.items():
            out.update(numbers(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.update(numbers(item, f"{prefix}.{_item_name(item, i)}"))
    return out


def _item_name(item: Any, index: int) -> str:
    if isinstance(item, dict):
        if "from" in item and "to" in item:
            return f"{item['from']}->{item['to']}"
        for key in ("name", "id", "key"):
            if isinstance(item.get(key), str):
                return str(item[key])
    return str(index)


def diff_reports(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The comparison as a dict: the JSON output and the context of every view."""
    if old["schema_version"] != new["schema_version"]:
        raise DriftError(
            f"the reports have different schema versions ({old['schema_version']} and "
            f"{new['schema_version']}); compare reports written by the same drift release"
        )
    old_ids = {f["id"]: f for f in old["findings"]}
    new_ids = {f["id"]: f for f in new["findings"]}
    before, after = numbers(old["summary"]), numbers(new["summary"])
    moved = [
        {
            "name": name,
            "old": before.get(name),
            "new": after.get(name),
            "delta": round(after.get(name, 0) - before.get(name, 0), 6),
        }
        for name in sorted(before.keys() | after.keys())
    ]
    return {
        "format": FORMAT,
        "old": _run(old),
        "new": _run(new),
        "notes": _notes(old, new),
        "appeared": [_entry(new_ids[i], new) for i in sorted(new_ids.keys() - old_ids.keys())],
        "resolved": [_entry(old_ids[i], old) for i in sorted(old_ids.keys() - new_ids.keys())],
        "unchanged": len(old_ids.keys() & new_ids.keys()),
        "numbers": moved,
    }


def _run(data: dict[str, Any]) -> dict[str, Any]:
    readiness = data["summary"].get("readiness", {})
    return {
        "generated_at": data.get("generated_at"),
        "environments": [env["name"] for env in data.get("environments", [])],
        "score": readiness.get("score"),
        "findings": len(data["findings"]),
    }


def _entry(finding: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": finding["id"],
        "kind": finding["kind"],
        "description": describe(finding, data),
        "accepted": finding.get("accepted"),
    }


def _notes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    notes = []
    if _run(old)["environments"] != _run(new)["environments"]:
        notes.append("the two reports audit different environment chains")
    paths = [d.get("repository", {}).get("remote_url") for d in (old, new)]
    if paths[0] != paths[1]:
        notes.append("the two reports name different remote URLs")
    if str(old.get("generated_at")) > str(new.get("generated_at")):
        notes.append("the old report is newer than the new one")
    return notes
