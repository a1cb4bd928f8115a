"""The delivery scan's listing of a tip after new commits: with the folders an earlier run kept,
without them, and `git ls-tree -r -t` of the same tip, alternating, in the same run.

    python benchmarks/folders.py benchmarks/.repos/r10000-s1-f60000 --back 100 1000 3000

`benchmarks/run.py`'s re-run adds its 1,000 commits to one new folder, which flatters a cache
of folders: this plays an earlier run at BRANCH~N (first parent) instead, so the commits
between are the repository's own, spread over its tree as they were made. For each N, the
persistent cache (in a temporary folder: nothing is written to the repository) is filled by
listing BRANCH~N, then BRANCH is listed `--runs` times each way. Printed: medians, the folders
of the tree, and how many each way listed from the object store. Both ways must list the same
files, or the script fails. Targets live here, never in a timed unit test.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from drift.ci.cache import CommitCache
from drift.delivery import scan
from drift.delivery.files import TipFiles
from drift.git import GitRepository


def _tip(repo: Path, rev: str) -> str:
    found = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        raise SystemExit(f"folders.py: {rev} is not a commit of {repo}")
    return found.stdout.strip()


def _listed(repo: Path, cache_folder: Path | None, commit: str) -> tuple[dict[str, str], int]:
    """A tip's wanted files and how many folders were listed from the object store."""
    cache = CommitCache.open(cache_folder) if cache_folder is not None else None
    definition = scan.definition() if cache is not None else None
    tips = TipFiles(
        GitRepository.open(repo, cache), scan.may_be_delivery, scan.delivery_name, definition
    )
    files = tips.files(commit)
    if cache is not None:
        cache.close()
    return files, tips.listed


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def measure(repo: Path, branch: str, back: int, runs: int, work: Path) -> str:
    """One table row for an earlier run `back` commits down `branch`'s first-parent line."""
    old, new = _tip(repo, f"{branch}~{back}"), _tip(repo, branch)
    kept = work / f"kept-{back}"
    _listed(repo, kept, old)
    plain, everything = _listed(repo, None, new)
    times: dict[str, list[float]] = {"kept": [], "plain": [], "git": []}
    listed = 0
    git = ["git", "-C", str(repo), "ls-tree", "-r", "-t", new]
    for n in range(runs):
        copy = work / f"copy-{back}-{n}"
        shutil.copytree(kept, copy)

        def with_kept(copy: Path = copy) -> None:
            nonlocal listed
            files, listed = _listed(repo, copy, new)
            if files != plain:
                raise SystemExit(f"the kept folders gave other files at {branch} ({back} back)")

        steps: dict[str, Callable[[], object]] = {
            "kept": with_kept,
            "plain": lambda: _listed(repo, None, new),
            "git": lambda: subprocess.run(git, stdout=subprocess.DEVNULL, check=True),
        }
        for name in list(steps)[n % 3 :] + list(steps)[: n % 3]:
            times[name].append(_timed(steps[name]))
    median = {name: statistics.median(values) for name, values in times.items()}
    return (
        f"| {back:,} | {everything:,} | {listed:,} | {median['kept']:.3f} s | "
        f"{median['plain']:.3f} s | {median['git']:.3f} s |"
    )


def main(argv: list[str] | None = None) -> int:
    """Print the table for each `--back`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path, help="a repository (not written to)")
    parser.add_argument("--branch", default="dev")
    parser.add_argument("--back", type=int, nargs="+", default=[100, 1000, 3000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print(
        f"Listing {args.branch} in {args.repo} after an earlier run at {args.branch}~N "
        f"(median of {args.runs}):"
    )
    print(
        "| N | folders in the tree | listed with the kept folders | with | without "
        "| git ls-tree -r -t |"
    )
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="drift-folders-") as work:
        for back in args.back:
            print(measure(args.repo, args.branch, back, args.runs, Path(work)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
