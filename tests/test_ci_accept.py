"""Accepted drift: baselines and `Drift-Ignore` trailers mark findings, never hide them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from drift.ci.accept import accept, drift_ignore
from drift.ci.baseline import load_baseline
from drift.cli import main
from drift.errors import DriftError
from drift_fixtures.builder import RepoBuilder
from drift_fixtures.scenarios import hotfix_forgotten_on_dev, module, start


def ignored_hotfix(root: Path) -> RepoBuilder:
    """A prod-only hotfix marked `Drift-Ignore`, and a dev feature nobody accepted."""
    b = start(root / "ignored")
    b.checkout("prod")
    b.commit(
        "Turn off the recommendations widget",
        {"shop/flags.py": module("Flags.", "recommendations", "return False")},
        body="Prod only until the data team fixes the feed.\n\n"
        "Drift-Ignore: prod-only kill switch, removed after the incident",
        label="kill",
    )
    b.checkout("dev")
    b.commit("Add gift cards", {"shop/gift.py": module("Gift cards.", "gift")}, label="gift")
    return b


def audit(argv: list[str], out: Path) -> dict[str, Any]:
    main([*argv, "--json", str(out), "--no-cache", "-q"])
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def test_trailer_parsing() -> None:
    assert drift_ignore("Fix\n\nDrift-Ignore: prod only\n") == "prod only"
    assert drift_ignore("Fix\n\ndrift-ignore:   two  words  \n") == "two  words"
    assert drift_ignore("Fix\n\nDrift-Ignore:\n") is None
    assert drift_ignore("Fix the Drift-Ignore: parser") is None


MESSAGES = [
    "Fix\n\nDrift-Ignore: prod only\n",
    "feat z\n\nDrift-Ignore: mid body\n\nSigned-off-by: A <a@b.c>\n",
    "feat\nDrift-Ignore: in the title\n",
    "Drift-Ignore: only a title\n",
    "Fix\n\nSome body text.\nDrift-Ignore: in a body paragraph\n",
    "Fix\n\nbody\n\nDrift-Ignore: keep on prod\nSigned-off-by: A <a@b.c>\n",
    "Fix\n\nbody\n\nA note\nDrift-Ignore: x\nSigned-off-by: A <a@b.c>\n"
    "(cherry picked from commit abcdef1)\n",
    "Fix\n\nDrift-Ignore: first\nDrift-Ignore: second\n",
    "Fix\n\ndrift-ignore:   two  words  \n",
    "Fix\n\nDrift-Ignore: wrapped\n  over two lines\n",
    "Fix\n\none\ntwo\nthree\nDrift-Ignore: a quarter\nSigned-off-by: A <a@b.c>\n",
    "Fix\n\n1\n2\n3\n4\n5\n6\n7\nDrift-Ignore: under a quarter\nSigned-off-by: A <a@b.c>\n",
]


@pytest.mark.parametrize("message", MESSAGES)
def test_a_drift_ignore_counts_where_git_reads_trailers(message: str) -> None:
    """Only the trailer block `git interpret-trailers --parse` reads: a `Drift-Ignore:` in the
    title or the body was once taken as the author's decision (found by the CI sweep)."""
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"],
        input=message,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    reasons = [
        value.strip()
        for key, _, value in (line.partition(":") for line in parsed)
        if key.strip().lower() == "drift-ignore"
    ]
    assert drift_ignore(message) == (reasons[-1] if reasons else None)


def test_a_trailer_accepts_every_finding_about_its_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = ignored_hotfix(tmp_path)
    gates = ["--fail-on", "missing_hotfix,hotfix,pending"]
    assert main(["audit", str(b.path), "--no-cache", *gates]) == 1
    out = capsys.readouterr().out
    assert "fail-on missing_hotfix passed" in out and "fail-on pending tripped" in out
    assert "Accepted drift" in out and "prod-only kill switch" in out
    data = audit(["audit", str(b.path)], tmp_path / "r.json")
    about_kill = [f for f in data["findings"] if b.labels["kill"] in json.dumps(f)]
    assert {f["kind"] for f in about_kill} >= {"hotfix", "missing_hotfix"}
    for finding in about_kill:
        if finding["kind"] != "divergence":
            assert finding["accepted"] == {
                "reason": "prod-only kill switch, removed after the incident",
                "source": "trailer",
                "commit": b.labels["kill"],
            }
    gift = [f for f in data["findings"] if f.get("commit") == b.labels["gift"]]
    assert gift and not any(f.get("accepted") for f in gift)
    accepted = data["summary"]["accepted"]
    assert accepted["total"] == len([f for f in data["findings"] if f.get("accepted")])
    assert accepted["by_source"] == {"baseline": 0, "trailer": accepted["total"]}
    assert sum(data["summary"]["by_kind"].values()) == len(data["findings"])  # nothing hidden


def test_baseline_accepts_known_findings_and_reports_resolved_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = hotfix_forgotten_on_dev(tmp_path).path
    baseline = tmp_path / "baseline.json"
    assert main(["baseline", "write", str(baseline), str(repo)]) == 0
    written = json.loads(baseline.read_text())
    missing = next(e for e in written["findings"] if e["kind"] == "missing_hotfix")
    assert missing["description"].startswith("missing_hotfix prod ")
    assert "Fix tax rounding on invoices" in missing["description"]
    missing["reason"] = "tracked in OPS-12"
    written["findings"].append(
        {"id": "pending-000000000000", "kind": "pending", "description": "gone", "reason": "x"}
    )
    baseline.write_text(json.dumps(written))
    gates = ["--fail-on", "missing_hotfix,pending", "--baseline", str(baseline)]
    data = audit(["audit", str(repo), *gates], tmp_path / "r.json")
    assert all(f["accepted"]["source"] == "baseline" for f in data["findings"])
    (found,) = [f for f in data["findings"] if f["kind"] == "missing_hotfix"]
    assert found["accepted"]["reason"] == "tracked in OPS-12"
    assert data["ci"]["baseline"]["new"] == []
    assert [e["id"] for e in data["ci"]["baseline"]["resolved"]] == ["pending-000000000000"]
    assert {g["status"] for g in data["ci"]["gates"]} == {"passed"}
    capsys.readouterr()
    assert main(["audit", str(repo), *gates, "--no-cache"]) == 0
    assert "0 new finding(s), 1 resolved" in capsys.readouterr().out


def test_new_findings_trip_gates_despite_a_baseline(tmp_path: Path) -> None:
    b = ignored_hotfix(tmp_path)
    baseline = tmp_path / "b.json"
    assert main(["baseline", "write", str(baseline), str(b.path)]) == 0
    b.checkout("dev")
    b.commit("Add coupons", {"shop/coupon.py": module("Coupons.", "coupon")}, label="coupon")
    data = audit(
        ["audit", str(b.path), "--baseline", str(baseline), "--fail-on", "pending"],
        (tmp_path / "r.json"),
    )
    (gate,) = data["ci"]["gates"]
    assert gate["status"] == "tripped"
    new = [f for f in data["findings"] if f["id"] in gate["findings"]]
    assert [f["commit"] for f in new] == [b.labels["coupon"]]


def test_a_baseline_for_another_chain_cannot_be_evaluated(tmp_path: Path) -> None:
    repo = hotfix_forgotten_on_dev(tmp_path).path
    baseline = tmp_path / "b.json"
    main(["baseline", "write", str(baseline), str(repo), "--envs", "dev,prod"])
    argv = ["audit", str(repo), "--baseline", str(baseline), "--fail-on", "revert"]
    data = audit(argv, tmp_path / "r.json")
    assert data["ci"]["gates"][-1]["gate"] == "baseline"
    assert data["ci"]["gates"][-1]["status"] == "not_evaluated"
    assert main([*argv, "--no-cache", "-q"]) == 1


def _baseline(**broken: Any) -> str:
    """A baseline as `drift baseline write` writes it, with one field edited."""
    entry = {
        "id": "pending-1817e536fa76",
        "kind": broken.get("kind", "pending"),
        "identity": broken.get("identity", {"commit": "95de278", "downstream": "prod"}),
        "reason": broken.get("reason", "known"),
    }
    raw = {
        "format": "drift-baseline",
        "version": 1,
        "written_at": broken.get("written_at", "2026-01-01T00:00:00Z"),
        "environments": broken.get("environments", ["dev", "prod"]),
        "findings": [entry, entry] if broken.get("twice") else [entry],
    }
    return json.dumps(raw)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{", "cannot be read as JSON"),
        ('{"format": "other"}', "not a drift baseline"),
        ('{"format": "drift-baseline", "version": 9}', "baseline version 9"),
        ('{"format": "drift-baseline", "version": 1, "findings": [1]}', "must be a list"),
        # edited by hand: what drift wrote keeps its type (the CI sweep found each accepted)
        (_baseline(environments="dev,prod"), "list of environment names"),
        (_baseline(written_at=5), "written_at"),
        (_baseline(reason=["x"]), "reason must be text"),
        (_baseline(kind="bogus"), "is not the kind its id names"),
        (_baseline(kind="revert"), "is not the kind its id names"),
        (_baseline(identity="abc"), "identity must be an object"),
        (_baseline(twice=True), "listed twice"),
    ],
)
def test_a_bad_baseline_is_a_usage_error(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "b.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DriftError, match=message):
        load_baseline(path)


def test_the_unedited_baseline_of_those_cases_loads(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(_baseline())
    loaded = load_baseline(path)
    assert loaded.environments == ("dev", "prod") and list(loaded.entries) == [
        "pending-1817e536fa76"
    ]


def test_accept_leaves_the_input_alone() -> None:
    data: dict[str, Any] = {
        "findings": [{"id": "revert-1", "kind": "revert", "revert": "a" * 40}],
        "summary": {},
    }
    out = accept(data, trailers={"a" * 40: "on purpose"})
    assert "accepted" not in data["findings"][0] and "accepted" not in data["summary"]
    assert out["findings"][0]["accepted"]["source"] == "trailer"


def test_rewriting_a_baseline_keeps_the_reasons_people_wrote(tmp_path: Path) -> None:
    repo = hotfix_forgotten_on_dev(tmp_path).path
    baseline = tmp_path / "b.json"
    assert main(["baseline", "write", str(baseline), str(repo)]) == 0
    written = json.loads(baseline.read_text())
    written["findings"][0]["reason"] = "OPS-7: prod keeps its own banner"
    baseline.write_text(json.dumps(written))
    assert main(["baseline", "write", str(baseline), str(repo)]) == 0
    assert json.loads(baseline.read_text())["findings"][0]["reason"].startswith("OPS-7")
    other = tmp_path / "notes.json"
    other.write_text('{"not": "a baseline"}')
    assert main(["baseline", "write", str(other), str(repo)]) == 2  # refused, not overwritten
    assert other.read_text() == '{"not": "a baseline"}'
