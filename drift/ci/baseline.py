"""Baseline files: the findings a team has seen and accepted, by stable finding id.

A baseline is JSON written by `drift baseline write`. Each entry keeps the finding's id,
kind and identifying fields, a one-line description (so a reviewer can read the file
without the repository) and a `reason` people may edit. Later runs with `--baseline FILE`
accept the findings it lists and report the entries no longer found as resolved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drift.errors import DriftError
from drift.findings.model import IDENTITY, KINDS
from drift.render.json_report import render_json

FORMAT = "drift-baseline"
VERSION = 1
DEFAULT_REASON = "known drift recorded in the baseline"
_ENV_FIELDS = (
    "upstream",
    "downstream",
    "original_env",
    "copy_env",
    "from_env",
    "into_env",
    "origin",
    "env",
)


@dataclass(frozen=True)
class Baseline:
    """A loaded baseline: entries by finding id, and the chain it was written for."""

    path: str
    environments: tuple[str, ...]
    written_at: str
    entries: dict[str, dict[str, Any]]


def describe(finding: dict[str, Any], data: dict[str, Any]) -> str:
    """One line a person can recognise a finding by: kind, environments, commit and subject."""
    commits = data.get("commits", {})
    envs = [finding[k] for k in _ENV_FIELDS if isinstance(finding.get(k), str)]
    ids = [finding.get(k) for k in IDENTITY.get(finding["kind"], ())]
    commit = next((c for c in ids if isinstance(c, str) and c in commits), None)
    parts = [finding["kind"], " -> ".join(envs)]
    if commit is not None:
        parts.append(f"{commit[:10]} {commits[commit].get('subject', '')}".strip())
    return " ".join(p for p in parts if p)


def baseline_dict(data: dict[str, Any], reasons: dict[str, str] | None = None) -> dict[str, Any]:
    """The baseline of a report: every finding, by id, with what explains it.

    `reasons` (by finding id, from the baseline being replaced) keep what people wrote.
    """
    entries = []
    for finding in sorted(data["findings"], key=lambda f: str(f["id"])):
        identity = {key: finding.get(key) for key in IDENTITY.get(finding["kind"], ())}
        reason = (reasons or {}).get(finding["id"]) or (finding.get("accepted") or {}).get(
            "reason", DEFAULT_REASON
        )
        entries.append(
            {
                "id": finding["id"],
                "kind": finding["kind"],
                "identity": identity,
                "description": describe(finding, data),
                "reason": reason,
            }
        )
    return {
        "format": FORMAT,
        "version": VERSION,
        "written_at": data.get("generated_at"),
        "repository": data.get("repository", {}).get("remote_url"),
        "environments": [env["name"] for env in data.get("environments", [])],
        "findings": entries,
    }


def render_baseline(data: dict[str, Any], replacing: Path | None = None) -> str:
    """Baseline JSON text (entries sorted by id), keeping the reasons of `replacing`.

    A file in the way that is not a drift baseline is refused rather than overwritten.
    """
    reasons: dict[str, str] = {}
    if replacing is not None and replacing.exists():
        old = load_baseline(replacing, "refusing to replace")
        reasons = {i: str(e["reason"]) for i, e in old.entries.items() if e.get("reason")}
    return render_json(baseline_dict(data, reasons))


def load_baseline(path: Path, origin: str = "--baseline") -> Baseline:
    """Read a baseline file; anything else is a usage error that names the file."""
    where = f"{origin} {path}"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DriftError(f"{where}: no such file (see drift baseline write)") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DriftError(f"{where}: cannot be read as JSON: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise DriftError(f'{where}: not a drift baseline (no "format": "{FORMAT}")')
    if raw.get("version") != VERSION:
        raise DriftError(f"{where}: baseline version {raw.get('version')!r}, expected 1")
    entries = raw.get("findings")
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("id"), str) for e in entries
    ):
        raise DriftError(f'{where}: "findings" must be a list of entries with an id')
    problem = _entry_problem(entries)
    if problem is not None:
        raise DriftError(f"{where}: {problem}")
    envs = raw.get("environments") or []
    if not isinstance(envs, list) or not all(isinstance(e, str) for e in envs):
        raise DriftError(f'{where}: "environments" must be a list of environment names')
    written_at = raw.get("written_at")
    if written_at is not None and not isinstance(written_at, str):
        raise DriftError(f'{where}: "written_at" must be a time as drift writes it, or absent')
    return Baseline(
        path=str(path),
        environments=tuple(envs),
        written_at=written_at or "",
        entries={e["id"]: e for e in entries},
    )


def _entry_problem(entries: list[dict[str, Any]]) -> str | None:
    """What is wrong with entries edited by hand, or None: the fields drift writes must keep
    their types (a reason a string, the kind one of the finding kinds and the one its id
    names), and an id may be listed once (two reasons for it: which one holds?)."""
    seen: set[str] = set()
    for n, entry in enumerate(entries, 1):
        finding_id = entry["id"]
        if finding_id in seen:
            return f"finding {finding_id} is listed twice"
        seen.add(finding_id)
        reason, kind = entry.get("reason"), entry.get("kind")
        if reason is not None and not isinstance(reason, str):
            return f"entry {n} ({finding_id}): its reason must be text"
        if kind is not None and (kind not in KINDS or not finding_id.startswith(f"{kind}-")):
            return f"entry {n} ({finding_id}): kind {kind!r} is not the kind its id names"
        identity = entry.get("identity")
        if identity is not None and not isinstance(identity, dict):
            return f"entry {n} ({finding_id}): its identity must be an object"
    return None


def compare(baseline: Baseline, data: dict[str, Any]) -> dict[str, Any]:
    """What is new since the baseline and what it lists that is gone (resolved)."""
    current = {f["id"] for f in data["findings"]}
    new = sorted(f["id"] for f in data["findings"] if not f.get("accepted"))
    resolved = [baseline.entries[i] for i in sorted(set(baseline.entries) - current)]
    chain = [env["name"] for env in data.get("environments", [])]
    return {
        "file": baseline.path,
        "written_at": baseline.written_at,
        "environments": list(baseline.environments),
        "same_environments": list(baseline.environments) == chain,
        "new": new,
        "resolved": resolved,
    }
