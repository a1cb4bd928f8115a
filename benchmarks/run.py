"""Benchmark `drift audit --json` against plain git's marks-only pipeline, in the same run.

    python benchmarks/run.py --commits 10000 100000 --runs 3

For each size a repository is generated once (fixtures/drift_fixtures/large.py, cached under
benchmarks/.repos/, never committed), then drift and the git pipeline run alternately
`--runs` times. The git pipeline is the git-only way to get a fraction of drift's answer:
for each adjacent pair and for (first, last), `git rev-list --left-right --count A...B`,
`git cherry B A` and `git log --cherry-mark --left-right --no-merges A...B`. Printed: medians,
the ratio drift/git cold (`--no-cache`) and warm (a filled `--cache`), peak memory of the
largest process, and drift's phase times (`--timings`: a line per phase, where `--debug` would
add a line per finding and the time to write them). Then, on a bare copy with 1,000 new
commits on dev (`--new-commits`), git and drift again, drift with a copy of the cache the
warm runs used: what a weekly job costs after a week's work, with its phase times; and once
more on a copy where that week ends with a release through every environment (each merged
into the next one down), which moves the common base up to dev's tip.
`--commit-graph` runs all of it on a bare copy where `git commit-graph write --reachable`
has run (what `git gc` and `git maintenance` leave; a fresh clone has no graph): git and drift
both read it; the copy with new commits then has a graph that does not hold them.
`--drifting` generates the repositories with a release freeze as their last stretch
(fixtures/drift_fixtures/large.py): both sides of every pair hold commits of their own, so
`git cherry` has patch ids to compute on both, and drift copies to pair across them.
`--pending N` makes the pending last stretch N commits at every size instead of 4% of them:
the same divergence in front of 10k, 100k or 300k commits of history, which separates what
grows with the divergence from what grows with the history.
Targets live here, never in a timed unit test.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import itertools
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENVS = ("dev", "test", "staging", "prod")


@dataclass
class Sample:
    """One timed run: wall seconds, peak RSS (MiB) of its largest process, CPU seconds (user
    and system, of the process and every child it waited for), phase times."""

    seconds: float
    peak_mib: float
    cpu: float
    phases: dict[str, float] = field(default_factory=dict)


def run(
    argv: list[str], cwd: Path, stderr: int | None = subprocess.DEVNULL
) -> tuple[float, float, str]:
    """Run one process to completion; returns its peak RSS in MiB, its CPU seconds (with the
    children it reaped: drift's forked workers, git) and its stderr."""
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr, text=True)
    err = proc.stderr.read() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err[-500:]}")
    return usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, err


def git_pipeline(repo: Path) -> Sample:
    """The marks-only pipeline for every adjacent pair and for (first, last)."""
    pairs = [*itertools.pairwise(ENVS), (ENVS[0], ENVS[-1])]
    start, peak, cpu = time.perf_counter(), 0.0, 0.0
    for a, b in pairs:
        for argv in (
            ["git", "rev-list", "--left-right", "--count", f"{a}...{b}"],
            ["git", "cherry", b, a],
            ["git", "log", "--cherry-mark", "--left-right", "--no-merges", f"{a}...{b}"],
        ):
            mib, seconds, _ = run(argv, repo)
            peak, cpu = max(peak, mib), cpu + seconds
    return Sample(time.perf_counter() - start, peak, cpu)


def drift(repo: Path, out: Path, cache: list[str]) -> Sample:
    """`drift audit REPO --json OUT --timings` (+ cache options), with its phase times."""
    start = time.perf_counter()
    argv = [sys.executable, "-m", "drift", "audit", str(repo), "--json", str(out), "--timings"]
    argv += cache
    peak, cpu, err = run(argv, repo, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - start
    phases = {m[1]: float(m[2]) for m in re.finditer(r"drift: (\w+): ([\d.]+) s", err)}
    return Sample(seconds, peak, cpu, phases)


FILES = 3000
"""Files in the generated trees unless `--files` says otherwise."""


def repository(
    commits: int,
    seed: int,
    work: Path = HERE / ".repos",
    drifting: bool = False,
    files: int = FILES,
    pending: int | None = None,
) -> Path:
    """The generated repository for this size (built once, then reused), by a process of its
    own: the generator holds every file of the tree (415 MiB for 60k files), and the peak
    memory the kernel reports for a process starts at its parent's when it was started, so
    generating here raised every figure measured after it to that."""
    wide = f"-f{files}" if files != FILES else ""
    tail = f"-p{pending}" if pending is not None else ""
    path = work / f"r{commits}-s{seed}{wide}{tail}{'-drifting' if drifting else ''}"
    if not (path / ".git").exists():
        start = time.perf_counter()
        path.parent.mkdir(parents=True, exist_ok=True)
        script = (
            "import sys; from pathlib import Path; from drift_fixtures.large import generate; "
            "a = sys.argv[1:]; print(generate(Path(a[0]), int(a[1]), seed=int(a[2]), "
            "drifting=a[3] == '1', files=int(a[4]), pending=int(a[5]) if a[5] else None))"
        )
        argv = [str(path), str(commits), str(seed), "1" if drifting else "0", str(files)]
        argv.append("" if pending is None else str(pending))
        tally = subprocess.run(
            [sys.executable, "-c", script, *argv], capture_output=True, text=True, check=True
        ).stdout.strip()
        print(f"generated {commits} commits in {time.perf_counter() - start:.1f} s: {tally}")
    return path


def with_new_commits(repo: Path, count: int = 1000) -> Path:
    """A bare copy of `repo` (objects hard-linked) with `count` new commits on dev, each adding
    a file, made once with `git fast-import`: the state a weekly job meets after a week's work."""
    plus = repo.with_name(f"{repo.name.removesuffix('.git')}-plus{count}.git")
    if plus.exists():
        return plus
    subprocess.run(["git", "clone", "-q", "--bare", "--local", str(repo), str(plus)], check=True)
    tip = subprocess.run(
        ["git", "log", "-1", "--format=%H %ct", "dev"], cwd=plus, capture_output=True, text=True
    ).stdout.split()
    when = int(tip[1])
    stream = []
    for n in range(count):
        message, content = f"Week's work {n}\n", f"{n}\n"
        stream.append(
            f"commit refs/heads/dev\ncommitter Bench <bench@example.com> {when + 60 * (n + 1)} "
            f"+0000\ndata {len(message)}\n{message}"
            + (f"from {tip[0]}\n" if n == 0 else "")
            + f"M 100644 inline week/{n}.txt\ndata {len(content)}\n{content}\n"
        )
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=plus, input="".join(stream).encode(), check=True
    )
    return plus


def with_release(plus: Path) -> Path:
    """A bare copy of `plus` (objects hard-linked) where each environment is merged into the
    next one down, keeping the upstream's tree, as a release through every environment does:
    the common base moves up to dev's tip, and with it where every line enters it. Made once."""
    released = plus.with_name(f"{plus.name.removesuffix('.git')}-released.git")
    if released.exists():
        return released
    subprocess.run(
        ["git", "clone", "-q", "--bare", "--local", str(plus), str(released)], check=True
    )
    from drift_fixtures.builder import release

    release(released, ENVS)
    return released


def with_commit_graph(repo: Path) -> Path:
    """A bare copy of `repo` (objects hard-linked) with a commit-graph file, made once."""
    graphed = repo.with_name(f"{repo.name}-graph.git")
    if not graphed.exists():
        subprocess.run(
            ["git", "clone", "-q", "--bare", "--local", str(repo), str(graphed)], check=True
        )
        subprocess.run(["git", "commit-graph", "write", "--reachable"], cwd=graphed, check=True)
    return graphed


def divergence(repo: Path) -> int:
    """Commits outside the common base of all environments."""
    base = subprocess.run(
        ["git", "merge-base", "--octopus", *ENVS], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    out = subprocess.run(
        ["git", "rev-list", "--count", *ENVS, f"^{base}"], cwd=repo, capture_output=True, text=True
    )
    return int(out.stdout.strip())


def byte_compiled() -> None:
    """Write drift's bytecode before anything is timed. pip byte-compiles a package it
    installs from a wheel, so an installed drift never compiles its own source; an editable
    checkout run with PYTHONDONTWRITEBYTECODE=1 (this machine's setting, and many CI
    images') never writes it, and every run would then time Python's compiler on drift's
    modules (0.06 s of a 0.24 s warm run at 100k). Python still checks each file's mtime, so
    a source edited later is compiled again, in memory, as before."""
    spec = importlib.util.find_spec("drift")
    if spec is not None and spec.origin is not None:
        compileall.compile_dir(str(Path(spec.origin).parent), quiet=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commits", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--new-commits",
        type=int,
        default=1000,
        help="also time a re-run after this many new commits on dev (0: skip)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=HERE / ".repos",
        help="where generated repositories, caches and reports are kept",
    )
    parser.add_argument(
        "--commit-graph",
        action="store_true",
        help="measure on a copy with a commit-graph file (as git gc leaves), git and drift both",
    )
    parser.add_argument(
        "--drifting",
        action="store_true",
        help="repositories whose last stretch is a release freeze: every pair diverged both ways",
    )
    parser.add_argument(
        "--files",
        type=int,
        default=FILES,
        help="files in the generated trees (a monorepo's are tens of thousands)",
    )
    parser.add_argument(
        "--pending",
        type=int,
        help="commits in the generated repositories' pending last stretch, the same at every "
        "size (default: 4%% of the commits): time against history at a fixed divergence",
    )
    args = parser.parse_args(argv)
    byte_compiled()
    rows = []
    later: list[tuple[str, int, list[Sample], list[Sample]]] = []
    for commits in args.commits:
        repo = repository(commits, args.seed, args.work, args.drifting, args.files, args.pending)
        mode = (f"-f{args.files}" if args.files != FILES else "") + (
            f"-p{args.pending}" if args.pending is not None else ""
        )
        mode += "-drifting" if args.drifting else ""
        mode += "-graph" if args.commit_graph else ""
        if args.commit_graph:
            repo = with_commit_graph(repo)
        out = args.work / f"r{commits}{mode}.json"
        cache = args.work / f"cache-{commits}{mode}"
        shutil.rmtree(cache, ignore_errors=True)
        drift(repo, out, ["--cache", str(cache)])  # fills the cache for the warm runs
        gits, colds, warms = [], [], []
        for _ in range(args.runs):
            gits.append(git_pipeline(repo))
            colds.append(drift(repo, out, ["--no-cache"]))
            warms.append(drift(repo, out, ["--cache", str(cache)]))
        rows.append((commits, divergence(repo), gits, colds, warms))
        if args.new_commits:
            plus = with_new_commits(repo, args.new_commits)
            released = with_release(plus)
            for name, target in (("new commits", plus), ("released", released)):
                later_gits, laters = [], []
                # each scenario's report beside the cold one, not over it
                report = out.with_name(f"{target.name.removesuffix('.git')}.json")
                for _ in range(args.runs):
                    week = cache.with_name(cache.name + "-week")  # last week's cache, unchanged
                    shutil.rmtree(week, ignore_errors=True)
                    shutil.copytree(cache, week)
                    later_gits.append(git_pipeline(target))
                    laters.append(drift(target, report, ["--cache", str(week)]))
                later.append((name, commits, later_gits, laters))
    if args.files != FILES:
        print(f"Trees of {args.files:,} files (--files):")
    if args.drifting:
        print("Repositories whose last stretch is a release freeze (--drifting):")
    if args.pending is not None:
        print(f"A pending last stretch of {args.pending:,} commits at every size (--pending):")
    if args.commit_graph:
        print("With a commit-graph file (git commit-graph write --reachable), git and drift:")
    print_table(rows)
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"(No peak is below this script's own, {floor:.0f} MiB: the kernel counts a process's "
        "peak from its parent's size when it started.)"
    )
    titles = {
        "new commits": f"Re-run after {args.new_commits:,} new commits on dev",
        "released": f"Re-run after {args.new_commits:,} new commits on dev and a release "
        "through every environment (the common base moves up to dev's tip)",
    }
    for name, title in titles.items():
        rows_later = [row[1:] for row in later if row[0] == name]
        if not rows_later:
            continue
        print(f"\n{title}, with the cache of the run before:")
        print(
            "| commits | git pipeline | drift | drift/git | peak MiB drift "
            "| CPU s git / drift | drift phases (median s) |"
        )
        print("|---|---|---|---|---|---|---|")
        for commits, later_gits, laters in rows_later:
            g = statistics.median(x.seconds for x in later_gits)
            d = statistics.median(x.seconds for x in laters)
            peak = max(x.peak_mib for x in laters)
            cpu = f"{statistics.median(x.cpu for x in later_gits):.2f} / "
            cpu += f"{statistics.median(x.cpu for x in laters):.2f}"
            print(
                f"| {commits:,} | {g:.2f} s | {d:.2f} s | {d / g:.2f} | {peak:.0f} | {cpu} "
                f"| {median_phases(laters)} |"
            )
    return 0


def median_phases(samples: list[Sample]) -> str:
    """Each phase's median over the runs, in the order the first run printed them."""
    return ", ".join(
        f"{name} {statistics.median(s.phases.get(name, 0.0) for s in samples):.2f}"
        for name in samples[0].phases
    )


def print_table(rows: list[tuple[int, int, list[Sample], list[Sample], list[Sample]]]) -> None:
    """Medians per size: git, drift cold (no cache) and warm, ratios, memory, CPU, cold
    phases. CPU above wall time is work done on the second core."""
    print(
        "| commits | outside base | git pipeline | drift cold | cold/git | drift warm | warm/git "
        "| peak MiB git / drift | CPU s git / drift cold | drift cold phases (median s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for commits, outside, gits, colds, warms in rows:
        g = statistics.median(s.seconds for s in gits)
        c = statistics.median(s.seconds for s in colds)
        w = statistics.median(s.seconds for s in warms)
        phases = median_phases(colds)
        peak = max(s.peak_mib for s in colds + warms)
        cpu = f"{statistics.median(s.cpu for s in gits):.2f} / "
        cpu += f"{statistics.median(s.cpu for s in colds):.2f}"
        print(
            f"| {commits:,} | {outside:,} | {g:.2f} s | {c:.2f} s | {c / g:.2f} | {w:.2f} s "
            f"| {w / g:.2f} | {max(s.peak_mib for s in gits):.0f} / {peak:.0f} | {cpu} "
            f"| {phases} |"
        )


if __name__ == "__main__":
    raise SystemExit(main())
