"""`conflict_merge`: merges whose recorded tree is not what git would have merged.

A resolved conflict or an "evil" edit slipped into a merge is content that no commit on
either side carries: it was never reviewed as a change and is invisible to cherry-pick
accounting. Each merge on an environment's first-parent line outside the common base is
re-merged (by git in one process where it can, else libgit2 in memory: recursive merge bases,
rename detection; drift.git.merges) and compared.
"""

from __future__ import annotations

from drift.config import Settings
from drift.errors import DriftError
from drift.findings.context import AuditContext
from drift.findings.model import Finding
from drift.history import History
from drift.timefmt import iso


def _merges_to_check(history: History, settings: Settings) -> list[tuple[int, str]]:
    """(environment, merge): first-parent merges, oldest first per environment; with
    `all_merges`, then every other merge outside the common base, under the most upstream
    environment that has it."""
    out: list[tuple[int, str]] = []
    seen: set[str] = set()
    for env, chain in enumerate(history.first_parent):
        for merge_id in reversed(chain):
            if history.commits[merge_id].is_merge and merge_id not in seen:
                seen.add(merge_id)
                out.append((env, merge_id))
    if settings.all_merges:
        for merge_id in reversed(history.order):
            info = history.commits[merge_id]
            if info.is_merge and merge_id not in seen and history.outside_base(merge_id):
                seen.add(merge_id)
                out.append((history.envs_of(merge_id)[0], merge_id))
    return out


def conflict_merges(ctx: AuditContext) -> tuple[list[Finding], list[str]]:
    """Findings, and notes on merges that could not be checked (octopus merges)."""
    return check_merges(ctx.history, ctx.settings)


def check_merges(history: History, settings: Settings) -> tuple[list[Finding], list[str]]:
    """`conflict_merges` from the walk alone: it needs no grouping, so the audit runs it
    while git reads the trees the grouping needs (drift.audit)."""
    names = [env.name for env in history.envs]
    findings: list[Finding] = []
    notes: list[str] = []
    to_check = _merges_to_check(history, settings)
    with history.repo.merge_checker() as checker:
        history.repo.remerge_ahead([merge_id for _, merge_id in to_check], checker)
        for env, merge_id in to_check:
            info = history.commits[merge_id]
            if len(info.parents) > 2:
                notes.append(
                    f"octopus merge {merge_id[:12]} on {names[env]} "
                    f"({len(info.parents)} parents) was not checked for conflicts"
                )
                continue
            try:
                result = history.repo.remerge(merge_id, checker)
            except DriftError as exc:  # a missing object: the rest of the audit goes on
                hint = " (this is a partial clone)" if history.repo.is_partial_clone else ""
                history.repo.unreadable[merge_id] = f"not checked for conflicts: {exc}{hint}"
                continue
            if not result.differing:
                continue
            fields = {
                "merge": merge_id,
                "env": names[env],
                "paths": list(result.differing),
                "type": "resolved_conflict" if result.conflicted else "extra_edit",
                "conflicted_paths": list(result.conflicted),
                "time": iso(info.commit_time),
            }
            findings.append(Finding("conflict_merge", fields))
    return findings, notes
