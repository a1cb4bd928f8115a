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
from drift.render import json_report
from drift.render.json_report import OWN, Memo, render_json, replay_json, value_digest
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


@given(st.dictionaries(st.text(), _JSON, max_size=6))
def test_a_memo_renders_the_same_text(data: dict[str, Any]) -> None:
    memo: Memo = {}
    assert render_json(data, memo) == render_json(data) == render_json(data, memo)


@given(st.dictionaries(st.text(), _JSON, max_size=6), st.data())
def test_a_replay_writes_the_rendering_its_memo_holds(data: dict[str, Any], draw: Any) -> None:
    """Every section from the memo alone, except those given live, rendered from their value;
    texts kept as UTF-8 bytes (as a cache entry keeps them) are written as they are."""
    memo: Memo = {}
    render_json(data, memo)
    live = {k: draw.draw(_JSON) for k in data if draw.draw(st.booleans())}
    as_kept: Memo = {k: (tag, str(text).encode()) for k, (tag, text) in memo.items()}
    expected = render_json({k: live.get(k, v) for k, v in data.items()}).encode()
    assert b"".join(replay_json(memo, live)) == b"".join(replay_json(as_kept, live)) == expected
    assert render_json(data, as_kept) == render_json(data)  # kept bytes reused as text


def test_a_section_is_reused_exactly_when_its_value_is_unchanged() -> None:
    findings: list[dict[str, Any]] = [{"id": n, "kind": "pending"} for n in range(500)]
    big: dict[str, Any] = {"findings": findings, "n": 1}
    memo: Memo = {}
    render_json(big, memo)
    assert list(memo) == ["findings", "n"]  # every section, in order
    digest = memo["findings"][0]
    memo["findings"] = (digest, "[REUSED]")  # what reuse looks like
    assert '"findings": [REUSED]' in render_json(big, memo)
    changed = {**big, "findings": [*findings[:-1], {"id": 0, "kind": "divergence"}]}
    memo["findings"] = (digest, "[REUSED]")
    assert render_json(changed, memo) == render_json(changed)
    assert memo["findings"][0] not in (digest, None)


@pytest.mark.parametrize(
    ("a", "b"), [(1, True), (0.0, -0.0), (1, 1.0), ([1], [[1]]), ({"a": 1}, {"b": 1})]
)
def test_values_that_render_differently_have_different_digests(a: Any, b: Any) -> None:
    assert json.dumps(a) != json.dumps(b)
    assert value_digest(a) != value_digest(b)


def test_equal_values_built_differently_have_one_digest() -> None:
    """marshal's newer versions share repeated objects: the digest must not see that."""
    shared = ["x" * 10]
    built_once = {"a": shared, "b": shared}
    built_twice = {"a": ["x" * 10], "b": ["x" * 10]}
    assert value_digest(built_once) == value_digest(built_twice)


def test_an_own_section_is_never_digested_and_reused_only_by_identity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The owner's own sections (a cached report's) are tagged, not digested; a text tagged
    own is reused only for that very object, and a changed section gets a digest."""
    findings: list[dict[str, Any]] = [{"id": n, "kind": "pending"} for n in range(500)]
    own: dict[str, Any] = {"findings": findings}
    digested: list[Any] = []
    real = json_report.value_digest

    def spy(value: Any) -> str | None:
        digested.append(value)
        return real(value)

    monkeypatch.setattr(json_report, "value_digest", spy)
    memo: Memo = {}
    assert render_json(own, memo, own) == render_json(own)
    assert memo["findings"][0] == OWN and digested == []
    memo["findings"] = (OWN, "[REUSED]")
    assert '"findings": [REUSED]' in render_json(own, memo, own)
    equal_copy = [dict(f) for f in findings]  # what CI work makes of it: equal, not the same
    memo["findings"] = (OWN, "[REUSED]")
    assert render_json({"findings": equal_copy}, memo, own) == render_json(own)
    digest = real(equal_copy)
    assert digested == [equal_copy] and digest is not None and memo["findings"][0] == digest
    memo["findings"] = (digest, "[REUSED]")
    assert '"findings": [REUSED]' in render_json({"findings": equal_copy}, memo, own)
    memo["findings"] = (digest, "[REUSED]")  # a digest never stands for `own`
    assert render_json(own, memo, own) == render_json(own)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


@given(_JSON)
def test_a_compact_line_is_json_dumps(value: Any) -> None:
    assert json_report._compact(value) == _dumps(value)


@pytest.mark.parametrize("c_encoder", [True, False])
def test_compact_lines_as_json_dumps_writes_them_with_or_without_the_c_encoder(
    c_encoder: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not c_encoder:
        monkeypatch.setattr(json_report, "_C_ENCODER", None)
    odd = [float("nan"), float("inf"), -0.0, 1e300, 'é\u2028"\\\n', True, None, {"k": [1, 2.5]}]
    for value in odd:
        assert json_report._compact(value) == _dumps(value)
    with pytest.raises(TypeError):
        json_report._compact({"set": {1, 2}})


def test_the_memo_keeps_only_this_renderings_sections() -> None:
    findings = [{"id": n, "kind": "pending"} for n in range(500)]
    memo: Memo = {"ci": ("stale digest", "[a section this report no longer has]")}
    render_json({"findings": findings, "n": 1}, memo)
    assert list(memo) == ["findings", "n"]


@pytest.mark.parametrize("with_memo", [False, True])
def test_a_section_rendered_ahead_is_used_only_for_that_very_value(with_memo: bool) -> None:
    """`sections_ahead` renders a section before the rest of the report exists; its text is
    written wherever the section is the same object, never for an equal one built anew."""
    findings = [{"id": "pending-1", "kind": "pending"}]
    commits = {"a" * 40: {"subject": "x"}}
    ahead = json_report.sections_ahead({"findings": findings, "commits": commits})
    assert {key: text for key, (_, text) in ahead.items()} == {
        "findings": json_report._section(findings),
        "commits": json_report._section(commits),
    }
    ahead["findings"] = (findings, "[1]")  # marked: the text given is the text written
    ahead["commits"] = (commits, "[2]")
    memo: Memo | None = {} if with_memo else None
    same = {"findings": findings, "commits": commits}
    assert json.loads(render_json(same, memo, ahead=ahead)) == {"findings": [1], "commits": [2]}
    equal = {"findings": [dict(findings[0])], "commits": dict(commits)}
    fresh: Memo | None = {} if with_memo else None  # the first memo knows "[1]" by digest
    assert json.loads(render_json(equal, fresh, ahead=ahead)) == equal


def test_the_cli_renders_findings_and_commits_while_the_metrics_are_computed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`drift audit --json` hands the analysis a `meanwhile` that renders the two longest
    sections before it waits for the metrics; the file is the report, byte for byte."""
    from drift.audit import analyse
    from drift.cli import main

    b = four_envs(tmp_path / "repo")
    rendered: list[set[str]] = []
    real = json_report.sections_ahead

    def sections_ahead(sections: dict[str, Any]) -> json_report.Ahead:
        rendered.append(set(sections))
        return real(sections)

    sections: list[int] = []  # each section rendered, by the id of its value
    real_write = json_report._write

    def write(value: Any, indent: str, out: list[str], depth: int) -> None:
        if depth == 1:
            sections.append(id(value))
        real_write(value, indent, out, depth)

    monkeypatch.setattr(json_report, "sections_ahead", sections_ahead)
    monkeypatch.setattr("drift.cli.sections_ahead", sections_ahead)
    monkeypatch.setattr(json_report, "_write", write)
    out = tmp_path / "report.json"
    assert main(["audit", str(b.path), "--json", str(out), "--no-cache", "-q"]) == 0
    assert rendered == [{"findings", "commits"}]
    assert len(sections) == len(set(sections))  # the two rendered ahead were not again
    monkeypatch.setattr(json_report, "_write", real_write)
    written = out.read_text()
    report = analyse(Path(b.path), Settings()).report.to_dict()
    for key in ("findings", "commits"):  # as a plain rendering writes them, byte for byte
        assert f'\n  "{key}": {json_report._section(report[key])},\n' in written
