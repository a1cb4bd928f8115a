"""The benchmark script runs end to end on a small generated repository and prints real figures.

Speed targets are never asserted here (a slow machine must not fail a test): this checks that
`benchmarks/run.py` measures what it says, drift and git on the same repository, cold, warm
and after new commits, with each phase.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.gitoracle import git

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def _benchmark() -> Any:
    """benchmarks/run.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("drift_benchmark", RUN)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["drift_benchmark"] = bench
    spec.loader.exec_module(bench)
    return bench


def _bench_out(tmp_path: Path, capsys: pytest.CaptureFixture[str], *options: str) -> str:
    """What `benchmarks/run.py` prints for a 1,200-commit repository, one run, in tmp_path."""
    argv = ["--commits", "1200", "--runs", "1", "--work", str(tmp_path), *options]
    assert _benchmark().main(argv) == 0
    return capsys.readouterr().out


def test_the_benchmark_prints_a_row_per_size_with_ratios_and_phases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _benchmark()
    argv = ["--commits", "1200", "--runs", "1", "--new-commits", "30", "--work", str(tmp_path)]
    assert bench.main(argv) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| 1,200 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    git_s, cold, ratio = float(cells[2][:-2]), float(cells[3][:-2]), float(cells[4])
    half = 0.005  # the printed seconds are rounded; the ratio is of the unrounded medians
    assert git_s > 0 and cold > 0
    assert (cold - half) / (git_s + half) <= ratio <= (cold + half) / (git_s - half)
    assert int(cells[1].replace(",", "")) > 0  # commits outside the common base
    git_cpu, drift_cpu = (float(x) for x in cells[8].split(" / "))
    assert git_cpu > 0 and drift_cpu > 0  # measured, with the children each waited for
    phases = dict(re.findall(r"(\w+) ([\d.]+)", cells[9]))
    names = [
        "walk",
        "changes",
        "findings",
        "report",
        "delivery",
        "render_ahead",
        "metrics",
        "render",
    ]
    assert list(phases) == names
    assert "Re-run after 30 new commits on dev, with" in out
    assert "Re-run after 30 new commits on dev and a release through every environment" in out
    later = re.findall(
        r"^\| 1,200 \| [\d.]+ s \| [\d.]+ s \| [\d.]+ \| \d+ \| ([\d.]+) / ([\d.]+) \| (.*) \|$",
        out,
        re.MULTILINE,
    )
    assert len(later) == 2  # each re-run's row, with CPU and the phases of its audit
    for git_cpu_text, drift_cpu_text, phases_text in later:
        assert float(git_cpu_text) > 0 and float(drift_cpu_text) > 0
        assert list(dict(re.findall(r"(\w+) ([\d.]+)", phases_text))) == names
    assert (tmp_path / "r1200-s1-plus30.git").is_dir()
    released = tmp_path / "r1200-s1-plus30-released.git"
    # each scenario leaves its own report: the cold and warm runs', and each re-run's
    for report, repo in (
        ("r1200.json", tmp_path / "r1200-s1"),
        ("r1200-s1-plus30.json", tmp_path / "r1200-s1-plus30.git"),
        ("r1200-s1-plus30-released.json", released),
    ):
        tips = {
            e["name"]: e["commit"]
            for e in json.loads((tmp_path / report).read_text())["environments"]
        }
        assert tips["dev"] == git(repo, "rev-parse", "dev"), report
    dev = git(released, "rev-parse", "dev")
    assert git(released, "merge-base", "--octopus", "dev", "test", "staging", "prod") == dev
    for env in ("test", "staging", "prod"):  # each a merge keeping its upstream's tree
        assert git(released, "rev-parse", f"{env}^{{tree}}") == git(
            released, "rev-parse", "dev^{tree}"
        )


def test_the_benchmark_times_drift_byte_compiled(tmp_path: Path) -> None:
    """An installed drift has its bytecode (pip compiles a wheel's modules); the benchmark
    writes it first, so that no run times the compiler, whatever PYTHONDONTWRITEBYTECODE."""
    import drift.audit

    compiled = Path(importlib.util.cache_from_source(drift.audit.__file__))
    compiled.unlink(missing_ok=True)
    _benchmark().byte_compiled()
    assert compiled.stat().st_mtime >= Path(drift.audit.__file__).stat().st_mtime


def test_the_benchmark_measures_on_a_copy_with_a_commit_graph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--commit-graph`: git and drift both run on a bare copy where the graph was written."""
    out = _bench_out(tmp_path, capsys, "--new-commits", "20", "--commit-graph")
    assert "With a commit-graph file" in out
    assert any(line.startswith("| 1,200 |") for line in out.splitlines())
    assert (tmp_path / "r1200-s1-graph.git" / "objects" / "info" / "commit-graph").is_file()
    assert not (tmp_path / "r1200-s1" / ".git" / "objects" / "info" / "commit-graph").exists()
    assert (tmp_path / "r1200-graph.json").is_file()  # drift's report, on the copy
    later = tmp_path / "r1200-s1-graph-plus20.git"  # its new commits: a graph behind them
    assert (later / "objects" / "info" / "commit-graph").is_file()
    assert "Re-run after 20 new commits on dev" in out


def test_the_benchmark_measures_a_drifting_repository_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--drifting`: its own repository (a release freeze last), its own report, and a table
    that says which it is; the default repository is not made."""
    out = _bench_out(tmp_path, capsys, "--new-commits", "0", "--drifting")
    assert "release freeze (--drifting)" in out
    assert any(line.startswith("| 1,200 |") for line in out.splitlines())
    repo = tmp_path / "r1200-s1-drifting"
    assert (tmp_path / "r1200-drifting.json").is_file()
    assert not (tmp_path / "r1200-s1").exists()
    only_test = git(repo, "rev-list", "--no-merges", "--count", "dev..test")
    assert int(only_test) >= 5  # the freeze's picks and fixes: dev lacks them


def test_the_benchmark_measures_a_fixed_divergence_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--pending N`: a repository of its own whose last stretch is N commits, its own report,
    a table that says which it is, and a divergence (git's count of commits outside the
    common base, the table's second column) set by N, not by 4% of the commits."""
    out = _bench_out(tmp_path, capsys, "--new-commits", "0", "--pending", "60")
    assert "A pending last stretch of 60 commits at every size (--pending):" in out
    row = next(line for line in out.splitlines() if line.startswith("| 1,200 |"))
    outside = int(row.strip("|").split("|")[1].replace(",", ""))
    repo = tmp_path / "r1200-s1-p60"
    assert (tmp_path / "r1200-p60.json").is_file()
    assert not (tmp_path / "r1200-s1").exists()
    envs = ("dev", "test", "staging", "prod")
    base = git(repo, "merge-base", "--octopus", *envs)
    assert outside == int(git(repo, "rev-list", "--count", *envs, f"^{base}"))
    pending = int(git(repo, "rev-list", "--count", "--no-merges", "test..dev"))
    assert 60 <= pending < 300  # the stretch, and what the last promotion left in flight


def test_the_benchmark_measures_wide_trees_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--files`: a repository of its own with trees that many files wide, its own report,
    and a table that says which it is."""
    out = _bench_out(tmp_path, capsys, "--new-commits", "0", "--files", "5000")
    assert "Trees of 5,000 files (--files):" in out
    assert "No peak is below this script's own" in out  # where the memory column starts
    assert any(line.startswith("| 1,200 |") for line in out.splitlines())
    repo = tmp_path / "r1200-s1-f5000"
    assert (tmp_path / "r1200-f5000.json").is_file()
    assert not (tmp_path / "r1200-s1").exists()
    assert len(git(repo, "ls-tree", "-r", "--name-only", "dev").splitlines()) >= 5000


def test_the_folder_benchmark_lists_the_folders_git_says_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`benchmarks/folders.py`: after an earlier run at dev~2, the listing with the kept
    folders lists exactly the folders `git diff-tree -r -t` says the two commits changed
    (and the root), of the folders `git ls-tree -r -t` counts; nothing is written to the
    repository."""
    from drift_fixtures.builder import RepoBuilder

    spec = importlib.util.spec_from_file_location("drift_folders", RUN.parent / "folders.py")
    assert spec is not None and spec.loader is not None
    folders = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(folders)
    b = RepoBuilder.init(tmp_path / "r", branch="dev")
    b.commit(
        "tree", {f"app{d}/part{p}/deploy.yaml": f"{d}.{p}\n" for d in range(5) for p in range(4)}
    )
    b.commit("one", {"app1/part2/deploy.yaml": "changed\n"})
    b.commit("two", {"app3/notes.md": "new\n"})
    before = git(b.path, "count-objects", "-v")
    assert folders.main([str(b.path), "--back", "2", "--runs", "1"]) == 0
    assert git(b.path, "count-objects", "-v") == before
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| 2 |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    trees = git(b.path, "ls-tree", "-r", "-t", "dev").splitlines()
    changed = git(b.path, "diff-tree", "-r", "-t", "dev~2", "dev").splitlines()
    assert int(cells[1]) == 1 + sum(" tree " in line for line in trees)
    assert int(cells[2]) == 1 + sum(line.split()[1] == "040000" for line in changed) == 4
    assert all(cell.endswith(" s") for cell in cells[3:])
