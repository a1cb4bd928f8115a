"""The engine's promises beyond individual findings: work done once, the common base never
diffed, byte-identical reports, honest output on and off a terminal, drift's own history."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drift.audit import run_audit
from drift.cli import main
from drift.config import EnvSpec, Settings
from drift.git import repository as repository_module
from drift.report import SCHEMA_VERSION
from drift_fixtures.demo import build_demo
from drift_fixtures.expect import Scenario
from tests.gitoracle import git, is_ancestor, rev_count
from tests.probes import record_diffs


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return build_demo(tmp_path_factory.mktemp("demo"))


def test_each_patch_id_is_computed_once_and_reused_by_every_pair(
    demo: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cached change list of a commit reaches the hashing code at most once per run (which
    commits need it at all: tests/test_patch_keys.py)."""
    seen: list[list[Any]] = []  # kept alive, so no two of them can share an id()
    real = repository_module.patch_id  # type: ignore[attr-defined]

    def counting(repo: Any, changes: list[Any], *texts: Any) -> str | None:
        seen.append(changes)
        return real(repo, changes, *texts)

    monkeypatch.setattr(repository_module, "patch_id", counting)
    report = run_audit(demo.path, Settings(), now=0)
    assert len(seen) == len({id(changes) for changes in seen})
    assert 0 < len(seen) <= report.stats["commits_outside_base"] * 2  # forward and inverse


def test_common_base_is_never_diffed(demo: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every commit whose diff is read is missing from at least one environment."""
    diffed = record_diffs(monkeypatch)
    data = run_audit(demo.path, Settings(), now=0).to_dict()
    tips = [env["ref"] for env in data["environments"]]
    assert diffed
    for commit in diffed:
        assert not all(is_ancestor(demo.path, commit, tip) for tip in tips), commit
    total = rev_count(demo.path, "--all")
    assert len(diffed) < total / 2  # the demo's first months are shared history


def test_report_is_byte_identical_run_to_run(demo: Scenario, tmp_path: Path) -> None:
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    assert main(["audit", str(demo.path), "--json", str(one)]) == 0
    assert main(["audit", str(demo.path), "--json", str(two)]) == 0

    def without_clock(path: Path) -> list[str]:
        return [line for line in path.read_text().splitlines() if '"generated_at"' not in line]

    assert without_clock(one) == without_clock(two)


def test_json_follows_the_report_spec(demo: Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(demo.path), "--json", "-"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["tool"]["name"] == "drift"
    assert data["generated_at"].endswith("Z")
    for key in ("repository", "settings", "environments", "findings", "summary", "commits"):
        assert key in data
    for env in data["environments"]:
        assert set(env) >= {"name", "ref", "commit", "commit_time"}
        assert len(env["commit"]) == 40
    required = {
        "pending": {"commit", "upstream", "downstream", "age_days"},
        "cherry_pick": {"original", "copy", "original_env", "copy_env", "method", "score"},
        "back_merge": {"merge", "from_env", "into_env"},
        "promotion_merge": {"merge", "from_env", "into_env"},
        "hotfix": {"commit", "origin"},
        "missing_hotfix": {"commit", "origin", "missing_from"},
        "revert": {"revert", "reverted"},
        "divergence": {"upstream", "downstream", "ahead", "behind", "pending_changes"},
        "untested_release": {"commit", "env", "upstream"},
        "conflict_merge": {"merge", "env", "paths", "type"},
    }
    ids = set()
    for f in data["findings"]:
        assert set(f) >= required[f["kind"]] | {"id", "kind", "note"}
        ids.add(f["id"])
        for key in ("commit", "original", "copy", "merge", "revert"):
            if key in f:
                assert len(f[key]) == 40 and f[key] in data["commits"]
    assert len(ids) == len(data["findings"])
    assert sum(data["summary"]["by_kind"].values()) == len(data["findings"])


def test_no_progress_bar_or_colour_off_a_terminal(
    demo: Scenario, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["audit", str(demo.path)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "\x1b[" not in out
    assert main(["audit", str(demo.path), "--color", "always"]) == 0
    assert "\x1b[" in capsys.readouterr().out
    monkeypatch.setenv("NO_COLOR", "1")
    assert main(["audit", str(demo.path)]) == 0
    assert "\x1b[" not in capsys.readouterr().out


def test_markup_in_commit_subjects_is_printed_literally(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from drift_fixtures.builder import RepoBuilder

    b = RepoBuilder.init(tmp_path / "r")
    b.commit("base", {"a": "1\n"})
    b.branch("prod", "dev")
    b.commit("[bold red]boom[/] </script><img src=x onerror=alert(1)>", {"b": "2\n"})
    assert main(["audit", str(b.path), "--color", "never"]) == 0
    assert "[bold red]boom[/] </script><img src=x onerror=alert(1)>" in capsys.readouterr().out


def test_partial_clone_is_audited_with_its_unreadable_commits_listed(
    demo: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A blobless clone: history, trailers and merges are read; every commit whose patch needs
    a blob is listed as not analysed (the partial clone named), and nothing is fatal."""
    git(demo.path, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "blobless"
    subprocess.run(
        ["git", "clone", "-q", "--bare", "--filter=blob:none", f"file://{demo.path}", str(clone)],
        check=True,
    )
    out = tmp_path / "r.json"
    code = main(["audit", str(clone), "--json", str(out)])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err
    data = json.loads(out.read_text())
    assert data["repository"]["partial_clone"] is True
    listed = data["not_analysed"]
    assert listed and data["summary"]["not_analysed"] == len(listed)
    assert all("partial clone" in entry["reason"] for entry in listed)
    methods = {f["method"] for f in data["findings"] if f["kind"] == "cherry_pick"}
    assert "trailer" in methods and "patch-id" not in methods


def test_drift_own_repository(tmp_path: Path) -> None:
    """drift audits its own history: two environments cut from it agree with git's counts."""
    here = Path(__file__).resolve().parent.parent
    clone = tmp_path / "self"
    subprocess.run(["git", "clone", "-q", str(here), str(clone)], check=True)
    count = rev_count(clone, "HEAD")
    git(clone, "branch", "prod", f"HEAD~{min(3, count - 1)}")
    git(clone, "branch", "dev", "HEAD")
    settings = Settings(envs=(EnvSpec("dev"), EnvSpec("prod")))
    data = run_audit(clone, settings, now=0).to_dict()
    div = next(f for f in data["findings"] if f["kind"] == "divergence")
    assert div["behind"] == rev_count(clone, "prod..dev")
    assert div["ahead"] == rev_count(clone, "dev..prod") == 0
    pending = [f for f in data["findings"] if f["kind"] == "pending"]
    assert len(pending) == div["pending_changes"] <= div["behind"]


def test_report_files_get_ordinary_permissions(tmp_path: Path) -> None:
    """Reports are shared (CI artifacts): written with the umask's mode, not mkstemp's 0600."""
    from drift.render.output import write_output

    target = tmp_path / "r.json"
    old = os.umask(0o022)
    try:
        write_output(str(target), "{}\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_writing_to_a_pipe_or_a_link_keeps_it(tmp_path: Path) -> None:
    """`--json /dev/null` once replaced the device with a file (the atomic rename): a pipe or
    device is written into, and a symlink's target is replaced, never the link."""
    import threading

    from drift.render.output import write_output

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    write_output(str(fifo), '{"a": 1}\n')
    reader.join(timeout=10)
    assert received == ['{"a": 1}\n']
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    real = tmp_path / "real.json"
    real.write_text("old\n")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_output(str(link), "new\n")
    assert link.is_symlink() and real.read_text() == "new\n"


@given(
    st.lists(
        st.one_of(
            st.text(),
            st.text(alphabet="0123456789abcdef", min_size=40, max_size=40),
            st.integers(),
            st.none(),
        ),
        max_size=4,
    )
)
def test_a_findings_id_is_the_digest_of_its_identity_as_json_dumps_writes_it(
    identity: list[Any],
) -> None:
    """Ids are kept by baselines: the quick text of an identity is json.dumps', for any
    strings (quotes, backslashes, control characters, non-ASCII, astral), and other values."""
    from drift.findings.model import identity_text

    assert identity_text(identity) == json.dumps(identity)


def test_finding_ids_are_those_of_the_json_dumps_digest(demo: Scenario) -> None:
    """Every finding of the demo keeps the id the digest of json.dumps gives (the way ids
    were always made)."""
    import hashlib

    from drift.findings.model import IDENTITY

    for finding in run_audit(demo.path, Settings(), now=0).findings:
        identity = [finding.fields[name] for name in IDENTITY[finding.kind]]
        digest = hashlib.sha1(json.dumps(identity).encode()).hexdigest()[:12]
        assert finding.id == f"{finding.kind}-{digest}"
