"""The CI options of `drift audit` and the `baseline` and `diff` subcommands.

drift/cli.py adds them (`add_ci_arguments`, `add_ci_subcommands`) and runs an audit through
`drift.ci.run.CiRun`: set up before the analysis (usage errors exit 2 before any waiting),
applied to the report after it, and its exit code at the end.

Each `run_*` takes the parsed arguments and returns an exit code; usage errors raise
`DriftError` (exit 2) as everywhere else. What only they use is imported when they run: every
`drift audit` builds the parser, and imports are most of a report-cache hit's time.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from drift.errors import EXIT_OK, DriftError


def file_name(text: str) -> str:
    """An option's file or folder, never empty: `--json "$UNSET"` once wrote nothing and said
    nothing, and `--baseline "$UNSET"` dropped a CI job's accepted drift as silently."""
    if not text.strip():
        raise argparse.ArgumentTypeError("needs a file or folder name, not an empty string")
    return text


#: Runs the audit a subcommand needs (cli's `_analyse(...).report.to_dict()`): args, path -> dict.
AuditFn = Callable[[argparse.Namespace, Path], dict[str, Any]]


def add_ci_arguments(parser: argparse.ArgumentParser) -> None:
    """Gates, baseline, history, cache and log-verbosity options of `drift audit`."""
    gates = parser.add_argument_group("gates (exit 1 when one trips or cannot be evaluated)")
    gates.add_argument(
        "--fail-on",
        metavar="KIND[,KIND]",
        action="append",
        help="fail on any finding of these kinds (may be given more than once)",
    )
    gates.add_argument(
        "--max-pending-age", metavar="AGE", help="fail when a change waits longer (30d, 4w)"
    )
    gates.add_argument(
        "--max-missing-hotfixes", metavar="N", help="fail on more than N missing hotfixes"
    )
    gates.add_argument("--min-score", metavar="N", help="fail below this readiness score")
    ci = parser.add_argument_group("CI runs")
    ci.add_argument(
        "--baseline",
        metavar="FILE",
        type=file_name,
        help="accept the findings FILE lists (drift baseline write); gates see new ones only",
    )
    ci.add_argument(
        "--history",
        metavar="DIR",
        type=file_name,
        help="read earlier JSON reports from DIR, add this one",
    )
    ci.add_argument(
        "--cache",
        metavar="DIR",
        type=file_name,
        help="per-commit cache folder (default: user cache dir)",
    )
    ci.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    verbosity = ci.add_mutually_exclusive_group()
    verbosity.add_argument(
        "-q", "--quiet", action="store_true", help="print only failed gates and errors"
    )
    verbosity.add_argument(
        "-v", "--verbose", action="store_true", help="also print cache use per run"
    )


def add_ci_subcommands(
    sub: Any, add_analysis_options: Callable[[argparse.ArgumentParser], None], epilog: str
) -> None:
    """`drift baseline write FILE [PATH]` and `drift diff OLD NEW`."""
    baseline = sub.add_parser("baseline", help="record today's findings as accepted drift")
    actions = baseline.add_subparsers(dest="baseline_command", required=True)
    write = actions.add_parser("write", help="write a baseline file", epilog=epilog)
    write.add_argument(
        "file", metavar="FILE", type=file_name, help="baseline file to write ('-' for stdout)"
    )
    write.add_argument("path", nargs="?", default=".", help="repository to audit (default: .)")
    write.add_argument(
        "--from",
        dest="from_report",
        metavar="REPORT",
        type=file_name,
        help="take findings from a JSON report",
    )
    add_analysis_options(write)
    diff = sub.add_parser("diff", help="compare two JSON reports", epilog=epilog)
    diff.add_argument("old", type=Path, help="the earlier JSON report")
    diff.add_argument("new", type=Path, help="the later JSON report")
    diff.add_argument(
        "--json", metavar="FILE", type=file_name, help="write the comparison as JSON ('-' stdout)"
    )
    diff.add_argument(
        "--markdown", metavar="FILE", type=file_name, help="write it as Markdown ('-' stdout)"
    )
    diff.add_argument("--all", action="store_true", help="list numbers that did not move too")
    diff.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    diff.add_argument("--debug", action="store_true", help="tracebacks on crashes")


def run_baseline(args: argparse.Namespace, console: Console, audit: AuditFn) -> int:
    """`drift baseline write`: from a saved report (`--from`) or a fresh audit."""
    from drift.ci.baseline import render_baseline
    from drift.ci.diff import load_report
    from drift.render.output import write_output

    source = args.from_report
    data = load_report(Path(source)) if source else audit(args, Path(args.path))
    replacing = Path(args.file) if args.file != "-" else None
    write_output(args.file, render_baseline(data, replacing))
    if args.file != "-":
        console.print(Text(f"Baseline of {len(data['findings'])} findings written to {args.file}"))
    return EXIT_OK


def run_diff(args: argparse.Namespace, console: Console) -> int:
    """`drift diff OLD NEW`: terminal view, plus JSON and Markdown files when asked."""
    from drift.ci.diff import diff_reports, load_report
    from drift.ci.views import render_diff_markdown, render_diff_terminal
    from drift.render.json_report import render_json
    from drift.render.output import write_output

    if args.json == args.markdown == "-":
        raise DriftError("only one of --json and --markdown can be written to stdout ('-')")
    result = diff_reports(load_report(args.old), load_report(args.new))
    if args.json:
        write_output(args.json, render_json(result))
    if args.markdown:
        write_output(args.markdown, render_diff_markdown(result, args.all))
    if "-" not in (args.json, args.markdown):
        render_diff_terminal(result, console, args.all)
    return EXIT_OK
