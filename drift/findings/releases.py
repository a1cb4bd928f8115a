"""`untested_release`: was what runs downstream ever tested, as such, one step upstream?

A release is tested when its exact tree was the tree of a commit introduced into the
environment just upstream before the release reached the downstream one. Every commit of the
downstream first-parent line is a release, back to the root; tree ids are compared, never
diffs, so the cost is one commit read per first-parent commit. Outside the common base every
upstream introduction is known exactly; inside it, the upstream first-parent line and the
tips its merges brought in are consulted (introduced at the merge's time), and only when a
release found no match outside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from drift.findings.base_lines import BaseLines
from drift.findings.context import AuditContext
from drift.findings.model import Finding
from drift.history import History
from drift.timefmt import iso


@dataclass(frozen=True, slots=True)
class Tested:
    """The upstream commit whose tree a downstream commit carries, and when it arrived there."""

    commit: str
    time: int


class TreeIndex:
    """Trees of the commits introduced into one environment, with their first arrival."""

    def __init__(self, history: History, env: int, lines: BaseLines) -> None:
        self.history, self.env, self.lines = history, env, lines
        self.first: dict[str, Tested] = {}
        for commit_id, intro in history.intro[env].items():
            self._add(history.commits[commit_id].tree, Tested(commit_id, intro.time))
        # A merge outside the base that brings in a tip from inside it (a back-merge of a
        # fix every environment has by now): that tip was introduced here at the merge.
        for via in history.first_parent[env]:
            when = history.commits[via].commit_time
            for other in history.other_parents(via, env):
                if not history.outside_base(other):
                    self._add(history.repo.tree_of(other), Tested(other, when))

    def _add(self, tree: str, tested: Tested) -> None:
        known = self.first.get(tree)
        if known is None or (tested.time, tested.commit) < (known.time, known.commit):
            self.first[tree] = tested

    def lookup(self, tree: str, before: int) -> Tested | None:
        """The earliest commit with this tree introduced at or before `before`: outside the
        base, or (only when that finds none in time) on the line inside it."""
        found = self.first.get(tree)
        if found is None or found.time > before:
            inside = self.lines.inside(self.env, tree)
            if inside is not None and (found is None or inside < (found.time, found.commit)):
                found = Tested(inside[1], inside[0])
        return found if found is not None and found.time <= before else None


def tree_index(ctx: AuditContext, env: int) -> TreeIndex:
    """One index per environment and audit, shared by every question asked of it."""
    key = f"tree-index-{env}"
    index = ctx.cache.get(key)
    if not isinstance(index, TreeIndex):
        index = ctx.cache[key] = TreeIndex(ctx.history, env, base_lines(ctx))
    return index


def base_lines(ctx: AuditContext) -> BaseLines:
    """The audit's reader of base lines (started after the walk), or one that reads here."""
    lines = ctx.cache.get("base-lines")
    if not isinstance(lines, BaseLines):
        lines = ctx.cache["base-lines"] = BaseLines(ctx.history)
    return lines


def untested_releases(ctx: AuditContext) -> list[Finding]:
    """One finding per commit on a most downstream environment's first-parent line (the last
    of a chain; every release line of a tree) never tested as such on its upstream."""
    findings: list[Finding] = []
    for down in ctx.topology.leaves():
        up = ctx.topology.parent[down]
        if up is not None:
            findings += _untested_on(ctx, up, down)
    return findings


def _untested_on(ctx: AuditContext, up: int, down: int) -> list[Finding]:
    index = tree_index(ctx, up)
    findings: list[Finding] = []
    for line in ctx.history.first_parent_line(down, described=True):  # each may be reported
        release, when = line.id, line.time
        if index.lookup(line.tree, when) is not None:
            continue
        fields = {
            "commit": release,
            "env": ctx.names[down],
            "upstream": ctx.names[up],
            "time": iso(when),
        }
        findings.append(Finding("untested_release", fields))
    return findings


def tip_identities(ctx: AuditContext) -> list[dict[str, object] | None]:
    """For every environment with an upstream: the upstream commit whose tree its tip has,
    introduced upstream before the tip was made, or None fields: never tested as such."""
    history = ctx.history
    out: list[dict[str, object] | None] = []
    for env, up in enumerate(ctx.topology.parent):
        if up is None:
            out.append(None)
            continue
        tip = history.repo.commit(history.envs[env].commit)
        tested = tree_index(ctx, up).lookup(tip.tree, tip.commit_time)
        out.append(
            {
                "upstream": ctx.names[up],
                "commit": tested.commit if tested else None,
                "time": iso(tested.time) if tested else None,
            }
        )
    return out
