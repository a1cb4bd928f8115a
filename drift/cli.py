"""The `drift` command: argument parsing, exit codes, and where output goes.

Exit codes: 0 done, 1 a gate tripped (reserved for --fail-on), 2 usage or input error,
3 unexpected error, 130 interrupted. Expected errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import errno
import gc
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich import console as rich_console
from rich.console import Console
from rich.text import Text

from drift import __version__
from drift.ci.commands import (
    add_ci_arguments,
    add_ci_subcommands,
    file_name,
    run_baseline,
    run_diff,
)
from drift.ci.report_cache import CachedReport, report_key, timeless_texts
from drift.ci.run import CiRun
from drift.collector import collector_paused
from drift.config import (
    Settings,
    load_settings,
    parse_commit_url,
    parse_envs,
    parse_match,
    parse_threshold,
    parse_time,
)
from drift.errors import EXIT_CRASH, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, DriftError
from drift.git.repository import GitRepository
from drift.render.json_report import Ahead, render_json, replay_json, sections_ahead
from drift.render.load import load_report
from drift.render.output import write_output
from drift.timefmt import iso

if TYPE_CHECKING:
    from drift.audit import Analysis
    from drift.report import Report

EPILOG = """exit codes: 0 done, 1 a gate tripped or could not be evaluated, 2 usage or input
error, 3 unexpected error, 130 interrupted (Ctrl-C)"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise DriftError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = _Parser(
        prog="drift",
        description="Audit environment-branch drift in a git repository.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"drift {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    audit = sub.add_parser("audit", help="audit a repository", epilog=EPILOG)
    audit.add_argument("path", nargs="?", default=".", help="repository to audit (default: .)")
    _analysis_options(audit)
    audit.add_argument(
        "--json",
        metavar="FILE",
        type=file_name,
        help="write the JSON report to FILE ('-' for stdout)",
    )
    _view_options(audit)
    audit.add_argument(
        "--graph",
        metavar="FILE",
        type=file_name,
        help="write the change graph to FILE: .graphml (Gephi, yEd) or .json (node-link)",
    )
    report = sub.add_parser(
        "report",
        help="re-render a saved JSON report (no repository needed)",
        epilog=EPILOG,
    )
    report.add_argument("report", metavar="REPORT.json", help="a report written by --json")
    _view_options(report)
    report.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    report.add_argument("--debug", action="store_true", help="tracebacks on crashes")
    explain = sub.add_parser(
        "explain", help="the journey of one change through the environments", epilog=EPILOG
    )
    explain.add_argument("path", help="the repository")
    explain.add_argument(
        "commit", metavar="COMMIT", help="a full or short commit id, or words of its subject"
    )
    _analysis_options(explain)
    explain.add_argument(
        "--json",
        metavar="FILE",
        type=file_name,
        help="write the explanation as JSON to FILE ('-' for stdout)",
    )
    demo = sub.add_parser(
        "demo", help="build the demo repository in a temp dir and audit it", epilog=EPILOG
    )
    demo.add_argument(
        "--out", default="drift-demo", help="folder for the reports (default: drift-demo)"
    )
    demo.add_argument("--keep", metavar="DIR", help="build the demo repository in DIR and keep it")
    demo.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    demo.add_argument("--debug", action="store_true", help="phase timings; tracebacks on crashes")
    add_ci_arguments(audit)
    add_ci_subcommands(sub, _analysis_options, EPILOG)
    return parser


def _view_options(parser: argparse.ArgumentParser) -> None:
    """The report files a command can write besides JSON."""
    parser.add_argument(
        "--html",
        metavar="FILE",
        type=file_name,
        help="write the self-contained HTML report to FILE",
    )
    parser.add_argument(
        "--markdown",
        metavar="FILE",
        type=file_name,
        help="write the GitHub-flavoured Markdown report to FILE",
    )
    parser.add_argument(
        "--previous",
        metavar="REPORT.json",
        type=Path,
        help="an earlier JSON report of the same repository: show what changed since",
    )
    parser.add_argument(
        "--commit-url",
        metavar="TEMPLATE",
        type=lambda text: parse_commit_url(text, "--commit-url"),
        help="link commits with this URL, '{commit}' standing for the id "
        "(default: from the origin remote on GitHub, GitLab, Bitbucket, Azure DevOps)",
    )


def _analysis_options(parser: argparse.ArgumentParser) -> None:
    """The options of every command that analyses a repository."""
    parser.add_argument(
        "--envs",
        help="environment chain, most upstream first: dev,test,staging,prod "
        "(NAME=REF to read another ref)",
    )
    parser.add_argument(
        "--config", type=Path, help="config file (default: .drift.toml or pyproject.toml)"
    )
    parser.add_argument(
        "--remote", help="remote whose tracking branches to prefer (default: origin)"
    )
    parser.add_argument(
        "--match", help="change-matching methods: trailer,patch-id,similar (default: all)"
    )
    parser.add_argument(
        "--similar-threshold",
        help="lowest similarity score (0..1] for a near-miss cherry-pick (default: 0.7)",
    )
    parser.add_argument(
        "--all-merges",
        action="store_true",
        default=None,
        help="check every merge outside the common base for conflicts, not only merges on "
        "environment first-parent lines",
    )
    parser.add_argument("--since", help="leave commits older than this date out of change grouping")
    parser.add_argument(
        "--as-of", help="measure ages at this time (default: newest environment tip; 'now')"
    )
    parser.add_argument(
        "--allow-shallow",
        action="store_true",
        default=None,
        help="audit a shallow clone anyway (the report is marked partial)",
    )
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    parser.add_argument(
        "--timings", action="store_true", help="print how long each phase took (stderr)"
    )
    parser.add_argument("--debug", action="store_true", help="phase timings; tracebacks on crashes")


def _timings(args: argparse.Namespace) -> bool:
    """Whether phase times are printed: `--timings` alone, or with everything `--debug` says."""
    return bool(args.debug or getattr(args, "timings", False))


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(Path.cwd(), args.config)
    return settings.with_args(
        envs=parse_envs(args.envs) if args.envs is not None else None,
        remote=args.remote,
        match=parse_match(args.match) if args.match else None,
        since=parse_time(args.since, "--since") if args.since else None,
        as_of=parse_time(args.as_of, "--as-of") if args.as_of else None,
        allow_shallow=args.allow_shallow,
        all_merges=getattr(args, "all_merges", None),
        commit_url=getattr(args, "commit_url", None),
        similar_threshold=_threshold(args.similar_threshold),
    )


def _threshold(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise DriftError(f"--similar-threshold: {text!r} is not a number") from exc
    return parse_threshold(value, "--similar-threshold")


def _console(color: str) -> Console:
    # Off a terminal rich assumes 80 columns; reports in CI logs read better wider.
    width = None if sys.stdout.isatty() else 120
    if color == "never" or (color == "auto" and os.environ.get("NO_COLOR")):
        return Console(no_color=True, highlight=False, width=width)
    return Console(force_terminal=True if color == "always" else None, highlight=False, width=width)


def _analyse(
    args: argparse.Namespace,
    path: Path,
    quiet: bool,
    settings: Settings | None = None,
    repo: GitRepository | None = None,
    meanwhile: Callable[[Report, GitRepository], None] | None = None,
) -> Analysis:
    """The one analysis of a command, with a progress bar on a terminal unless `quiet`;
    `meanwhile` as drift.audit.analyse takes it."""
    from drift.audit import analyse  # the engine: only when no cached report answers
    from drift.progress import NullProgress, ProgressSink, RichProgress

    settings = settings or _settings(args)
    timings: dict[str, float] = {}
    with ExitStack() as stack:
        progress: ProgressSink = NullProgress()
        if sys.stderr.isatty() and not quiet:
            progress = stack.enter_context(RichProgress(sys.stderr))
        analysis = analyse(
            path, settings, progress=progress, timings=timings, repo=repo, meanwhile=meanwhile
        )
    if _timings(args):
        for phase, seconds in timings.items():
            print(f"drift: {phase}: {seconds:.3f} s", file=sys.stderr)
    return analysis


@dataclass
class _Audited:
    """An audit's report, from the report cache or from an analysis that just ran."""

    entry: CachedReport
    """The report (its clock set, or set when it is decoded), its commits' Drift-Ignore
    reasons, its JSON sections and terminal summary."""
    key: str | None = None
    """The report cache key of its inputs; None when the cache is off or cannot answer."""
    analysis: Analysis | None = None
    """The analysis when one ran (the change graph needs it); None: the cache answered."""
    ahead: Ahead | None = None
    """JSON sections the analysis rendered while its metrics were being computed."""


def _audited(args: argparse.Namespace, path: Path, ci: CiRun, quiet: bool) -> _Audited:
    """The audit's report: from the report cache when nothing the audit reads has changed."""
    settings = _settings(args)
    key, repo = None, None
    if ci.reports is not None and not args.graph:
        start = time.perf_counter()
        repo = GitRepository.open_for_audit(path, allow_shallow=settings.allow_shallow)
        key = report_key(repo, settings)
        cached = ci.reports.load(key) if key is not None else None
        if cached is not None:
            cached.clock = iso(int(time.time()))
            if _timings(args):
                seconds = time.perf_counter() - start
                print(f"drift: cached report: {seconds:.3f} s", file=sys.stderr)
            return _Audited(cached, key)
    from drift.ci.accept import trailer_reasons  # a hit has its trailers stored

    ahead: Ahead = {}
    trailers: dict[str, str] | None = None

    def meanwhile(report: Report, audited: GitRepository) -> None:
        """What needs no metrics, while the metrics child may still be at work (it is the
        last to finish a re-run at 100k commits, by 0.2-0.5 s): the Drift-Ignore trailers of
        the commits the findings name, and the JSON of the longest sections."""
        nonlocal trailers
        named = {"findings": report.finding_dicts, "changes": report.changes}
        trailers = trailer_reasons(named, lambda commit: audited.commit(commit).message)
        if args.json:
            ahead.update(sections_ahead({"findings": named["findings"], "commits": report.commits}))

    analysis = _analyse(args, path, quiet, settings, repo, meanwhile)
    data = analysis.report.to_dict()
    if trailers is None:  # fewer than two environments: no findings, nothing waited for
        trailers = trailer_reasons(data, lambda commit: analysis.repo.commit(commit).message)
    if analysis.repo.unreadable:  # fetching the missing objects changes the answer
        key = None
    return _Audited(CachedReport(data, trailers), key, analysis=analysis, ahead=ahead)


def _audit(args: argparse.Namespace, path: Path, console: Console) -> int:
    if args.graph:
        from drift.graph_io import check_graph_target  # networkx: only when asked for

        check_graph_target(args.graph)
    json_to_stdout = _stdout_target(args.json, args.html, args.markdown)
    ci = CiRun.from_args(args)
    previous = load_report(args.previous) if args.previous else None  # refused before the audit
    with ci.cache_scope():
        audited = _audited(args, path, ci, quiet=json_to_stdout)
    if previous is None and ci.past:  # the history's newest report of this same audit
        previous = ci.previous(audited.entry.report)
    rendering = time.perf_counter()
    screen = None if json_to_stdout or getattr(args, "quiet", False) else console
    data: dict[str, Any] | None = None
    written: list[str] = []
    if not _replayed(args, ci, audited, screen):
        data, written = _rendered(args, ci, audited, screen, previous)
    if screen is not None:
        if args.json:
            console.print(Text(f"JSON report written to {args.json}"))
        if args.graph:
            console.print(Text(f"Change graph written to {args.graph}"))
        for line in written:
            console.print(Text(line))
    if _timings(args):  # the views, the terminal summary and the cache entry
        print(f"drift: render: {time.perf_counter() - rendering:.3f} s", file=sys.stderr)
    return ci.finish(data, Console(stderr=True, no_color=True) if json_to_stdout else console)


def _replayed(
    args: argparse.Namespace, ci: CiRun, audited: _Audited, screen: Console | None
) -> bool:
    """Write what the plain run that stored a cache entry wrote (its JSON text, its terminal
    summary), with this run's time, when this run would write the same: a hit of a plain run
    asking for nothing else. The report itself is never decoded then."""
    entry = audited.entry
    if audited.analysis is not None or args.debug or args.html or args.markdown or args.graph:
        return False
    if not ci.plain(entry.trailers) or (args.json and not entry.plain):
        return False
    summary = None
    if screen is not None:
        screen_key = _screen_key(screen)
        summary = None if screen_key is None else entry.screens.get(screen_key)
        if summary is None:  # never kept for this console (or never replayed on it)
            return False
    if args.json:
        write_output(args.json, replay_json(entry.json, {"generated_at": entry.clock}))
    if screen is not None and summary is not None:
        _show(screen, summary)
    return True


def _rendered(
    args: argparse.Namespace,
    ci: CiRun,
    audited: _Audited,
    screen: Console | None,
    previous: dict[str, Any] | None,
) -> tuple[dict[str, Any], list[str]]:
    """The report with this run's CI work, written as JSON, views, graph and summary; the cache
    entry saved when it is new or what it keeps no longer matches what was written. Returns
    the report and what was written besides."""
    entry, key = audited.entry, audited.key
    cacheable = ci.reports is not None and key is not None
    plain = ci.plain(entry.trailers)
    kept = (timeless_texts(entry.json), entry.plain, dict(entry.screens))
    data = ci.apply(entry.report, trailers=entry.trailers)
    if args.debug:
        from drift.render.debug import reasons

        for line in reasons(data):
            print(line, file=sys.stderr)
    if args.json:
        memo = entry.json if cacheable else None
        write_output(args.json, render_json(data, memo, own=entry.report, ahead=audited.ahead))
        entry.plain = plain
    if args.graph and audited.analysis is not None:
        from drift.graph import build_graph
        from drift.graph_io import write_graph

        write_graph(build_graph(audited.analysis), args.graph)
    earlier = []  # the audit's own report is drift's: only the earlier one may fail a view
    if previous is not None:
        earlier = [str(args.previous) if args.previous else f"the newest report in {ci.history}"]
    with _read_by_views(earlier):
        written = _write_views(args, data, previous)
    if screen is not None:
        from drift.render.terminal import render_terminal  # rich's tables: not for a replay

        screen_key = _screen_key(screen)
        if screen_key is None:  # a console that does not print its rendering as text
            render_terminal(data, screen)
        else:
            with screen.capture() as captured:
                render_terminal(data, screen)
            _show(screen, captured.get())
            if plain:
                entry.screens = {screen_key: captured.get()}  # the newest console only
    now = (timeless_texts(entry.json), entry.plain, entry.screens)
    changed = audited.analysis is not None or now != kept
    if ci.reports is not None and key is not None and changed:  # `cacheable`, for mypy
        ci.reports.store(key, entry)
    return data, written


def _screen_key(console: Console) -> str | None:
    """What a summary rendered for `console` depends on besides the report: its size,
    encoding, colours and terminal, and rich's own code. None: never replayed (consoles that
    do not write rendered text to their file as it is)."""
    if console.legacy_windows or console.is_jupyter:
        return None
    options = console.options
    rich_code = os.stat(rich_console.__file__)
    return repr(
        (
            options.size,
            options.is_terminal,
            options.encoding,
            console.color_system,
            console.no_color,
            console.is_dumb_terminal,
            rich_code.st_size,
            rich_code.st_mtime_ns,
        )
    )


def _show(console: Console, text: str) -> None:
    """Write text a console rendered, as its own printing would have (drift.render.terminal
    is rendered into a string first, so a cache entry can keep it)."""
    console.file.write(text)
    console.file.flush()


def _stdout_target(*targets: str | None) -> bool:
    """Whether one report goes to stdout (then nothing else may); two are a usage error."""
    count = sum(1 for target in targets if target == "-")
    if count > 1:
        raise DriftError("only one report can be written to stdout ('-')")
    return count == 1


def _write_views(
    args: argparse.Namespace, data: dict[str, Any], previous: dict[str, Any] | None = None
) -> list[str]:
    """Write the HTML and Markdown reports that were asked for; say what was written.

    `previous` is the earlier report for deltas; None reads `--previous` when it was given.
    """
    if previous is None and getattr(args, "previous", None):
        previous = load_report(args.previous)
    written: list[str] = []
    if not (args.html or args.markdown):
        return written
    from drift.render.html import render_html  # jinja2: only when a view is asked for
    from drift.render.markdown import render_markdown

    # The command line wins; else the template the audit recorded (from its config).
    url = args.commit_url or data.get("settings", {}).get("commit_url")
    # Both rendered before either is written: a saved report that fails a view (the
    # callers' `_read_by_views`) leaves no view half written.
    html = render_html(data, url, previous) if args.html else None
    markdown = render_markdown(data, url, previous=previous) if args.markdown else None
    if html is not None:
        write_output(args.html, html)
        written.append(f"HTML report written to {args.html}")
    if markdown is not None:
        write_output(args.markdown, markdown)
        written.append(f"Markdown report written to {args.markdown}")
    return written


@contextmanager
def _read_by_views(paths: list[str]) -> Iterator[None]:
    """Saved reports a view reads (`drift report`, `--previous`): `load_report` checks what
    every view reads at the top, but a hand-edited value deeper down (an age that is a word,
    a null section) fails inside a view. That is the file's fault, said in one line (exit
    2), not an internal error; with no file given, nothing is caught."""
    if not paths:
        yield
        return
    try:
        yield
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        names = " or ".join(paths)
        raise DriftError(
            f"{names} is not a report as drift writes it (edited by hand, or by another "
            f"version?): a view failed on it with {type(exc).__name__}: {exc}"
        ) from exc


def _report(args: argparse.Namespace, console: Console) -> int:
    from drift.render.terminal import render_terminal

    data = load_report(Path(args.report))
    to_stdout = _stdout_target(args.html, args.markdown)
    previous = load_report(args.previous) if args.previous else None
    with _read_by_views([str(args.report), *([str(args.previous)] if args.previous else [])]):
        written = _write_views(args, data, previous)
        if not to_stdout and not written:
            with console.capture() as shown:  # nothing half-printed when the report fails
                render_terminal(data, console)
            _show(console, shown.get())
    if not to_stdout:
        for line in written:
            console.print(Text(line))
    return EXIT_OK


def _explain(args: argparse.Namespace, console: Console) -> int:
    from drift.explain import explain  # networkx and the graph: only for this command
    from drift.graph import build_graph
    from drift.render.explain_view import render_explanation
    from drift.resolve import outside_graph, resolve

    json_to_stdout = args.json == "-"
    analysis = _analyse(args, Path(args.path), quiet=json_to_stdout)
    if analysis.history is None:
        names = ", ".join(env.name for env in analysis.chain.envs)
        raise DriftError(f"only one environment ({names}): there is no journey to explain")
    graph = build_graph(analysis)
    commit_id = resolve(graph, args.commit, outside_graph(analysis))
    explanation = explain(graph, commit_id, args.commit)
    if args.json:
        write_output(args.json, render_json(explanation))
    if not json_to_stdout:
        render_explanation(explanation, console)
        if args.json:
            console.print(Text(f"JSON explanation written to {args.json}"))
    return EXIT_OK


def _demo(args: argparse.Namespace, console: Console) -> int:
    import tempfile

    from drift_fixtures.demo import build_demo

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        root = (
            Path(args.keep)
            if args.keep
            else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        )
        console.print(f"Building the demo repository (acme-shop) in {root} ...")
        scenario = build_demo(root)
        # Parse a real `audit` command line, so every audit option gets its default.
        argv = ["audit", str(scenario.path), "--json", str(out / "report.json")]
        argv += ["--html", str(out / "report.html"), "--markdown", str(out / "report.md")]
        argv += ["--color", args.color] + (["--debug"] if args.debug else [])
        return _audit(build_parser().parse_args(argv), scenario.path, console)


def _command(argv: Sequence[str] | None) -> int:
    """The command line's command, run."""
    args = build_parser().parse_args(argv)
    console = _console(args.color)
    if args.command == "baseline":
        return run_baseline(args, console, lambda a, p: _analyse(a, p, False).report.to_dict())
    if args.command == "diff":
        return run_diff(args, console)
    if args.command == "demo":
        return _demo(args, console)
    if args.command == "explain":
        return _explain(args, console)
    if args.command == "report":
        return _report(args, console)
    return _audit(args, Path(args.path), console)


def main(argv: Sequence[str] | None = None) -> int:
    """Run drift; return the exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        with collector_paused():  # a command builds large structures and no cycles
            return _command(argv)
    except DriftError as exc:
        print(f"drift: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("drift: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        if exc.errno not in _NO_ROOM:
            return _crashed(exc, debug)
        # The terminal summary or a message into a full disk or quota (`> file` in CI).
        print(f"drift: error: cannot write output: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        return _crashed(exc, debug)


#: Errors of a write with no room left, whatever is written: the user's to fix, not a crash.
_NO_ROOM = frozenset((errno.ENOSPC, errno.EDQUOT, errno.EFBIG))


def _crashed(exc: BaseException, debug: bool) -> int:
    """A crash: one line, the traceback only when asked."""
    if debug:
        import traceback

        traceback.print_exception(exc)
    print(
        f"drift: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
        file=sys.stderr,
    )
    return EXIT_CRASH


def entry() -> None:
    """Console-script entry point. The process ends with the command, so nothing it built is
    given back object by object: the collector stays off (turning it back on set off one
    last collection, 0.05 s at 300k commits), and the interpreter's teardown, which freed
    every object one by one (0.06 s after a re-run at 100k commits, 0.10-0.15 s after a
    cold audit at 300k), is skipped once the output is flushed. Every file, child process
    and temporary folder of a command is closed by the command itself, not at exit."""
    gc.disable()
    code = main()
    os._exit(flushed(code))


def flushed(code: int) -> int:
    """Flush what the command printed; the exit code, or EXIT_USAGE when the last of it
    could not be written (a summary small enough to wait in the buffer, into a full disk)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            pass  # the reader left (`drift audit | head`), as main treats it
        except OSError as exc:  # as main treats a write that fails
            code = EXIT_USAGE
            if stream is sys.stdout:
                with suppress(OSError):  # nowhere left to say it: the exit code does
                    print(f"drift: error: cannot write output: {exc.strerror}", file=sys.stderr)
    return code


__all__ = ["EXIT_USAGE", "build_parser", "entry", "load_report", "main"]
