"""Reading a saved JSON report back, for `drift report` (no repository needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drift.errors import DriftError

# The report schema this drift reads; equal to drift.report.SCHEMA_VERSION (a test checks),
# kept here so re-rendering never imports the engine (nor pygit2).
SCHEMA_VERSION = 1


def load_report(path: Path) -> dict[str, Any]:
    """The report dict saved at `path`; a DriftError (exit 2) naming what is wrong otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DriftError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DriftError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}") from exc
    if not isinstance(data, dict) or "schema_version" not in data or "findings" not in data:
        raise DriftError(f"{path} is not a drift report (no schema_version and findings)")
    if data["schema_version"] != SCHEMA_VERSION:
        raise DriftError(
            f"{path} has report schema {data['schema_version']!r}; this drift reads "
            f"schema {SCHEMA_VERSION}"
        )
    if "readiness" not in data.get("summary", {}) or "plan" not in data:
        raise DriftError(f"{path} lacks summary.readiness or plan: written by an older drift?")
    return data
