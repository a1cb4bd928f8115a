"""`hotfix` and `missing_hotfix`: changes that started downstream, and where they never arrived."""

from __future__ import annotations

from typing import Any

from drift.changes import Change
from drift.findings.context import AuditContext
from drift.findings.model import Finding
from drift.timefmt import iso


def hotfixes(ctx: AuditContext) -> list[Finding]:
    """A hotfix per change whose origin is not the most upstream environment (a root of the
    tree); missing from the environments upstream of its origin that lack it."""
    findings: list[Finding] = []
    for change in ctx.grouping.changes:
        if change.is_revert:
            continue
        origin = _origin(ctx, change)
        if origin is None or ctx.topology.is_root(origin[1]):
            continue
        commit_id, env, when = origin[2], origin[1], origin[0]
        fields: dict[str, Any] = {
            "commit": commit_id,
            "origin": ctx.names[env],
            "introduced_at": iso(when),
            "introduced_by": ctx.history.intro[env][commit_id].via,
            "change": change.id,
            "approximate": change.approximate,
        }
        findings.append(Finding("hotfix", dict(fields)))
        upstream = sorted(ctx.topology.ancestors(env))
        missing = [ctx.names[i] for i in upstream if not ctx.present(change, i)]
        if missing:
            fields.update(missing_from=missing, age_days=ctx.age_days(when))
            findings.append(Finding("missing_hotfix", fields))
    return findings


def _origin(ctx: AuditContext, change: Change) -> tuple[int, int, str] | None:
    """(time, environment, commit) of the change's first introduction anywhere.

    None when a commit of the change lies in the common base: it reached every environment
    long ago, so it is no longer drift (docs/decisions.md).
    """
    history = ctx.history
    found: list[tuple[int, int, int, str]] = []
    for commit_id in change.commits:
        if commit_id in history.masks and not history.outside_base(commit_id):
            return None
        first = history.first_introduction(commit_id)
        if first is None:
            if history.envs_of(commit_id) == list(range(len(history.envs))):
                return None
            continue
        found.append((first[0], first[1], history.repo.commit(commit_id).commit_time, commit_id))
    if not found:
        return None
    when, env, _, commit_id = min(found)
    return when, env, commit_id
