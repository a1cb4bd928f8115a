"""The JSON report's layout: the same data as json.dumps, one finding or commit per line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drift.audit import run_audit
from drift.config import Settings
from drift.render.json_report import render_json
from tests.small_repos import four_envs

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@given(st.dictionaries(st.text(), _JSON, max_size=6))
def test_any_data_reads_back_unchanged(data: dict[str, Any]) -> None:
    text = render_json(data)
    assert json.loads(text) == data
    assert text.endswith("}\n")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    b = four_envs(tmp_path_factory.mktemp("layout"))
    data: dict[str, Any] = run_audit(Path(b.path), Settings(), now=0).to_dict()
    return data


def test_each_finding_and_commit_is_one_line(report: dict[str, Any]) -> None:
    """A diff of two reports then reads as findings added and removed."""
    lines = render_json(report).splitlines()
    for finding in report["findings"]:
        compact = json.dumps(finding, ensure_ascii=False, separators=(", ", ": "))
        assert sum(line.strip().rstrip(",") == compact for line in lines) == 1
    for commit_id, facts in report["commits"].items():
        compact = json.dumps(facts, ensure_ascii=False, separators=(", ", ": "))
        assert f'    "{commit_id}": {compact}' in lines or f'    "{commit_id}": {compact},' in lines
    assert lines[0] == "{" and lines[1].startswith('  "schema_version": ')


def test_text_is_written_as_utf8_not_escaped() -> None:
    data = {"subject": 'Ünïcode "quoted" déjà'}
    text = render_json(data)
    assert "Ünïcode" in text and "déjà" in text and json.loads(text) == data
