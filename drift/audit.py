"""`drift audit`: from a repository path and settings to the report model."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drift.changes import Grouping, group_changes
from drift.config import Settings
from drift.delivery import scan_delivery
from drift.environments import Chain, resolve_chain
from drift.findings.base_lines import BaseLines
from drift.findings.conflicts import check_merges
from drift.findings.context import AuditContext
from drift.findings.engine import compute_findings, tip_identities
from drift.findings.model import Finding
from drift.git import GitRepository
from drift.git.repository import ChangesFeed
from drift.history import History, read_history
from drift.progress import NullProgress, ProgressSink
from drift.readiness.ahead import MetricsAhead
from drift.readiness.metrics import draft_metrics, finish_metrics
from drift.readiness.window import read_window
from drift.report import Report, referenced_commits
from drift.timefmt import iso


def open_repository(path: Path, settings: Settings) -> GitRepository:
    """Open the repository and refuse states no audit can be right about."""
    return GitRepository.open_for_audit(path, allow_shallow=settings.allow_shallow)


@dataclass(frozen=True)
class Analysis:
    """One audit's analysis: what every view of it (report, graph, explain) is built from.

    `history`, `grouping` and `context` are None when the chain has fewer than two
    environments: there is nothing to compare, and the report says so.
    """

    repo: GitRepository
    chain: Chain
    settings: Settings
    history: History | None
    grouping: Grouping | None
    context: AuditContext | None
    findings: list[Finding]
    report: Report


def analyse(
    path: Path,
    settings: Settings,
    *,
    now: int | None = None,
    progress: ProgressSink | None = None,
    timings: dict[str, float] | None = None,
    repo: GitRepository | None = None,
    meanwhile: Callable[[Report, GitRepository], None] | None = None,
) -> Analysis:
    """Walk, group and judge the repository at `path` once; `now` pins generated_at. `repo`:
    the repository already opened for this audit (as the report cache opens it for its key).
    `meanwhile` is given the report without its metrics, and the repository, while the metrics
    child may still be at work: the caller's own work on the rest (drift.cli reads the
    findings' Drift-Ignore trailers and renders the JSON of the findings and commits there)
    then overlaps the child's instead of following it."""
    sink = progress or NullProgress()
    clock = _Stopwatch(timings)
    repo = repo or open_repository(path, settings)
    chain = resolve_chain(repo, settings)
    generated_at = iso(now if now is not None else int(time.time()))
    if len(chain.envs) < 2:
        report = _report(repo, chain, settings, generated_at, None, [])
        return Analysis(repo, chain, settings, None, None, None, [], report)
    with ExitStack() as children:  # each stopped and reaped, however the audit ends
        sink.phase("Walking history")
        feed = ChangesFeed(repo)  # git reads the grouping's trees while the walk goes on
        children.callback(feed.wait)
        history = read_history(repo, chain.envs, sink.advance, settings.aliases, feed.add)
        feed.finish()
        clock.lap("walk")
        as_of = settings.as_of or max(repo.commit(env.commit).commit_time for env in chain.envs)
        metrics = MetricsAhead.start(  # the delivery metrics, begun on the second core
            repo,
            lambda: read_window(repo, history, as_of, settings=settings),
            lambda window, grouping: draft_metrics(window, repo, chain.envs, history, grouping),
            lambda draft, findings: finish_metrics(draft, history, findings),
        )
        children.callback(metrics.close)
        base_lines = BaseLines.start(history)  # release identity's reading, there too
        children.callback(base_lines.close)
        run = _Run(repo, chain, settings, history, as_of, generated_at, base_lines, metrics, feed)
        return _judge(run, sink, clock, meanwhile)


@dataclass(frozen=True)
class _Run:
    """What the walk made, and the work begun on the second core."""

    repo: GitRepository
    chain: Chain
    settings: Settings
    history: History
    as_of: int
    generated_at: str
    base_lines: BaseLines
    metrics: MetricsAhead
    feed: ChangesFeed


def _judge(
    run: _Run,
    sink: ProgressSink,
    clock: _Stopwatch,
    meanwhile: Callable[[Report, GitRepository], None] | None,
) -> Analysis:
    """Everything after the walk: changes, findings, the report, delivery and metrics."""
    repo, chain, settings, history = run.repo, run.chain, run.settings, run.history
    outside = sum(1 for c in history.order if history.outside_base(c))
    sink.phase("Grouping changes", outside)
    # git reads the trees the grouping needs (begun during the walk: `run.feed`) while the
    # merges, which need no grouping, are re-merged here: this process would otherwise wait
    # for git doing nothing.
    try:
        merges_checked = check_merges(history, settings)
    finally:
        run.feed.wait()
    grouping = group_changes(history, settings, sink.advance)
    run.metrics.send_grouping(grouping)
    clock.lap("changes")
    context = AuditContext(history, grouping, settings, run.as_of)
    context.cache["base-lines"] = run.base_lines
    findings = compute_findings(context, merges_checked)
    run.metrics.send_findings(findings)
    clock.lap("findings")
    report = _report(repo, chain, settings, run.generated_at, context, findings)
    report.sections["merge_names"] = context.cache["merge_names"]
    report.sections["not_analysed"] = [
        {"commit": commit_id, "reason": why} for commit_id, why in sorted(repo.unreadable.items())
    ]
    if repo.unreadable:
        report.notes.append(
            f"{len(repo.unreadable)} commits could not be read in full (missing objects) and were "
            "not analysed for patch ids or conflicts; they are listed in not_analysed"
        )
    clock.lap("report")
    report.sections["delivery"] = scan_delivery(repo, chain.envs)
    clock.lap("delivery")
    if meanwhile is not None:
        meanwhile(report, repo)
        clock.lap("render_ahead")  # what the CLI does while the child may work on
    report.sections["metrics"] = run.metrics.result(grouping, findings)
    clock.lap("metrics")  # with a child: the wait for its answer
    return Analysis(repo, chain, settings, history, grouping, context, findings, report)


def run_audit(
    path: Path,
    settings: Settings,
    *,
    now: int | None = None,
    progress: ProgressSink | None = None,
    timings: dict[str, float] | None = None,
) -> Report:
    """Audit the repository at `path`; `now` pins generated_at for reproducible output."""
    return analyse(path, settings, now=now, progress=progress, timings=timings).report


class _Stopwatch:
    def __init__(self, sink: dict[str, float] | None) -> None:
        self.sink, self.last = sink, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        if self.sink is not None:
            self.sink[name] = now - self.last
        self.last = now


def _report(
    repo: GitRepository,
    chain: Chain,
    settings: Settings,
    generated_at: str,
    context: AuditContext | None,
    findings: list[Finding],
) -> Report:
    notes = list(chain.notes)
    if repo.is_shallow:
        notes.append("shallow clone: history is cut, counts may be too low (report is partial)")
    if len(chain.envs) < 2:
        notes.append("only one environment found: nothing to compare")
    environments: list[dict[str, Any]] = [
        {
            "name": env.name,
            "ref": env.ref,
            "commit": env.commit,
            "commit_time": iso(repo.commit(env.commit).commit_time),
            "reason": env.reason,
            "upstream": env.upstream,
        }
        for env in chain.envs
    ]
    commit_ids = referenced_commits(findings) | dict.fromkeys(env.commit for env in chain.envs)
    stats: dict[str, Any] = {}
    changes: list[dict[str, Any]] = []
    as_of = None
    if context is not None:
        history, grouping, as_of = context.history, context.grouping, context.as_of
        notes.extend(context.notes)
        for dangling in grouping.dangling:
            notes.append(
                f"{dangling.commit[:12]} names {dangling.named} in a cherry-pick trailer, which is "
                f"{dangling.why}: that trailer was not used"
            )
        stats = {
            "commits_walked": len(history.order),
            "commits_outside_base": sum(1 for c in history.order if history.outside_base(c)),
            "merge_bases": history.bases,
            "changes": len(grouping.changes),
            "ignored_commits": len(grouping.ignored),
            "empty_commits": len(grouping.empty),
        }
        changes = [
            {
                "id": c.id,
                "commits": list(c.commits),
                "is_revert": c.is_revert,
                "approximate": c.approximate,
            }
            for c in grouping.changes
            if len(c.commits) > 1
        ]
        commit_ids |= dict.fromkeys(c for change in changes for c in change["commits"])
    described = {cid: _describe(repo, cid) for cid in commit_ids}
    if context is not None:
        # Last: the tips' identity may wait for the base-lines child, which the work above
        # overlaps (at 300k commits, describing the 29k commits the findings name).
        for env, tested in zip(environments, tip_identities(context), strict=True):
            if tested is not None:
                env["tested_as"] = tested
                commit = tested["commit"]
                if commit and commit not in described:
                    described[str(commit)] = _describe(repo, str(commit))
    return Report(
        generated_at=generated_at,
        repository=_repository(repo),
        settings=_settings(settings, chain, as_of),
        environments=environments,
        findings=findings,
        commits={cid: described[cid] for cid in sorted(described)},
        changes=changes,
        notes=notes,
        stats=stats,
    )


def _repository(repo: GitRepository) -> dict[str, Any]:
    return {
        "path": str(repo.path),
        "remote_url": repo.remote_url("origin"),
        "bare": repo.is_bare,
        "shallow": repo.is_shallow,
        "partial": repo.is_shallow,
        "partial_clone": repo.is_partial_clone,
    }


def _settings(settings: Settings, chain: Chain, as_of: int | None) -> dict[str, Any]:
    return {
        "environments": [env.name for env in chain.envs],
        "topology": "chain" if chain.topology.is_chain else "tree",
        "detected": chain.detected,
        "remote": settings.remote,
        "match": list(settings.match),
        "since": iso(settings.since) if settings.since is not None else None,
        "as_of": iso(as_of) if as_of is not None else None,
        "similar_threshold": settings.similar_threshold,
        "all_merges": settings.all_merges,
        "commit_url": settings.commit_url,
        "ignore": {
            "authors": list(settings.ignore.authors),
            "messages": list(settings.ignore.messages),
            "paths": list(settings.ignore.paths),
        },
        "config_file": settings.config_file,
    }


def _describe(repo: GitRepository, commit_id: str) -> dict[str, Any]:
    info = repo.commit(commit_id)
    return {
        "subject": info.subject,
        "author": info.author_name,
        "author_email": info.author_email,
        "author_time": iso(info.author_time),
        "commit_time": iso(info.commit_time),
        "parents": list(info.parents),
    }
