"""`--all-merges`: merges off the environments' first-parent lines are checked only on request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drift.cli import main
from drift_fixtures.builder import RepoBuilder
from tests.gitoracle import git


def feature_with_evil_update(root: Path) -> tuple[RepoBuilder, str]:
    """A feature branch merges dev to catch up and slips an edit into that merge; dev then
    merges the feature. The evil merge is on no environment's first-parent line."""
    b = RepoBuilder.init(root / "r")
    b.commit("base", {"app.txt": "1\n2\n3\n", "other.txt": "a\n"})
    b.branch("prod", "dev")
    b.checkout("feature/x", create_from="dev")
    b.commit("feature", {"feature.txt": "on\n"})
    b.checkout("dev")
    b.commit("dev moves on", {"other.txt": "a\nb\n"})
    b.checkout("feature/x")
    b.merge("dev", message="Merge branch 'dev' into feature/x")
    b.write({"app.txt": "1\nEVIL\n3\n"})
    b.git("commit", "-q", "--amend", "--no-edit")
    evil = b.head()
    b.checkout("dev")
    b.merge("feature/x")
    return b, evil


def conflicts(report: Path) -> list[tuple[str, str, str, list[str]]]:
    data = json.loads(report.read_text())
    return [
        (f["merge"], f["env"], f["type"], f["paths"])
        for f in data["findings"]
        if f["kind"] == "conflict_merge"
    ]


def test_all_merges_checks_merges_off_the_first_parent_lines(tmp_path: Path) -> None:
    b, evil = feature_with_evil_update(tmp_path)
    report = tmp_path / "r.json"
    assert main(["audit", str(b.path), "--json", str(report)]) == 0
    assert conflicts(report) == []
    assert main(["audit", str(b.path), "--all-merges", "--json", str(report)]) == 0
    assert conflicts(report) == [(evil, "dev", "extra_edit", ["app.txt"])]
    assert git(b.path, "show", "--remerge-diff", "--format=", "--name-only", evil) == "app.txt"
    assert json.loads(report.read_text())["settings"]["all_merges"] is True


def test_all_merges_from_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    b, evil = feature_with_evil_update(tmp_path)
    (tmp_path / ".drift.toml").write_text("all_merges = true\n")
    monkeypatch.chdir(tmp_path)
    assert main(["audit", str(b.path), "--json", "r.json"]) == 0
    assert [c[0] for c in conflicts(tmp_path / "r.json")] == [evil]


def test_bad_all_merges_and_threshold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    b, _ = feature_with_evil_update(tmp_path)
    (tmp_path / ".drift.toml").write_text("all_merges = 'yes'\n")
    monkeypatch.chdir(tmp_path)
    assert main(["audit", str(b.path)]) == 2
    assert "all_merges: expected true or false" in capsys.readouterr().err
    (tmp_path / ".drift.toml").unlink()
    assert main(["audit", str(b.path), "--similar-threshold", "2"]) == 2
    assert "--similar-threshold" in capsys.readouterr().err
