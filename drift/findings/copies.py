"""`cherry_pick` and `revert`: commits that copy or undo other commits."""

from __future__ import annotations

from drift.changes import CopyLink
from drift.findings.context import AuditContext
from drift.findings.model import Finding


def _env_of(ctx: AuditContext, commit_id: str) -> tuple[str | None, str | None]:
    """The environment a commit was introduced into first, with a note when that is a guess."""
    history = ctx.history
    first = history.first_introduction(commit_id)
    if first is not None:
        return ctx.names[first[1]], None
    envs = history.envs_of(commit_id)
    if envs:
        return ctx.names[envs[0]], f"{commit_id[:12]} is in the common base of all environments"
    return None, f"{commit_id[:12]} is on no environment branch"


def _patch_differs(ctx: AuditContext, original: str, copy: str) -> bool | None:
    """Whether a trailer pair's patches differ; None when the original is not diffed
    (it lies in the common base, or is a merge, whose patch is not a single diff)."""
    history = ctx.history
    if history.in_common_base(original) or history.repo.commit(original).is_merge:
        return None
    repo = history.repo
    ours, theirs = repo.patch_id(original), repo.patch_id(copy)
    if original in repo.unreadable or copy in repo.unreadable:
        return None  # a missing object: not analysed
    return ours != theirs


def cherry_picks(ctx: AuditContext) -> list[Finding]:
    """One finding per (original, copy) pair found by trailer, patch id or similarity."""
    findings: list[Finding] = []
    for link in ctx.grouping.copies:
        original_env, note_o = _env_of(ctx, link.original)
        copy_env, note_c = _env_of(ctx, link.copy)
        differs: bool | None = False
        if link.method != "patch-id":
            differs = _patch_differs(ctx, link.original, link.copy)
        fields = {
            "original": link.original,
            "copy": link.copy,
            "original_env": original_env,
            "copy_env": copy_env,
            "method": link.method,
            "score": link.score,
            "patch_differs": differs,
            "change": ctx.grouping.change_of[link.copy].id,
        }
        unknown = None
        if differs is None:
            unknown = (
                "patch_differs unknown: the original is a merge or in the common base, "
                "which drift does not diff, or an object of the pair is missing"
            )
        via = None
        if link.via is not None:
            via = (
                f"the trailer names merge {link.via[:12]}; linked to each commit it brought in "
                f"(git rev-list --no-merges {link.via[:12]}^1..{link.via[:12]})"
            )
        notes = (note_o, note_c, unknown, via, _similar_note(link))
        findings.append(Finding("cherry_pick", fields, "; ".join(n for n in notes if n) or None))
    return findings


def _similar_note(link: CopyLink) -> str | None:
    """Says a `similar` pair is approximate, and why it was made."""
    if link.method != "similar":
        return None
    what = "similar, not equal: an approximate match"
    if link.originals > 1:
        what += f"; the copy is a squash of {link.originals} commits, each listed as an original"
    return f"{what}; {link.evidence}" if link.evidence else what


def revert_findings(ctx: AuditContext) -> list[Finding]:
    """One finding per reverting commit outside the common base."""
    findings: list[Finding] = []
    for link in ctx.grouping.reverts:
        env, _ = _env_of(ctx, link.revert)
        note = None
        if link.reverted is None:
            note = f"the message names {link.named}, which is not in this repository"
        fields = {
            "revert": link.revert,
            "reverted": link.reverted,
            "method": link.method,
            "env": env,
        }
        findings.append(Finding("revert", fields, note))
    return findings
