"""The Markdown view: GitHub-flavoured, escaped, within its size limit."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from drift.audit import run_audit
from drift.config import Settings
from drift.render.markdown import md_escape, render_markdown
from drift_fixtures.demo import build_demo

PAYLOAD = "</script><img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    scenario = build_demo(tmp_path_factory.mktemp("demo"))
    return run_audit(scenario.path, Settings()).to_dict()


def test_escape_neutralises_html_tables_and_autolinks() -> None:
    text = md_escape(f"{PAYLOAD} | see https://evil.example or www.evil.example, @someone [x](y)")
    assert "<" not in text and ">" not in text
    assert "\\|" in text and "|" not in text.replace("\\|", "")
    assert "https://" not in text and "www." not in text and "@s" not in text
    assert "\\[x\\]" in text
    assert "\n" not in md_escape("two\nlines")


def test_demo_report_has_score_risks_and_divergence(demo_data: dict[str, Any]) -> None:
    text = render_markdown(demo_data)
    readiness = demo_data["summary"]["readiness"]
    assert text.startswith(f"## drift: readiness {readiness['score']}/100 ({readiness['band']})")
    assert f"- **{demo_data['summary']['by_kind']['missing_hotfix']}** fixes" in text
    assert "| dev | test | 19 | 5 | 5 | 2 | 11 |" in text
    assert "findings are shown" in text


def test_size_limit_says_what_was_left_out(demo_data: dict[str, Any]) -> None:
    text = render_markdown(demo_data, limit=4000)
    assert len(text) <= 4000
    assert "left out to stay under 4,000 characters" in text


def test_hostile_text_stays_text(demo_data: dict[str, Any]) -> None:
    data = copy.deepcopy(demo_data)
    for info in data["commits"].values():
        info["subject"] = PAYLOAD + " | x"
    text = render_markdown(data)
    assert "<img" not in text and "</script>" not in text
    for line in text.splitlines():
        if line.startswith("| `"):
            assert line.replace("\\|", "").count("|") == 5, line


def test_change_fail_proxy_line(demo_data: dict[str, Any]) -> None:
    fail = demo_data["metrics"]["change_fail_proxy"]
    text = render_markdown(demo_data)
    line = next(x for x in text.splitlines() if x.startswith("**Change-fail proxy**"))
    share = f"{100 * fail['share']:.1f}%"
    assert f"within {fail['days']} days" in line
    assert f"{share} ({fail['followed']} of {fail['releases']} releases)" in line
    few = copy.deepcopy(demo_data)
    few["metrics"]["change_fail_proxy"].update(releases=3)
    assert "Not enough data (n = 3 < 5)." in render_markdown(few)


def test_one_listed_finding_is_named_in_the_singular(demo_data: dict[str, Any]) -> None:
    one = copy.deepcopy(demo_data)
    pending = next(f for f in one["findings"] if f["kind"] == "pending")
    one["findings"] = [f for f in one["findings"] if f["kind"] == "divergence"] + [pending]
    assert "_The finding is shown (promotion merges" in render_markdown(one)
