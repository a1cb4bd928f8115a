"""The report templates ship inside the wheel: a fresh virtual environment with only the
built wheel installed (its dependencies borrowed from this environment, offline) renders a
report from a saved JSON, from outside the source tree."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from drift.audit import run_audit
from drift.config import Settings
from tests.small_repos import four_envs

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _source_copy(target: Path) -> Path:
    """The files a wheel is built from, copied so the build leaves the work tree alone."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    target.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, target / name)
    shutil.copytree(ROOT / "drift", target / "drift", ignore=ignore)
    shutil.copytree(ROOT / "reports", target / "reports", ignore=ignore)
    shutil.copytree(
        ROOT / "fixtures" / "drift_fixtures", target / "fixtures" / "drift_fixtures", ignore=ignore
    )
    return target


def test_wheel_in_a_fresh_venv_renders_reports(tmp_path: Path) -> None:
    source = _source_copy(tmp_path / "src")
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, source, cwd=tmp_path)
    wheel = next(dist.glob("drift_audit-*.whl"))
    venv = tmp_path / "fresh"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    fresh_site = _run(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
    ).strip()
    # jinja2, rich, pygit2...: borrowed from this environment, after the fresh site-packages.
    (Path(fresh_site) / "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    report = tmp_path / "report.json"
    b = four_envs(tmp_path / "repos")
    report.write_text(json.dumps(run_audit(b.path, Settings()).to_dict()))
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run(python, "-c", "import drift.templates as t; print(t.__file__)", cwd=work)
    assert where.startswith(str(venv)), where
    _run(
        venv / "bin" / "drift",
        "report",
        report,
        "--html",
        "out.html",
        "--markdown",
        "out.md",
        cwd=work,
    )
    html = (work / "out.html").read_text()
    assert "<svg" in html and 'id="report-data"' in html and "Content-Security-Policy" in html
    assert "## drift: readiness" in (work / "out.md").read_text()
