"""Gates: conditions on a report that make `drift audit` exit 1.

A gate reads only findings that are not accepted (by a baseline or a `Drift-Ignore`
trailer). A gate that cannot be evaluated (a partial report from a shallow clone, fewer
than two environments, no readiness score, a baseline written for another chain) is
reported as `not_evaluated` and fails the run as a tripped gate does: it never passes
silently. Malformed gate values are usage errors (exit 2) raised before the audit runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from functools import partial
from typing import Any

from drift.errors import DriftError
from drift.findings.context import DAY
from drift.findings.model import KINDS
from drift.timefmt import seconds

_AGE = re.compile(r"(\d+)\s*([dw]?)")
TABLE_KEYS = ("fail_on", "max_pending_age", "max_missing_hotfixes", "min_score")


@dataclass(frozen=True)
class Gates:
    """The gates in force; None (or empty) means the gate is off."""

    fail_on: tuple[str, ...] = ()
    max_pending_age: int | None = None
    """Days."""
    max_missing_hotfixes: int | None = None
    min_score: int | None = None

    def __bool__(self) -> bool:
        return bool(self.fail_on) or any(
            getattr(self, f.name) is not None for f in fields(self) if f.name != "fail_on"
        )

    def over(self, base: Gates) -> Gates:
        """These gates (command line) on top of `base` (config): a given value wins."""
        given = {f.name: getattr(self, f.name) for f in fields(self)}
        return replace(base, **{k: v for k, v in given.items() if v not in (None, ())})


@dataclass(frozen=True)
class GateResult:
    """One gate's outcome: `passed`, `tripped` or `not_evaluated`, and why."""

    gate: str
    status: str
    reason: str
    findings: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        """Tripped, or could not be evaluated."""
        return self.status != "passed"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "gate": self.gate,
            "status": self.status,
            "reason": self.reason,
            "findings": list(self.findings),
        }


def parse_kinds(value: Any, origin: str) -> tuple[str, ...]:
    """`missing_hotfix,untested_release`, or a list of such (the config's list, or the
    values of a repeated `--fail-on`), validated; each kind once. An empty list is no gate."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(k, str) for k in items):
        raise DriftError(f"{origin}: expected finding kinds, e.g. missing_hotfix,pending")
    if not items:  # `fail_on = []`: the config asks for no such gate
        return ()
    kinds = tuple(dict.fromkeys(k.strip() for item in items for k in item.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise DriftError(
            f"{origin}: unknown finding kind {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(KINDS)}"
        )
    return kinds


def parse_age(value: Any, origin: str) -> int:
    """`30d`, `4w` or a whole number of days."""
    text = str(value).strip() if isinstance(value, int | str) else ""
    match = _AGE.fullmatch(text) if not isinstance(value, bool) else None
    if match is None:
        raise DriftError(f"{origin}: expected an age such as 30d or 4w, got {value!r}")
    return int(match.group(1)) * (7 if match.group(2) == "w" else 1)


def parse_count(value: Any, origin: str, *, most: int | None = None) -> int:
    """A whole number >= 0 (and <= `most`)."""
    try:
        number = int(value) if not isinstance(value, bool | float) else None
    except ValueError:
        number = None
    if number is None or number < 0 or (most is not None and number > most):
        bound = f" between 0 and {most}" if most is not None else " of 0 or more"
        raise DriftError(f"{origin}: expected a whole number{bound}, got {value!r}")
    return number


def gates_from_table(table: Any, origin: str) -> Gates:
    """The `[gates]` table of a config file; every error names the file and the key."""
    if not isinstance(table, dict):
        raise DriftError(f"{origin}: expected a table with {', '.join(TABLE_KEYS)}")
    unknown = sorted(set(table) - set(TABLE_KEYS))
    if unknown:
        raise DriftError(f"{origin}: unknown key {unknown[0]!r} (known: {', '.join(TABLE_KEYS)})")
    return gates_from_values(table, lambda key: f"{origin}.{key}")


def gates_from_values(values: dict[str, Any], where: Any) -> Gates:
    """Gates from raw values keyed like the table; `where(key)` names a key in errors."""
    gates = Gates()
    if values.get("fail_on") is not None:
        gates = replace(gates, fail_on=parse_kinds(values["fail_on"], where("fail_on")))
    if values.get("max_pending_age") is not None:
        age = parse_age(values["max_pending_age"], where("max_pending_age"))
        gates = replace(gates, max_pending_age=age)
    if values.get("max_missing_hotfixes") is not None:
        count = parse_count(values["max_missing_hotfixes"], where("max_missing_hotfixes"))
        gates = replace(gates, max_missing_hotfixes=count)
    if values.get("min_score") is not None:
        score = parse_count(values["min_score"], where("min_score"), most=100)
        gates = replace(gates, min_score=score)
    return gates


def unevaluable(data: dict[str, Any]) -> str | None:
    """Why no gate can be evaluated on this report, or None."""
    repository = data.get("repository", {})
    if repository.get("partial") or repository.get("shallow"):
        return "the report is partial (shallow clone): its counts may be too low"
    if len(data.get("environments", [])) < 2:
        return "fewer than two environments were found, so nothing was compared"
    return None


def evaluate(gates: Gates, data: dict[str, Any]) -> list[GateResult]:
    """Every gate in force, evaluated on the findings that are not accepted."""
    checks = _checks(gates)
    blocked = unevaluable(data)
    if blocked is not None:
        return [GateResult(name, "not_evaluated", blocked) for name, _ in checks]
    live = [f for f in data["findings"] if not f.get("accepted")]
    return [check(live, data) for _, check in checks]


Live = list[dict[str, Any]]
Check = Callable[[Live, dict[str, Any]], GateResult]


def _checks(gates: Gates) -> list[tuple[str, Check]]:
    """(gate name, check) for every gate in force, in a fixed order."""
    out: list[tuple[str, Check]] = [
        (f"fail-on {kind}", partial(_fail_on, kind)) for kind in gates.fail_on
    ]
    if gates.max_pending_age is not None:
        days = gates.max_pending_age
        out.append((f"max-pending-age {days}d", partial(_pending_age, days)))
    if gates.max_missing_hotfixes is not None:
        most = gates.max_missing_hotfixes
        out.append((f"max-missing-hotfixes {most}", partial(_missing_hotfixes, most)))
    if gates.min_score is not None:
        out.append((f"min-score {gates.min_score}", partial(_score, gates.min_score)))
    return out


def _ids(found: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(sorted(str(f["id"]) for f in found))


def _fail_on(kind: str, live: Live, _data: dict[str, Any]) -> GateResult:
    found = [f for f in live if f["kind"] == kind]
    gate = f"fail-on {kind}"
    if not found:
        return GateResult(gate, "passed", f"no {kind} findings that are not accepted")
    return GateResult(gate, "tripped", f"{len(found)} {kind} finding(s) not accepted", _ids(found))


def _pending_age(days: int, live: Live, data: dict[str, Any]) -> GateResult:
    """Trips on a change that waited longer than `days`, to the second: `age_days` is whole
    days, so a change 3.5 days old (age_days 3) once passed `--max-pending-age 3d`."""
    gate = f"max-pending-age {days}d"
    as_of = seconds(data.get("settings", {}).get("as_of"))

    def waited(finding: dict[str, Any]) -> float:
        since = seconds(finding.get("introduced_at"))
        if as_of is None or since is None:  # a report without the times: whole days
            return float(int(finding.get("age_days", 0)) * DAY)
        return float(as_of - since)

    old = [f for f in live if f["kind"] == "pending" and waited(f) > days * DAY]
    if not old:
        return GateResult(gate, "passed", f"no pending change has waited more than {days} days")
    oldest = round(max(waited(f) for f in old) / DAY, 1)
    reason = f"{len(old)} pending change(s) waited more than {days} days (oldest {oldest:g} days)"
    return GateResult(gate, "tripped", reason, _ids(old))


def _missing_hotfixes(most: int, live: Live, _data: dict[str, Any]) -> GateResult:
    gate = f"max-missing-hotfixes {most}"
    found = [f for f in live if f["kind"] == "missing_hotfix"]
    if len(found) <= most:
        return GateResult(gate, "passed", f"{len(found)} missing hotfix(es), at most {most}")
    return GateResult(
        gate, "tripped", f"{len(found)} missing hotfixes, more than {most}", _ids(found)
    )


def _score(least: int, _live: Live, data: dict[str, Any]) -> GateResult:
    gate = f"min-score {least}"
    score = data.get("summary", {}).get("readiness", {}).get("score")
    if not isinstance(score, int) or isinstance(score, bool):
        return GateResult(gate, "not_evaluated", "the report has no readiness score")
    if score >= least:
        return GateResult(gate, "passed", f"readiness score {score}, at least {least}")
    return GateResult(gate, "tripped", f"readiness score {score} is below {least}")
