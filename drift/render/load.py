"""Reading a saved JSON report back, for `drift report` (no repository needed)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from drift.errors import DriftError

# The report schema this drift reads; equal to drift.report.SCHEMA_VERSION (a test checks),
# kept here so re-rendering never imports the engine (nor pygit2).
SCHEMA_VERSION = 1


def load_report(path: Path) -> dict[str, Any]:
    """The report dict saved at `path`; a DriftError (exit 2) naming what is wrong otherwise."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DriftError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:  # bytes: json detects UTF-16 and UTF-32 (a report saved by PowerShell's `>`)
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DriftError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}") from exc
    except UnicodeDecodeError as exc:
        raise DriftError(f"{path} is not JSON: not UTF-8, UTF-16 or UTF-32 text") from exc
    if not isinstance(data, dict) or "schema_version" not in data or "findings" not in data:
        raise DriftError(f"{path} is not a drift report (no schema_version and findings)")
    if data["schema_version"] != SCHEMA_VERSION:
        raise DriftError(
            f"{path} has report schema {data['schema_version']!r}; this drift reads "
            f"schema {SCHEMA_VERSION}"
        )
    problem = shape_problem(data)
    if problem is not None:
        raise DriftError(f"{path} is not a whole drift report: {problem}")
    if not isinstance(data["summary"].get("readiness"), dict) or "plan" not in data:
        raise DriftError(f"{path} lacks summary.readiness or plan: written by an older drift?")
    return data


#: Top-level keys every view reads (report-json.md), and the type each must have.
_TOP: dict[str, type] = {
    "tool": dict,
    "generated_at": str,
    "repository": dict,
    "settings": dict,
    "environments": list,
    "summary": dict,
    "findings": list,
    "commits": dict,
    "notes": list,
    "stats": dict,
}


def shape_problem(data: dict[str, Any], keys: Iterable[str] = tuple(_TOP)) -> str | None:
    """What is missing from a report of the top-level `keys` a reader reads (by default those
    every view reads), or None. A report drift wrote always has them; one edited by hand or
    cut by a tool may not, and is then refused in one line rather than failing halfway
    through a view. Unknown kinds and extra keys are kept: a newer drift may add them."""
    keys = tuple(keys)
    for key in keys:
        if not isinstance(data.get(key), _TOP[key]):
            return f"no {key} ({_TOP[key].__name__})"
    for n, env in enumerate(data["environments"] if "environments" in keys else [], 1):
        if not isinstance(env, dict) or not isinstance(env.get("name"), str):
            return f"environment {n} has no name"
    for n, finding in enumerate(data["findings"] if "findings" in keys else [], 1):
        if not isinstance(finding, dict):
            return f"finding {n} is not an object"
        for key in ("id", "kind"):
            if not isinstance(finding.get(key), str):
                return f"finding {n} has no {key}"
    return None
