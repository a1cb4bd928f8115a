"""One `drift audit` run's CI work: set up before the audit, applied to its report after.

`CiRun.from_args()` parses gates, loads the baseline, reads the history folder and opens
the cache before the audit runs, so usage errors (exit 2) come before any waiting.
`apply()` marks accepted findings, evaluates the gates and adds a `ci` section for what was
asked; `finish()` prints accepted drift and the gate lines, writes the report into the
history folder and returns the exit code (0 passed, 1 a gate tripped or could not be
evaluated).

Accepting, baselines, history and their views are imported when a run uses them: a plain run
answered from the report cache (`plain`) uses none, and imports are most of its time.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rich.console import Console
from rich.text import Text

from drift.ci.cache import CommitCache, default_cache_dir
from drift.ci.gates import GateResult, Gates, evaluate, gates_from_table, gates_from_values
from drift.ci.report_cache import ReportCache
from drift.config import find_config
from drift.errors import EXIT_GATE, EXIT_OK
from drift.git.store import using_store

if TYPE_CHECKING:
    from drift.ci.baseline import Baseline


class CommitReader(Protocol):
    """What `apply` needs of the repository: commit messages (drift.git.GitRepository)."""

    def commit(self, commit_id: str) -> Any: ...


@dataclass
class CiRun:
    """Gates, baseline, history and cache of one audit."""

    gates: Gates = field(default_factory=Gates)
    baseline: Baseline | None = None
    history: Path | None = None
    cache: CommitCache | None = None
    reports: ReportCache | None = None
    verbose: bool = False
    quiet: bool = False
    past: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    results: list[GateResult] = field(default_factory=list)

    @classmethod
    def from_args(cls, args: argparse.Namespace, cwd: Path | None = None) -> CiRun:
        """Everything the CI options ask for, checked before the audit runs."""
        found = find_config(cwd or Path.cwd(), getattr(args, "config", None))
        config = Gates()
        if found is not None and "gates" in found[1]:
            config = gates_from_table(found[1]["gates"], f"{found[0]}: gates")
        given = {key: getattr(args, key, None) for key in _GATE_ARGS}
        gates = gates_from_values(given, lambda key: "--" + key.replace("_", "-")).over(config)
        run = cls(
            gates=gates,
            verbose=bool(getattr(args, "verbose", False)),
            quiet=bool(getattr(args, "quiet", False)),
        )
        if getattr(args, "baseline", None):
            from drift.ci.baseline import load_baseline

            run.baseline = load_baseline(Path(args.baseline))
        if getattr(args, "history", None):
            from drift.ci.history import read_history

            run.history = Path(args.history)
            run.past, run.notes = read_history(run.history)
        if not getattr(args, "no_cache", False):
            folder = Path(args.cache) if getattr(args, "cache", None) else default_cache_dir()
            run.cache = CommitCache.open(folder)
            run.reports = ReportCache(folder)
        return run

    def previous(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """The newest earlier report in the history folder of the same audit as `data` (for
        the views' deltas), if any."""
        from drift.ci.history import same_audit

        kept = [run for run in self.past if same_audit(run, data)]
        return kept[-1] if kept else None

    @contextmanager
    def cache_scope(self) -> Iterator[None]:
        """Repositories opened inside use the cache; it is saved on the way out."""
        try:
            with using_store(self.cache):
                yield
        finally:
            if self.cache is not None:
                self.cache.close()

    def plain(self, trailers: dict[str, str]) -> bool:
        """Whether this run does no CI work of its own on a report whose commits carry these
        `Drift-Ignore` trailers: no gates, baseline or history, nothing to accept. Its output is
        then a function of the report alone (drift.ci.report_cache replays it)."""
        return (
            not self.gates
            and self.baseline is None
            and self.history is None
            and not self.notes
            and not trailers
        )

    def apply(
        self,
        data: dict[str, Any],
        repo: CommitReader | None = None,
        trailers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The report with accepted findings marked and counted, gates evaluated.

        A `ci` section is added only for what was asked (gates, baseline, history), so a
        plain audit's JSON stays as it was; the cache never shows in the JSON (hits differ
        from run to run, the report must not). `trailers` are the commits' `Drift-Ignore`
        reasons when already known (drift.ci.accept.trailer_reasons); else read from `repo`.
        """
        from drift.ci.accept import accept, trailer_reasons
        from drift.ci.baseline import compare
        from drift.ci.history import trend

        if trailers is None:
            trailers = trailer_reasons(data, lambda c: repo.commit(c).message) if repo else {}
        entries = self.baseline.entries if self.baseline else None
        source = self.baseline.path if self.baseline else "baseline"
        out = accept(data, trailers=trailers, baseline=entries, baseline_source=source)
        self.results = evaluate(self.gates, out)
        ci: dict[str, Any] = {}
        if self.baseline is not None:
            ci["baseline"] = compare(self.baseline, out)
            if self.gates and not ci["baseline"]["same_environments"]:
                self.results.append(_chain_changed(self.baseline, out))
        if self.results:
            ci["gates"] = [r.to_dict() for r in self.results]
        if self.history is not None:
            from drift.ci.history import same_audit

            kept = []
            for run in self.past:
                if same_audit(run, out):
                    kept.append(run)
                else:
                    self.notes.append(
                        f"the history folder's report of {run.get('generated_at')} audited "
                        "another repository or environment chain: left out of the trend"
                    )
            ci["history"] = {"folder": str(self.history), "runs": trend([*kept, out])}
        if self.notes:
            ci["notes"] = list(self.notes)
        if ci:
            out["ci"] = ci
        return out

    def finish(self, data: dict[str, Any] | None, console: Console) -> int:
        """Print gate outcomes and what the baseline says; save to history; the exit code.

        `data` is None for a replayed plain run (`plain`): nothing accepted, no baseline, no
        history, no gate, so nothing here reads the report."""
        if data is None and not self.plain({}):
            raise ValueError("only a plain run is finished without its report")
        cache_notes = (self.cache.notes if self.cache else []) + (
            self.reports.notes if self.reports else []
        )
        for note in self.notes + cache_notes:
            console.print(Text("note: ", style="yellow") + Text(note))
        if data is not None and not self.quiet:
            from drift.ci.views import render_accepted

            render_accepted(data, console, None if self.verbose else 10)
        shown = [r for r in self.results if r.failed or not self.quiet]
        if shown:
            from drift.ci.views import render_gates

            render_gates(shown, console)
        if self.verbose and self.cache is not None:
            hits, misses = self.cache.hits, self.cache.misses
            console.print(Text(f"cache {self.cache.path}: {hits} hits, {misses} misses"))
        if self.verbose and self.reports is not None and self.reports.reused is not None:
            how = "report reused" if data is not None else "outputs of the same plain run replayed"
            reused = self.reports.reused
            console.print(Text(f"cache {reused}: {how} (nothing the audit reads changed)"))
        baseline = data.get("ci", {}).get("baseline") if data is not None else None
        if baseline is not None and not self.quiet:
            console.print(
                Text(
                    f"baseline {baseline['file']}: {len(baseline['new'])} new finding(s), "
                    f"{len(baseline['resolved'])} resolved since it was written"
                )
            )
        if self.history is not None and data is not None:
            from drift.ci.history import write_to_history

            target = write_to_history(self.history, data)
            if not self.quiet:
                console.print(Text(f"Report added to the history: {target}"))
        failed = [r for r in self.results if r.failed]
        if failed:
            console.print(Text(f"drift: {len(failed)} gate(s) failed", style="bold red"))
            return EXIT_GATE
        return EXIT_OK


_GATE_ARGS = ("fail_on", "max_pending_age", "max_missing_hotfixes", "min_score")


def _chain_changed(baseline: Baseline, data: dict[str, Any]) -> GateResult:
    chain = ",".join(env["name"] for env in data["environments"])
    return GateResult(
        "baseline",
        "not_evaluated",
        f"the baseline was written for {','.join(baseline.environments)}, this run audits "
        f"{chain}: which findings are new cannot be told",
    )
