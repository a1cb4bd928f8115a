"""The evidence tables of the HTML report: one section per finding kind, worst first.

Which columns each kind shows, how a row's presence across environments reads, and where
long tables are cut (the rest stays in report.json).
"""

from __future__ import annotations

from typing import Any

from drift.topology import Topology

# Worst first; kinds that describe normal flow come last.
KIND_ORDER = (
    "missing_hotfix",
    "untested_release",
    "conflict_merge",
    "pending",
    "cherry_pick",
    "back_merge",
    "cross_merge",
    "revert",
    "hotfix",
    "divergence",
    "promotion_merge",
)
KIND_TITLES = {
    "missing_hotfix": "Fixes missing upstream",
    "untested_release": "Releases never tested as such",
    "conflict_merge": "Merges with content neither side had",
    "pending": "Changes waiting between environments",
    "cherry_pick": "Changes copied by cherry-pick",
    "back_merge": "Back-merges (against the flow)",
    "cross_merge": "Merges between release lines",
    "revert": "Reverts",
    "hotfix": "Hotfixes (started downstream)",
    "divergence": "Divergence per environment pair",
    "promotion_merge": "Promotion merges (the normal flow)",
}
# Kinds whose presence is not a problem in itself: shown collapsed.
INFORMATIONAL = frozenset({"promotion_merge", "divergence"})
MAX_ROWS = 500
COMMIT, SUBJECT, NUMBER, TEXT = "commit", "subject", "number", "text"
COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    "missing_hotfix": [
        ("commit", COMMIT, "commit"),
        ("subject", SUBJECT, "commit"),
        ("origin", TEXT, "origin"),
        ("missing from", "list", "missing_from"),
        ("presence", "matrix", ""),
        ("age (days)", NUMBER, "age_days"),
    ],
    "untested_release": [
        ("commit", COMMIT, "commit"),
        ("subject", SUBJECT, "commit"),
        ("env", TEXT, "env"),
        ("tested on", TEXT, "upstream"),
        ("date", "date", "time"),
    ],
    "conflict_merge": [
        ("merge", COMMIT, "merge"),
        ("subject", SUBJECT, "merge"),
        ("env", TEXT, "env"),
        ("type", TEXT, "type"),
        ("paths", "list", "paths"),
    ],
    "pending": [
        ("commit", COMMIT, "commit"),
        ("subject", SUBJECT, "commit"),
        ("from", TEXT, "upstream"),
        ("to", TEXT, "downstream"),
        ("presence", "matrix", ""),
        ("age (days)", NUMBER, "age_days"),
    ],
    "cherry_pick": [
        ("original", COMMIT, "original"),
        ("copy", COMMIT, "copy"),
        ("subject", SUBJECT, "copy"),
        ("from", TEXT, "original_env"),
        ("to", TEXT, "copy_env"),
        ("matched by", "method", "method"),
    ],
    "back_merge": [
        ("merge", COMMIT, "merge"),
        ("subject", SUBJECT, "merge"),
        ("from", TEXT, "from_env"),
        ("into", TEXT, "into_env"),
        ("date", "date", "time"),
    ],
    "cross_merge": [
        ("merge", COMMIT, "merge"),
        ("subject", SUBJECT, "merge"),
        ("from", TEXT, "from_env"),
        ("into", TEXT, "into_env"),
        ("date", "date", "time"),
    ],
    "revert": [
        ("revert", COMMIT, "revert"),
        ("subject", SUBJECT, "revert"),
        ("reverted", COMMIT, "reverted"),
        ("env", TEXT, "env"),
        ("how", TEXT, "method"),
    ],
    "hotfix": [
        ("commit", COMMIT, "commit"),
        ("subject", SUBJECT, "commit"),
        ("origin", TEXT, "origin"),
        ("introduced", "date", "introduced_at"),
    ],
    "divergence": [
        ("upstream", TEXT, "upstream"),
        ("downstream", TEXT, "downstream"),
        ("ahead", NUMBER, "ahead"),
        ("behind", NUMBER, "behind"),
        ("pending", NUMBER, "pending_changes"),
        ("only downstream", NUMBER, "downstream_only_changes"),
        ("files differing", NUMBER, "differing_files"),
    ],
    "promotion_merge": [
        ("merge", COMMIT, "merge"),
        ("subject", SUBJECT, "merge"),
        ("from", TEXT, "from_env"),
        ("into", TEXT, "into_env"),
        ("date", "date", "time"),
    ],
}
# A kind added to the engine later still gets a table.
DEFAULT_COLUMNS = [
    ("commit", COMMIT, "commit"),
    ("subject", SUBJECT, "commit"),
    ("note", TEXT, "note"),
]


def columns_of(kind: str) -> list[tuple[str, str, str]]:
    """The columns of a kind's table."""
    return COLUMNS.get(kind, DEFAULT_COLUMNS)


GLYPH_WORDS = {"\u25cf": "has it", "\u2715": "lacks it", "\u00b7": "not measured"}


def presence(finding: dict[str, Any], tree: Topology) -> list[str]:
    """One glyph per environment: has the change, lacks it, or not measured by this finding.

    A missing hotfix is measured on its origin and the environments upstream of it."""
    names = tree.names
    if finding["kind"] == "missing_hotfix":
        missing = set(finding["missing_from"])
        origin = finding["origin"]
        measured = {origin, *tree.names_above(origin)} if origin in names else set()
        return [
            "\u2715" if name in missing else "\u25cf" if name in measured else "\u00b7"
            for name in names
        ]
    if finding["kind"] == "pending":
        marks = {finding["upstream"]: "\u25cf", finding["downstream"]: "\u2715"}
        return [marks.get(name, "\u00b7") for name in names]
    return ["\u00b7" for _ in names]


def sections(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One section per finding kind, worst first, with its rows (at most MAX_ROWS)."""
    by_kind: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KIND_ORDER}
    for finding in data["findings"]:
        by_kind.setdefault(finding["kind"], []).append(finding)
    out = []
    for kind, rows in by_kind.items():
        out.append(
            {
                "kind": kind,
                "title": KIND_TITLES.get(kind, kind),
                "count": len(rows),
                "rows": rows[:MAX_ROWS],
                "more": max(len(rows) - MAX_ROWS, 0),
                "failing": bool(rows) and kind not in INFORMATIONAL,
            }
        )
    failing = [s for s in out if s["failing"]]
    return failing + [s for s in out if not s["failing"]]


def dimensions_of(readiness: dict[str, Any]) -> dict[str, str]:
    """Finding id -> the space-separated dimensions whose score it lowers."""
    out: dict[str, list[str]] = {}
    for dim in readiness["dimensions"]:
        for finding_id in dim["findings"]:
            out.setdefault(finding_id, []).append(dim["name"])
    return {k: " ".join(v) for k, v in out.items()}
