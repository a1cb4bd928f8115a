"""Bad input: one clear line on stderr, exit code 2, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drift import audit
from drift.cli import main
from drift_fixtures.builder import RepoBuilder
from tests.small_repos import four_envs, remove_blob


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_not_a_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "audit", str(tmp_path))
    assert code == 2
    assert "not a git repository" in err
    assert err.count("\n") == 1


def test_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "audit", str(tmp_path / "nope"))
    assert code == 2 and "no such directory" in err


def test_empty_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    RepoBuilder.init(tmp_path / "empty")
    code, err = run(capsys, "audit", str(tmp_path / "empty"))
    assert code == 2 and "empty" in err


def test_unknown_environment_lists_branches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = four_envs(tmp_path)
    code, err = run(capsys, "audit", str(b.path), "--envs", "dev,qa-eu")
    assert code == 2
    assert "'qa-eu'" in err and "dev, prod, staging, test" in err


def test_fewer_than_two_explicit_environments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = four_envs(tmp_path)
    code, err = run(capsys, "audit", str(b.path), "--envs", "dev")
    assert code == 2 and "at least two environments" in err


@pytest.mark.parametrize("envs", ["=dev,=prod", "dev, =prod", "dev,  =test"])
def test_an_environment_without_a_name_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], envs: str
) -> None:
    """A name is what every view shows: `=dev` once gave a chain ` -> ` and blank columns."""
    b = four_envs(tmp_path)
    code, err = run(capsys, "audit", str(b.path), "--envs", envs)
    assert code == 2 and "has no name" in err and err.count("\n") == 1


def test_an_environment_without_a_name_in_the_configuration_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = four_envs(tmp_path)
    config = tmp_path / "drift.toml"
    config.write_text('environments = ["dev", {name = "", ref = "prod"}]\n')
    code, err = run(capsys, "audit", str(b.path), "--config", str(config))
    assert code == 2 and "has no name (ref 'prod')" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "REPO", option, ""]
        for option in ("--json", "--html", "--markdown", "--graph", "--baseline", "--history")
    ]
    + [["audit", "REPO", "--cache", ""], ["baseline", "write", "", "REPO"]],
    ids=lambda argv: " ".join(a or "''" for a in argv[:3]),
)
def test_an_empty_file_name_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """`--json "$UNSET"` once wrote nothing and said nothing (exit 0); `--baseline "$UNSET"`
    dropped a CI job's accepted drift as silently."""
    b = four_envs(tmp_path)
    code, err = run(capsys, *[str(b.path) if a == "REPO" else a for a in argv])
    assert code == 2 and "not an empty string" in err and err.count("\n") == 1


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_a_config_that_is_not_a_file_is_named_for_what_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    b = four_envs(tmp_path)
    config = tmp_path / "conf"
    if kind == "folder":
        config.mkdir()
    code, err = run(capsys, "audit", str(b.path), "--config", str(config))
    words = "a folder, not a file" if kind == "folder" else "no such file"
    assert code == 2 and err == f"drift: error: --config {config}: {words}\n"


def test_single_detected_environment_is_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = RepoBuilder.init(tmp_path / "trunk", branch="main")
    b.commit("one", {"a": "1\n"})
    code = main(["audit", str(b.path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "nothing to compare" in out


def test_no_environment_detected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    b = RepoBuilder.init(tmp_path / "r", branch="feature/x")
    b.commit("one", {"a": "1\n"})
    code, err = run(capsys, "audit", str(b.path))
    assert code == 2 and "no environment branches found" in err and "feature/x" in err


def test_shallow_clone_refused_unless_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = four_envs(tmp_path)
    shallow = tmp_path / "shallow"
    subprocess.run(
        [
            "git",
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            f"file://{b.path}",
            str(shallow),
        ],
        check=True,
    )
    code, err = run(capsys, "audit", str(shallow))
    assert code == 2 and "shallow clone" in err and "--allow-shallow" in err
    report = tmp_path / "r.json"
    code, err = run(capsys, "audit", str(shallow), "--allow-shallow", "--json", str(report))
    assert code == 0
    assert '"partial": true' in report.read_text()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("environments = [\n", "not valid TOML"),
        ("colour = 1\n", "unknown key 'colour'"),
        ("environments = 'dev'\n", "environments: expected a list"),
        ("match = ['trailer', 'fuzzy']\n", "unknown match method fuzzy"),
        ("[ignore]\nmessages = ['(']\n", "not a valid regex"),
        ("since = 'last week'\n", "since"),
    ],
)
def test_broken_config_names_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    b = four_envs(tmp_path)
    config = tmp_path / "drift.toml"
    config.write_text(content)
    code, err = run(capsys, "audit", str(b.path), "--config", str(config))
    assert code == 2
    assert str(config) in err and expected in err


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "audit", "--color", "purple")
    assert code == 2 and "invalid choice" in err


def test_ctrl_c_exits_130(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    b = four_envs(tmp_path)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(audit, "read_history", interrupted)
    code, err = run(capsys, "audit", str(b.path))
    assert code == 130 and "interrupted" in err


def test_unreadable_object_is_listed_and_the_audit_completes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A blob missing from the object store (as in broken mirrors): the commit that needs it
    is listed as not analysed, counted in the summary, and every other finding is the same as
    in the intact repository."""
    b = four_envs(tmp_path)
    intact = tmp_path / "intact.json"
    assert main(["audit", str(b.path), "--json", str(intact), "--no-cache"]) == 0
    blob = b.git("rev-parse", f"{b.labels['f2']}:two.py")
    remove_blob(b, blob, tmp_path)
    broken = tmp_path / "broken.json"
    code, err = run(capsys, "audit", str(b.path), "--json", str(broken), "--no-cache")
    assert code == 0, err
    data, before = json.loads(broken.read_text()), json.loads(intact.read_text())
    assert [e["commit"] for e in data["not_analysed"]] == [b.labels["f2"]]
    assert blob in data["not_analysed"][0]["reason"]
    assert data["summary"]["not_analysed"] == 1 and before["summary"]["not_analysed"] == 0
    assert any("not_analysed" in note for note in data["notes"])
    assert data["findings"] == before["findings"]  # f2 had no copy to match: nothing lost


def test_python_dash_m_works(tmp_path: Path) -> None:
    b = four_envs(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "drift", "audit", str(b.path)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "dev -> test" in proc.stdout


def test_a_merge_that_cannot_be_re_merged_is_listed_not_fatal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both sides edited one file, and the base's version of it is gone: the re-merge cannot
    run, so the merge is listed as not checked for conflicts; the audit completes."""
    b = RepoBuilder.init(tmp_path / "r", branch="dev")
    b.commit("base", {"app.py": "".join(f"line {i}\n" for i in range(20))}, label="base")
    b.commit("shared", {"other.py": "x\n"})
    b.branch("prod", "dev")
    b.commit("dev edit", {"app.py": "top\n" + "".join(f"line {i}\n" for i in range(20))})
    b.checkout("prod")
    b.commit("prod edit", {"app.py": "".join(f"line {i}\n" for i in range(20)) + "end\n"})
    b.checkout("dev")
    merge = b.merge("prod", label="bm")
    remove_blob(b, b.git("rev-parse", f"{b.labels['base']}:app.py"), tmp_path)
    out = tmp_path / "r.json"
    code, err = run(capsys, "audit", str(b.path), "--envs", "dev,prod", "--json", str(out))
    assert code == 0, err
    data = json.loads(out.read_text())
    reasons = {e["commit"]: e["reason"] for e in data["not_analysed"]}
    assert reasons[merge].startswith("not checked for conflicts")
    assert data["summary"]["not_analysed"] == len(reasons)
    assert not any(f["kind"] == "conflict_merge" for f in data["findings"])


def _drift_with_file_limit(
    argv: list[str], cwd: Path, limit: int, stdout: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """drift in a process that may write no file larger than `limit` bytes: every write past
    it fails with EFBIG, as a full disk or quota fails it (the signal it would send is off)."""
    import resource
    import signal

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    # No bytecode written under the limit: Python would keep a cut .pyc of drift's modules.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with open(stdout or os.devnull, "w") as out:
        return subprocess.run(
            [sys.executable, "-m", "drift", *argv],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=limited,
            check=False,
        )


@pytest.mark.skipif(sys.platform != "linux", reason="needs RLIMIT_FSIZE semantics of Linux")
def test_a_report_that_cannot_be_written_is_an_error_not_a_crash(tmp_path: Path) -> None:
    b = four_envs(tmp_path)
    target = tmp_path / "out" / "r.json"
    target.parent.mkdir()
    proc = _drift_with_file_limit(
        ["audit", str(b.path), "-q", "--json", str(target)], tmp_path, 1000
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"drift: error: cannot write {target}: File too large\n"
    assert list(target.parent.iterdir()) == []  # no half-written file, no temp file left


@pytest.mark.skipif(sys.platform != "linux", reason="needs RLIMIT_FSIZE semantics of Linux")
def test_a_summary_that_cannot_be_written_is_an_error_not_a_crash(tmp_path: Path) -> None:
    b = four_envs(tmp_path)
    shown = tmp_path / "summary.txt"
    proc = _drift_with_file_limit(["audit", str(b.path)], tmp_path, 1000, stdout=shown)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "drift: error: cannot write output: File too large\n"
    proc = _drift_with_file_limit(["audit", str(b.path), "--json", "-"], tmp_path, 1000, shown)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "drift: error: cannot write to stdout: File too large\n"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc, where no file is made")
def test_a_folder_no_file_can_be_made_in_is_an_error_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = four_envs(tmp_path)
    code, err = run(capsys, "audit", str(b.path), "-q", "--html", "/proc/drift-report.html")
    assert code == 2
    assert err.startswith("drift: error: cannot write /proc/drift-report.html: ")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--as-of", "0001-01-01"),
        ("--as-of", "1969-12-31"),
        ("--as-of", "9999-12-31"),
        ("--since", "0002-06-01"),
    ],
)
def test_a_time_outside_what_drift_reads_is_refused(
    option: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--as-of 0001-01-01` once crashed building the metrics window (year 0)."""
    b = four_envs(tmp_path)
    code, err = run(capsys, "audit", str(b.path), "-q", option, value)
    assert code == 2
    assert err == (
        f"drift: error: {option}: {value!r} is outside the times drift reads "
        "(1970-01-01 to 9000-01-01)\n"
    )


def test_a_commit_dated_in_the_year_9999_is_analysed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """git accepts any commit time; a clock far wrong at the end of the calendar once crashed
    the monthly and weekly series (the month after December 9999)."""
    b = RepoBuilder.init(tmp_path / "r", branch="dev")
    b.commit("base", {"a.txt": "a\n"})
    b.branch("prod", "dev")
    b.clock = 253402300000 - 3600  # the commit ticks an hour: 9999-12-31T23:46:40Z
    b.commit("from the far future", {"b.txt": "b\n"})
    out = tmp_path / "r.json"
    argv = ["audit", str(b.path), "-q", "--json", str(out), "--html", str(tmp_path / "r.html")]
    code, err = run(capsys, *argv)
    assert code == 0, err
    data = json.loads(out.read_text())
    assert data["settings"]["as_of"] == "9999-12-31T23:46:40Z"
    assert data["metrics"]["monthly"]["months"][-1]["month"] == "9999-12"
    assert data["metrics"]["drift_over_time"][0]["months"][-1]["period"] == "9999-12"


def test_a_commit_dated_after_the_year_9999_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No report can show the year 10000 (datetime stops at 9999): said, never a crash."""
    b = RepoBuilder.init(tmp_path / "r", branch="dev")
    b.commit("base", {"a.txt": "a\n"})
    b.branch("prod", "dev")
    b.clock = 253402300800  # 10000-01-01T01:00:00Z after the tick
    b.commit("from the year 10000", {"b.txt": "b\n"})
    code, err = run(capsys, "audit", str(b.path), "-q")
    assert code == 2
    assert err.startswith("drift: error: a time of 253402304400 seconds since 1970 is outside")
    assert err.count("\n") == 1
