"""Commit links: a URL template from config reaches the HTML and survives re-rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drift.cli import main
from tests.small_repos import four_envs


def test_commit_url_from_config_links_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = four_envs(tmp_path)
    work = tmp_path / "cwd"
    work.mkdir()
    (work / ".drift.toml").write_text('commit_url = "https://code.acme.test/shop/c/{commit}"\n')
    monkeypatch.chdir(work)
    assert main(["audit", str(b.path), "--json", "r.json", "--html", "r.html"]) == 0
    hot = b.labels["hot"]
    assert f"https://code.acme.test/shop/c/{hot}" in (work / "r.html").read_text()
    data = json.loads((work / "r.json").read_text())
    assert data["settings"]["commit_url"] == "https://code.acme.test/shop/c/{commit}"
    # re-rendered without the repository (and without the config): the same links
    (work / ".drift.toml").unlink()
    assert main(["report", "r.json", "--markdown", "r.md", "--html", "again.html"]) == 0
    assert f"https://code.acme.test/shop/c/{hot}" in (work / "again.html").read_text()


def test_bad_commit_url_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    b = four_envs(tmp_path)
    (tmp_path / ".drift.toml").write_text('commit_url = "https://code.acme.test/shop/c/"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["audit", str(b.path)]) == 2
    assert "commit_url" in capsys.readouterr().err


@pytest.mark.parametrize("template", ["javascript:alert(1)//{commit}", "data:text/html,{commit}"])
def test_a_link_template_that_is_not_http_is_refused(
    template: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The template may come from the audited repository's own config, and reports are
    shared: only http(s) links are ever written, from config or from the command line."""
    b = four_envs(tmp_path)
    html = tmp_path / "r.html"
    assert main(["audit", str(b.path), "-q", "--commit-url", template, "--html", str(html)]) == 2
    assert capsys.readouterr().err == (
        f"drift: error: --commit-url: expected an http:// or https:// URL, got {template!r}\n"
    )
    (tmp_path / ".drift.toml").write_text(f"commit_url = {json.dumps(template)}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["audit", str(b.path), "-q", "--html", str(html)]) == 2
    assert "commit_url: expected an http:// or https:// URL" in capsys.readouterr().err
    assert not html.exists()


def test_views_survive_an_empty_metrics_window(tmp_path: Path) -> None:
    """`--as-of` years after the last commit: the window is empty, rates are undefined
    (None), and every view still renders ("not enough data"), never crashes."""
    b = four_envs(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    argv = ["audit", str(b.path), "--as-of", "2031-01-01", "--json", str(out / "r.json")]
    assert main([*argv, "--html", str(out / "r.html"), "--markdown", str(out / "r.md")]) == 0
    data = json.loads((out / "r.json").read_text())
    assert data["metrics"]["hotfixes"]["rate"] is None
    assert "Not enough data" in (out / "r.html").read_text()
