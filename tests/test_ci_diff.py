"""`drift diff` and `--history`: appeared, resolved, every summary number, in three formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from drift.ci.diff import diff_reports, numbers
from drift.ci.history import read_history, report_name
from drift.ci.views import md, render_diff_markdown, render_diff_terminal
from drift.cli import main
from drift.errors import DriftError
from drift_fixtures.scenarios import module, start

EVIL = "</script><img src=x onerror=alert(1)> | [red]x[/red] http://evil.example"


def test_two_runs_of_a_changing_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = start(tmp_path / "repo", ["dev", "prod"])
    b.commit("Add search", {"shop/search.py": module("Search.", "search")}, label="search")
    history = tmp_path / "history"
    first = ["audit", str(b.path), "--history", str(history), "--no-cache", "-q"]
    assert main([*first, "--json", str(tmp_path / "old.json")]) == 0
    b.checkout("prod")
    b.merge("dev", label="promote")
    b.checkout("dev")
    b.commit(EVIL, {"shop/evil.py": module("Evil.", "evil")}, label="evil")
    assert main([*first, "--json", str(tmp_path / "new.json"), "--as-of", "now"]) == 0
    capsys.readouterr()

    argv = ["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--color", "never"]
    md_out, json_out = tmp_path / "d.md", tmp_path / "d.json"
    assert main([*argv, "--markdown", str(md_out), "--json", str(json_out)]) == 0
    shown = capsys.readouterr().out
    result = json.loads(json_out.read_text())
    assert [a["kind"] for a in result["appeared"]] == ["pending", "promotion_merge"]
    assert [r["kind"] for r in result["resolved"]] == ["pending"]
    moved = {row["name"]: row for row in result["numbers"]}
    assert moved["by_kind.promotion_merge"] == {
        "name": "by_kind.promotion_merge",
        "old": 0,
        "new": 1,
        "delta": 1,
    }
    assert "readiness.score" in moved and "by_pair.dev->prod.counts.pending" in moved
    assert "<img src=x" in shown and "[red]x" in shown  # user text as itself, markup inert
    markdown = md_out.read_text()
    assert "<img" not in markdown and "[red]" not in markdown and "http://" not in markdown
    assert "| by\\_kind.promotion\\_merge | 0 | 1 | +1 |" in markdown

    runs, notes = read_history(history)
    assert len(runs) == 2 and notes == []
    latest = json.loads((tmp_path / "new.json").read_text())
    assert [p["findings"] for p in latest["ci"]["history"]["runs"]] == [2, 3]


def test_numbers_names_list_items() -> None:
    summary = {
        "by_kind": {"pending": 2},
        "by_pair": [{"from": "dev", "to": "prod", "counts": {"pending": 2}}],
        "readiness": {"score": 70, "ok": True, "dimensions": [{"name": "promotion", "score": 9}]},
        "verdict": ["text"],
    }
    assert numbers(summary) == {
        "by_kind.pending": 2,
        "by_pair.dev->prod.counts.pending": 2,
        "readiness.score": 70,
        "readiness.dimensions.promotion.score": 9,
    }


def report(generated_at: str, *ids: str, version: int = 1) -> dict[str, Any]:
    return {
        "schema_version": version,
        "tool": {"name": "drift"},
        "generated_at": generated_at,
        "environments": [{"name": "dev"}, {"name": "prod"}],
        "findings": [{"id": i, "kind": i.split("-")[0]} for i in ids],
        "summary": {"by_kind": {"pending": len(ids)}, "readiness": {"score": 50}},
        "commits": {},
    }


def test_views_of_a_diff() -> None:
    result = diff_reports(report("2026-01-01", "pending-a"), report("2026-01-08", "revert-b"))
    console = Console(record=True, width=120, no_color=True)
    render_diff_terminal(result, console)
    text = console.export_text()
    assert "Appeared (1)" in text and "revert-b" in text and "Resolved (1)" in text
    assert "Numbers (0 moved)" in render_diff_markdown(result)
    assert "by\\_kind.pending | 1 | 1 | 0" in render_diff_markdown(result, everything=True)


def test_reports_of_different_schema_versions_are_refused() -> None:
    with pytest.raises(DriftError, match="different schema versions"):
        diff_reports(report("a"), report("b", version=2))


def test_diff_refuses_files_that_are_not_reports(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(report("2026-01-01")))
    bad.write_text('{"hello": 1}')
    assert main(["diff", str(good), str(bad)]) == 2
    assert main(["diff", str(good), str(tmp_path / "absent.json")]) == 2
    assert main(["diff", str(good), str(good), "--json", "-", "--markdown", "-"]) == 2


def test_diff_refuses_a_finding_without_id_or_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Findings are matched by id: a finding without one once crashed the diff (exit 3)."""
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(report("2026-01-01", "pending-a")))
    for broken in ({"kind": "pending"}, {"id": "pending-a"}, "pending-a"):
        data = report("2026-01-08")
        data["findings"] = [broken]
        bad.write_text(json.dumps(data))
        assert main(["diff", str(good), str(bad)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"drift: error: {bad}: not a whole drift report: finding 1 ")
        assert err.count("\n") == 1
    assert main(["diff", str(good), str(good)]) == 0  # the same shape, whole: compared


def test_history_skips_what_is_not_a_report(tmp_path: Path) -> None:
    (tmp_path / "drift-1.json").write_text(json.dumps(report("2026-01-08")))
    (tmp_path / "drift-0.json").write_text(json.dumps(report("2026-01-01")))
    (tmp_path / "notes.json").write_text("[1, 2")
    runs, notes = read_history(tmp_path)
    assert [r["generated_at"] for r in runs] == ["2026-01-01", "2026-01-08"]
    assert notes == ["notes.json in the history folder is not a drift report: skipped"]
    assert report_name({"generated_at": "2026-11-26T16:15:34Z"}) == "drift-20261126T161534Z.json"


def test_history_skips_reports_whose_trend_values_are_not_drift_s(tmp_path: Path) -> None:
    """A time that is a number, a score that is a word: once copied into the trend."""
    (tmp_path / "drift-0.json").write_text(json.dumps(report("2026-01-01")))
    odd_time = report("x")
    odd_time["generated_at"] = 12
    odd_score = report("2026-01-02")
    odd_score["summary"]["readiness"]["score"] = "abc"
    (tmp_path / "drift-1.json").write_text(json.dumps(odd_time))
    (tmp_path / "drift-2.json").write_text(json.dumps(odd_score))
    runs, notes = read_history(tmp_path)
    assert [r["generated_at"] for r in runs] == ["2026-01-01"]
    assert len(notes) == 2 and all("not a drift report: skipped" in n for n in notes)


def test_history_leaves_out_reports_of_another_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A report of another repository in the folder once became the trend's point before
    this run and the views' "since the report of" (score 61 -> 72)."""
    b = start(tmp_path / "repo", ["dev", "prod"])
    b.commit("Add search", {"shop/search.py": module("Search.", "search")}, label="search")
    history = tmp_path / "history"
    history.mkdir()
    other = report("2026-01-01T00:00:00Z")
    other["environments"] = [{"name": "main"}, {"name": "release"}]
    (history / "drift-20260101T000000Z.json").write_text(json.dumps(other))
    out, md = tmp_path / "r.json", tmp_path / "r.md"
    argv = ["audit", str(b.path), "--history", str(history), "--no-cache", "-q"]
    assert main([*argv, "--json", str(out), "--markdown", str(md)]) == 0
    data = json.loads(out.read_text())
    assert [run["generated_at"] for run in data["ci"]["history"]["runs"]] == [data["generated_at"]]
    assert any("another repository or environment chain" in n for n in data["ci"]["notes"])
    assert "Since the report of" not in md.read_text()
    capsys.readouterr()


def test_history_skips_a_fifo_instead_of_waiting_for_a_writer(tmp_path: Path) -> None:
    """A named pipe called *.json once stopped the run for good: opening it waits for a
    writer. Read in a process of its own, so that the test fails rather than hangs."""
    (tmp_path / "drift-0.json").write_text(json.dumps(report("2026-01-01")))
    os.mkfifo(tmp_path / "x.json")
    code = (
        "import sys; from pathlib import Path; from drift.ci.history import read_history; "
        "runs, notes = read_history(Path(sys.argv[1])); print(len(runs), notes)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=20
    )
    assert done.stdout.strip() == (
        "1 ['x.json in the history folder is not a drift report: skipped']"
    )


def test_markdown_escaping() -> None:
    assert md("a|b <x> `c` *d* mail@x.org https://y") == (
        "a\\|b &lt;x&gt; \\`c\\` \\*d\\* mail&#64;x.org https:&#47;&#47;y"
    )


def test_history_runs_become_trend_lines_in_the_html(tmp_path: Path) -> None:
    """`--history DIR` keeps every report; the HTML then draws score and counts over runs."""
    from drift.cli import main
    from tests.small_repos import four_envs

    b = four_envs(tmp_path)
    history = tmp_path / "history"
    html = tmp_path / "r.html"
    for n in range(3):
        if n:
            b.checkout("prod")
            b.commit(f"prod-only fix {n}", {f"fix{n}.txt": "x\n"})
        argv = ["audit", str(b.path), "--history", str(history), "--html", str(html)]
        assert main(argv) == 0
    page = html.read_text()
    assert 'id="trend-over-runs"' in page
    assert "Fixes missing upstream over 3 runs" in page
    assert len(list(history.glob("*.json"))) == 3
