"""`--history DIR`: earlier JSON reports in a folder, and the new one written beside them.

Reports are named `drift-<generated_at>.json` so they sort by time. The folder is read
before the new report is written; files that are not drift reports are skipped with a note
(an artifact folder may hold anything), never trusted. `trend()` turns the runs into the
points a trend line needs: time, score and counts per kind.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from drift.ci.diff import is_report
from drift.errors import DriftError
from drift.render.json_report import render_json
from drift.render.output import write_output


def report_name(data: dict[str, Any]) -> str:
    """`drift-20261126T161500Z.json` from the report's generated_at."""
    stamp = re.sub(r"[^0-9TZ]", "", str(data.get("generated_at") or "unknown"))
    return f"drift-{stamp or 'unknown'}.json"


def read_history(folder: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The drift reports in `folder`, oldest first, and a note per file skipped."""
    if folder.exists() and not folder.is_dir():
        raise DriftError(f"--history {folder}: not a folder")
    runs: list[dict[str, Any]] = []
    notes: list[str] = []
    # drift-T.json, drift-T-2.json, ..., drift-T-10.json: by time, then in the order written
    paths = sorted(folder.glob("*.json"), key=lambda p: (len(p.name), p.name))
    for path in paths if folder.is_dir() else []:
        data: Any = None
        try:  # a regular file only: reading a FIFO named *.json waits for a writer forever
            if path.is_file():
                data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            pass
        if is_report(data) and _as_drift_writes(data):
            runs.append(data)
        else:
            notes.append(f"{path.name} in the history folder is not a drift report: skipped")
    runs.sort(key=lambda d: str(d.get("generated_at")))
    return runs, notes


def _as_drift_writes(data: dict[str, Any]) -> bool:
    """What the trend copies has the types drift writes: a run time, a score (or none),
    counts per kind. A report edited by hand once put `12` and `"abc"` into the trend."""
    summary = data["summary"]
    readiness = summary.get("readiness", {})
    by_kind = summary.get("by_kind", {})
    return (
        isinstance(data.get("generated_at"), str)
        and isinstance(readiness, dict)
        and (readiness.get("score") is None or type(readiness.get("score")) is int)
        and isinstance(by_kind, dict)
        and all(type(n) is int for n in by_kind.values())
    )


def same_audit(run: dict[str, Any], data: dict[str, Any]) -> bool:
    """Whether an earlier report audited what `data` audits: the same environment chain,
    and the same remote where both name one (a CI job's checkout moves from path to path,
    so the path is not asked)."""
    chain = [env.get("name") for env in run.get("environments", []) if isinstance(env, dict)]
    if chain != [env["name"] for env in data["environments"]]:
        return False
    theirs = (run.get("repository") or {}).get("remote_url")
    ours = (data.get("repository") or {}).get("remote_url")
    return not (theirs and ours and theirs != ours)


def trend(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One point per run: when, the score, and finding counts per kind (all and accepted)."""
    points = []
    for data in runs:
        summary = data["summary"]
        points.append(
            {
                "generated_at": data.get("generated_at"),
                "score": summary.get("readiness", {}).get("score"),
                "by_kind": summary.get("by_kind", {}),
                "accepted": summary.get("accepted", {}).get("total", 0),
                "findings": len(data["findings"]),
            }
        )
    return points


def write_to_history(folder: Path, data: dict[str, Any]) -> Path:
    """Write the report into the history folder (created if absent); returns its path."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DriftError(f"--history {folder}: cannot create the folder: {exc.strerror}") from exc
    target = folder / report_name(data)
    for n in range(2, 1000):  # two runs in one second keep both reports
        if not target.exists():
            break
        target = folder / report_name(data).replace(".json", f"-{n}.json")
    write_output(str(target), render_json(data))
    return target
