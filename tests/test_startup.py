"""What an audit imports: only what it uses. Python start-up and imports are a fixed cost of
every run (0.2 s, more than plain git's whole answer on a 10k-commit repository), so the
modules only some runs need are imported by those runs: PyYAML (18 ms) when a YAML file is
read, rich's progress bars (15 ms) on a terminal, tomllib when there is a file to read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.small_repos import four_envs

_OPTIONAL = ("yaml", "rich.progress", "tomllib", "networkx", "jinja2")


def _imported_by_audit(repo: Path, cwd: Path, *args: str) -> list[str]:
    """The optional modules loaded once an audit of `repo` (in process, off a terminal) ends."""
    code = (
        "import sys; from drift.cli import main; "
        f"code = main(['audit', {str(repo)!r}, *{list(args)!r}]); "
        f"print(sorted(m for m in {_OPTIONAL!r} if m in sys.modules), code, file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=cwd
    )
    modules, _, code_text = done.stderr.strip().splitlines()[-1].rpartition("] ")
    assert code_text == "0", done.stderr
    return [m.strip("' ") for m in modules.lstrip("[").split(",") if m.strip()]


def test_an_audit_imports_no_optional_module_it_does_not_use(tmp_path: Path) -> None:
    b = four_envs(tmp_path / "repo")
    tracked = subprocess.run(
        ["git", "-C", str(b.path), "ls-tree", "-r", "--name-only", "prod"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert not [p for p in tracked if p.endswith((".yml", ".yaml", ".toml"))]  # nothing to parse
    assert _imported_by_audit(b.path, tmp_path, "--json", str(tmp_path / "r.json")) == []


def test_a_yaml_file_still_brings_the_yaml_loader(tmp_path: Path) -> None:
    b = four_envs(tmp_path / "repo")
    for env in ("dev", "test", "staging", "prod"):
        b.checkout(env)
        b.commit(f"ci on {env}", {".gitlab-ci.yml": "build:\n  script: make\n"})
    out = tmp_path / "r.json"
    assert "yaml" in _imported_by_audit(b.path, tmp_path, "--json", str(out))
    assert ".gitlab-ci.yml" in out.read_text()  # the file was read, not only listed
