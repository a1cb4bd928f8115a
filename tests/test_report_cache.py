"""The report cache: an unchanged repository is answered without analysis, and any change of
what the audit reads (refs, repository config, settings, drift's code) is a miss."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from drift import audit as audit_module
from drift import cli
from drift.ci import cache as commit_cache
from drift.ci import report_cache
from drift.ci.report_cache import FOLDER, KEEP, CachedReport, ReportCache, report_key
from drift.config import Settings
from drift.git.repository import GitRepository
from tests.gitoracle import rev_count
from tests.small_repos import four_envs
from tests.test_ci_accept import ignored_hotfix


def run(
    argv: list[str], out: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], str]:
    """`drift audit ... --json out --debug`: exit code, the report without its clock, stderr."""
    code = cli.main([*argv, "--json", str(out), "--debug"])
    err = capsys.readouterr().err
    data: dict[str, Any] = json.loads(out.read_text())
    data.pop("generated_at")
    return code, data, err


def forbid_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    def analyse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the engine ran although nothing changed")

    monkeypatch.setattr(audit_module, "analyse", analyse)


def test_an_unchanged_repository_is_answered_without_analysis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    b = four_envs(tmp_path)
    argv = ["audit", str(b.path), "--cache", str(tmp_path / "cache")]
    _, cold, err = run(argv, tmp_path / "cold.json", capsys)
    assert "cached report" not in err and "drift: walk:" in err
    forbid_analysis(monkeypatch)

    def check(path: Path) -> str | None:
        raise AssertionError("the commit cache was opened although the report cache answered")

    monkeypatch.setattr(commit_cache, "_check", check)
    _, warm, err = run(argv, tmp_path / "warm.json", capsys)
    assert "drift: cached report:" in err
    assert warm == cold
    cold_text = (tmp_path / "cold.json").read_text().splitlines()
    warm_text = (tmp_path / "warm.json").read_text().splitlines()
    assert [line for line in warm_text if "generated_at" not in line] == [
        line for line in cold_text if "generated_at" not in line
    ]


def _new_commit_on_test(b: Any, tmp: Path) -> list[str]:
    b.checkout("test")
    b.commit("late fix on test", {"late.py": "1\n"})
    b.checkout("dev")
    return []


def _new_tag(b: Any, tmp: Path) -> list[str]:
    b.git("tag", "v9", "dev~1")
    return []


def _remote_url(b: Any, tmp: Path) -> list[str]:
    b.git("remote", "add", "origin", "https://github.com/acme/shop.git")
    return []


def _other_settings(b: Any, tmp: Path) -> list[str]:
    return ["--envs", "dev,test,prod"]


def _other_code(b: Any, tmp: Path) -> list[str]:
    real = report_cache._code_digest
    report_cache._code_digest = lambda: real() + "an edited drift"
    return []


def _grafts(b: Any, tmp: Path) -> list[str]:
    """dev's tip given its grandparent as parent: git and drift then count other commits."""
    tip, grandparent = b.git("rev-parse", "dev", "dev~2").split()
    (b.path / ".git" / "info").mkdir(exist_ok=True)
    (b.path / ".git" / "info" / "grafts").write_text(f"{tip} {grandparent}\n")
    return []


@pytest.mark.parametrize(
    "change", [_new_commit_on_test, _new_tag, _remote_url, _other_settings, _other_code, _grafts]
)
def test_any_change_of_what_the_audit_reads_is_a_miss(
    change: Callable[[Any, Path], list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(report_cache, "_code_digest", report_cache._code_digest)
    b = four_envs(tmp_path)
    cached = ["audit", str(b.path), "--cache", str(tmp_path / "cache")]
    run(cached, tmp_path / "first.json", capsys)
    extra = change(b, tmp_path)
    _, again, err = run([*cached, *extra], tmp_path / "again.json", capsys)
    assert "cached report" not in err
    _, fresh, _ = run(["audit", str(b.path), "--no-cache", *extra], tmp_path / "f.json", capsys)
    assert again == fresh
    # ... and the new answer is what the next unchanged run reuses.
    _, third, err = run([*cached, *extra], tmp_path / "third.json", capsys)
    assert "drift: cached report:" in err and third == fresh


def test_an_entry_that_cannot_be_moved_into_place_leaves_no_temporary_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its name taken by a folder: the entry is not written, said in a note, and the temporary
    file it was written to is removed (it was left behind, 51 KB, on every such run)."""
    b = four_envs(tmp_path)
    cached = ["audit", str(b.path), "--cache", str(tmp_path / "cache")]
    run(cached, tmp_path / "first.json", capsys)
    folder = tmp_path / "cache" / FOLDER
    (entry,) = [p for p in folder.iterdir() if not p.name.startswith(".")]
    entry.unlink()
    entry.mkdir()
    assert cli.main([*cached, "-v", "--json", str(tmp_path / "again.json")]) == 0
    shown = capsys.readouterr()
    assert "cannot be written" in shown.out + shown.err
    assert sorted(p.name for p in folder.iterdir()) == [entry.name]


def test_a_grafted_history_is_counted_as_git_counts_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With `info/grafts`, ahead and behind of every pair are `git rev-list --count`'s (git
    reads the grafts too), cached or not."""
    b = four_envs(tmp_path)
    cache = tmp_path / "cache"
    run(["audit", str(b.path), "--cache", str(cache)], tmp_path / "before.json", capsys)
    _grafts(b, tmp_path)
    for extra in (["--cache", str(cache)], ["--no-cache"]):
        _, data, _ = run(["audit", str(b.path), *extra], tmp_path / "r.json", capsys)
        for finding in data["findings"]:
            if finding["kind"] == "divergence":
                up, down = finding["upstream"], finding["downstream"]
                assert finding["ahead"] == rev_count(b.path, f"{up}..{down}"), (up, down)
                assert finding["behind"] == rev_count(b.path, f"{down}..{up}"), (up, down)


def test_a_new_commit_changes_the_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not only a miss: the report after the change is the new one, not the cached one."""
    b = four_envs(tmp_path)
    cached = ["audit", str(b.path), "--cache", str(tmp_path / "cache")]
    _, before, _ = run(cached, tmp_path / "a.json", capsys)
    _new_commit_on_test(b, tmp_path)
    _, after, _ = run(cached, tmp_path / "b.json", capsys)
    assert after["environments"][1]["commit"] == b.git("rev-parse", "test")
    assert after["environments"][1]["commit"] != before["environments"][1]["commit"]


def test_ci_work_is_done_on_every_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gates, trailers and baselines are applied after the cache: a hit gates the same."""
    b = ignored_hotfix(tmp_path)
    argv = ["audit", str(b.path), "--cache", str(tmp_path / "cache")]
    argv += ["--fail-on", "missing_hotfix,pending"]
    code, cold, _ = run(argv, tmp_path / "cold.json", capsys)
    forbid_analysis(monkeypatch)
    warm_code, warm, err = run(argv, tmp_path / "warm.json", capsys)
    assert "drift: cached report:" in err
    assert code == warm_code == 1
    assert warm == cold
    assert warm["summary"]["accepted"]["by_source"]["trailer"] > 0
    assert [g["status"] for g in warm["ci"]["gates"]] == [g["status"] for g in cold["ci"]["gates"]]


@pytest.mark.parametrize("damage", ["truncate", "flip", "foreign", "swapped"])
def test_a_damaged_entry_is_deleted_and_never_trusted(
    damage: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    b = four_envs(tmp_path)
    argv = ["audit", str(b.path), "--cache", str(tmp_path / "cache")]
    _, cold, _ = run(argv, tmp_path / "cold.json", capsys)
    (entry,) = (tmp_path / "cache" / FOLDER).iterdir()
    blob = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(blob[: len(blob) // 2])
    elif damage == "flip":
        entry.write_bytes(blob[:-10] + bytes([blob[-10] ^ 0xFF]) + blob[-9:])
    elif damage == "foreign":
        entry.write_bytes(b"not a drift cache entry at all")
    else:  # a well-formed entry of another report behind this one's check
        other = marshal.dumps({**cold, "findings": []})
        head = {"trailers": {}, "plain": False, "screens": {}, "json": {}}
        body = marshal.dumps({**head, "report": (0, len(other))})
        magic = len(report_cache._MAGIC)  # then the head's length and the CRC of the rest
        crc = blob[magic + 8 : magic + 12]
        entry.write_bytes(blob[:magic] + len(body).to_bytes(8, "little") + crc + body + other)
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)  # a later run: the entry has no time
    code = cli.main([*argv, "--json", str(tmp_path / "again.json"), "--debug"])
    captured = capsys.readouterr()
    assert code == 0
    assert "cached report" not in captured.err
    assert "failed its check: deleted" in captured.out
    again = json.loads((tmp_path / "again.json").read_text())
    again.pop("generated_at")
    assert again == cold
    assert _entry(entry.read_bytes()) == _entry(blob)  # rebuilt by the run that found it damaged


def _entry(blob: bytes) -> tuple[Any, bytes, Any]:
    """A report-cache entry as what it holds: its head, its JSON texts (bytes as written) and
    its report decoded. marshal's bytes for equal data depend on which objects the run that
    wrote them shared (strings read from the per-commit cache or from the object store), so
    the report is compared by value."""
    magic = len(report_cache._MAGIC)
    size = int.from_bytes(blob[magic : magic + 8], "little")
    head = marshal.loads(blob[magic + 12 : magic + 12 + size])
    body = blob[magic + 12 + size :]
    start, end = head["report"]
    return head, body[:start], marshal.loads(body[start:end])


def test_a_partial_clone_is_never_answered_from_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fetching missing objects changes the answer without changing a ref."""
    b = four_envs(tmp_path)
    b.git("config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "blobless"
    subprocess.run(
        ["git", "clone", "-q", "--bare", "--filter=blob:none", f"file://{b.path}", str(clone)],
        check=True,
    )
    for branch in ("test", "staging", "prod"):
        subprocess.run(["git", "-C", str(clone), "fetch", "-q", "origin", branch], check=True)
    cache = tmp_path / "cache"
    for name in ("one.json", "two.json"):
        _, _, err = run(["audit", str(clone), "--cache", str(cache)], tmp_path / name, capsys)
        assert "cached report" not in err
    assert not (cache / FOLDER).exists() or not list((cache / FOLDER).iterdir())
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth=1", f"file://{b.path}", str(shallow)], check=True
    )
    for path in (clone, shallow):
        assert report_key(GitRepository.open(path), Settings()) is None
    assert report_key(GitRepository.open(b.path), Settings()) is not None


def test_only_the_newest_entries_are_kept(tmp_path: Path) -> None:
    cache = ReportCache(tmp_path)
    report: dict[str, Any] = {"findings": [], "summary": {}}
    long_ago = time.time() - 1000
    for n in range(KEEP + 3):
        cache.store(f"key{n:02d}", CachedReport(report, {}))
        os.utime(tmp_path / FOLDER / f"key{n:02d}", (long_ago + n, long_ago + n))
    kept = sorted(p.name for p in (tmp_path / FOLDER).iterdir())
    assert kept == [f"key{n:02d}" for n in range(3, KEEP + 3)]
    newest = cache.load(f"key{KEEP + 2:02d}")
    assert newest is not None and newest.trailers == {}
    assert newest.report == {**report, "generated_at": ""}  # no time kept
    assert not cache.notes


def test_a_hit_reuses_json_sections_only_while_they_match(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry keeps the JSON texts of the report's large sections. A hit with the same CI
    work rewrites nothing; a hit whose CI work changes a section (a baseline now accepts
    findings) writes that section anew, the same as a run without cache, and keeps it."""
    b = ignored_hotfix(tmp_path)
    cache = tmp_path / "cache"
    argv = ["audit", str(b.path), "--cache", str(cache)]
    _, cold, _ = run(argv, tmp_path / "cold.json", capsys)
    (entry,) = (cache / FOLDER).iterdir()
    stored = ReportCache(cache).load(entry.name)
    assert stored is not None and {"findings", "commits"} <= set(stored.json)
    blob = entry.read_bytes()
    forbid_analysis(monkeypatch)
    _, warm, _ = run(argv, tmp_path / "warm.json", capsys)
    assert warm == cold and entry.read_bytes() == blob

    baseline = tmp_path / "baseline.json"
    monkeypatch.undo()
    assert cli.main(["baseline", "write", str(baseline), str(b.path)]) == 0
    plain = ["audit", str(b.path), "--no-cache", "--baseline", str(baseline)]
    _, fresh, _ = run(plain, tmp_path / "fresh.json", capsys)
    forbid_analysis(monkeypatch)
    with_baseline = [*argv, "--baseline", str(baseline)]
    _, accepted, err = run(with_baseline, tmp_path / "accepted.json", capsys)
    assert "drift: cached report:" in err
    assert accepted == fresh != cold
    texts = [(tmp_path / n).read_text().splitlines() for n in ("accepted.json", "fresh.json")]
    assert [[line for line in t if "generated_at" not in line] for t in texts] == [
        [line for line in texts[1] if "generated_at" not in line]
    ] * 2
    assert all(f.get("accepted") for f in accepted["findings"])
    assert entry.read_bytes() != blob  # the new findings text is kept for the next run
    again = ReportCache(cache).load(entry.name)
    assert again is not None and again.report == stored.report
    assert again.json["findings"] != stored.json["findings"]


def test_a_text_ci_work_changed_is_never_reused_for_the_report_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run with a baseline keeps the accepted findings' text; the next run without it
    renders the report's own findings (no trailer here: nothing else accepts them)."""
    b = four_envs(tmp_path)
    baseline = tmp_path / "baseline.json"
    assert cli.main(["baseline", "write", str(baseline), str(b.path)]) == 0
    _, plain, _ = run(["audit", str(b.path), "--no-cache"], tmp_path / "plain.json", capsys)
    argv = ["audit", str(b.path), "--cache", str(tmp_path / "cache")]
    _, accepted, _ = run([*argv, "--baseline", str(baseline)], tmp_path / "a.json", capsys)
    assert all(f.get("accepted") for f in accepted["findings"])
    forbid_analysis(monkeypatch)
    _, warm, err = run(argv, tmp_path / "warm.json", capsys)
    assert "drift: cached report:" in err
    assert warm == plain


def test_a_hit_writes_its_own_time_even_if_every_section_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored report has no time: no stored text may stand for the time of the run that
    stored it, though every section's text is kept."""
    b = four_envs(tmp_path)
    argv = ["audit", str(b.path), "--cache", str(tmp_path / "cache"), "--json"]
    assert cli.main([*argv, str(tmp_path / "cold.json")]) == 0
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)
    assert cli.main([*argv, str(tmp_path / "warm.json"), "--timings"]) == 0
    assert "drift: cached report" in capsys.readouterr().err
    warm = json.loads((tmp_path / "warm.json").read_text())
    assert warm["generated_at"] == "2033-05-18T03:33:20Z"


def test_a_run_without_json_fills_the_cache_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The terminal summary alone (no --json): the analysed report is kept all the same, and
    the next run, with --json, is answered from it and writes what a fresh analysis writes."""
    b = four_envs(tmp_path)
    cached = ["audit", str(b.path), "--cache", str(tmp_path / "cache")]
    assert cli.main(cached) == 0
    capsys.readouterr()
    _, fresh, _ = run(["audit", str(b.path), "--no-cache"], tmp_path / "fresh.json", capsys)
    forbid_analysis(monkeypatch)
    _, warm, err = run(cached, tmp_path / "warm.json", capsys)
    assert "drift: cached report:" in err and warm == fresh


class Decodes:
    """Counts how often a cached report is decoded (a replay never decodes it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = CachedReport.report

        def report(entry: CachedReport) -> dict[str, Any]:
            if not isinstance(entry.source, dict):
                self.count += 1
            return real.fget(entry)  # type: ignore[attr-defined,no-any-return]

        monkeypatch.setattr(CachedReport, "report", property(report))


def plain_run(argv: list[str], out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """`drift audit ...` as a user runs it (no --debug): stdout, and the JSON text without its
    time."""
    assert cli.main([*argv, "--json", str(out)]) == 0
    lines = out.read_text().splitlines(keepends=True)
    return capsys.readouterr().out, "".join(line for line in lines if "generated_at" not in line)


def test_a_plain_hit_replays_what_the_plain_run_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No CI work of its own and nothing changed: the JSON text and the terminal summary are
    those of the run that stored the entry, byte for byte, with this run's time; the report is
    never decoded. The same as a fresh analysis writes."""
    b = four_envs(tmp_path)
    out = tmp_path / "report.json"
    argv = ["audit", str(b.path), "--cache", str(tmp_path / "cache")]
    fresh = plain_run(["audit", str(b.path), "--no-cache"], out, capsys)
    cold = plain_run(argv, out, capsys)
    decodes = Decodes(monkeypatch)
    forbid_analysis(monkeypatch)
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)
    warm = plain_run(argv, out, capsys)
    assert decodes.count == 0
    assert warm == cold == fresh
    assert "Findings by kind" in warm[0] and '"findings": [' in warm[1]
    assert json.loads(out.read_text())["generated_at"] == "2033-05-18T03:33:20Z"
    assert cli.main([*argv, "--verbose"]) == 0
    assert "outputs of the same plain run replayed" in capsys.readouterr().out
    assert cli.main([*argv, "--json", "-", "--quiet"]) == 0  # to stdout, as bytes
    text = capsys.readouterr().out
    assert "".join(x for x in text.splitlines(True) if "generated_at" not in x) == fresh[1]
    assert decodes.count == 0


@pytest.mark.parametrize(
    "other",
    [
        ["--color", "always"],
        ["--fail-on", "cross_merge"],
        ["--html", "{tmp}/r.html"],
        ["--debug"],
    ],
)
def test_a_hit_replays_only_what_this_run_would_write(
    other: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another console, a gate, a view or debug lines: the report is decoded and rendered, as
    a fresh analysis renders it. A summary for another console is kept for the next run."""
    other = [arg.replace("{tmp}", str(tmp_path)) for arg in other]
    b = four_envs(tmp_path)
    out = tmp_path / "report.json"
    argv = ["audit", str(b.path), "--cache", str(tmp_path / "cache")]
    fresh = plain_run(["audit", str(b.path), "--no-cache", *other], out, capsys)
    plain_run(argv, out, capsys)
    decodes = Decodes(monkeypatch)
    forbid_analysis(monkeypatch)
    assert plain_run([*argv, *other], out, capsys) == fresh
    assert decodes.count == 1
    again = plain_run([*argv, *other], out, capsys)
    assert again == fresh
    replayed = other == ["--color", "always"]  # the others always need the report
    assert decodes.count == (1 if replayed else 2)
    if replayed:
        assert "\x1b[" in again[0]  # the coloured summary, not the plain one


def test_a_hit_with_trailers_to_accept_is_never_replayed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drift-Ignore trailers mark findings on every run: that is CI work of the run's own."""
    b = ignored_hotfix(tmp_path)
    out = tmp_path / "report.json"
    argv = ["audit", str(b.path), "--cache", str(tmp_path / "cache")]
    fresh = plain_run(["audit", str(b.path), "--no-cache"], out, capsys)
    plain_run(argv, out, capsys)
    decodes = Decodes(monkeypatch)
    assert plain_run(argv, out, capsys) == fresh
    assert decodes.count == 1 and '"accepted": {' in fresh[1]


@pytest.mark.parametrize(
    "second",
    [
        {"width": 90},
        {"color_system": None},
        {"no_color": True},
        {"legacy_windows": True},
    ],
)
def test_a_summary_is_replayed_only_on_the_console_it_was_rendered_for(
    second: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Width, colours and terminal decide the summary's text: another console renders anew."""
    from rich.console import Console

    first: dict[str, Any] = {"width": 130, "color_system": "truecolor", "force_terminal": True}
    b = four_envs(tmp_path)
    out = tmp_path / "report.json"
    argv = ["audit", str(b.path), "--cache", str(tmp_path / "cache")]
    monkeypatch.setattr(cli, "_console", lambda color: Console(**{**first, **second}))
    fresh = plain_run(["audit", str(b.path), "--no-cache"], out, capsys)
    monkeypatch.setattr(cli, "_console", lambda color: Console(**first))
    plain_run(argv, out, capsys)
    assert plain_run(argv, out, capsys)[0] != fresh[0]
    decodes = Decodes(monkeypatch)
    monkeypatch.setattr(cli, "_console", lambda color: Console(**{**first, **second}))
    assert plain_run(argv, out, capsys) == fresh
    assert decodes.count == 1


def test_a_console_that_is_never_replayed_prints_its_summary_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A legacy Windows console colours through calls, not text: its summary is printed by
    rich itself, never captured as text to be written (or kept) by drift."""
    from rich.console import Console

    def no_capture(self: Console) -> Any:
        raise AssertionError("a legacy console's summary was captured")

    b = four_envs(tmp_path)
    monkeypatch.setattr(cli, "_console", lambda color: Console(legacy_windows=True, width=100))
    fresh = plain_run(["audit", str(b.path), "--no-cache"], tmp_path / "a.json", capsys)
    monkeypatch.setattr(Console, "capture", no_capture)
    argv = ["audit", str(b.path), "--cache", str(tmp_path / "cache")]
    assert plain_run(argv, tmp_path / "a.json", capsys) == fresh
    (entry,) = (tmp_path / "cache" / FOLDER).iterdir()
    stored = ReportCache(tmp_path / "cache").load(entry.name)
    assert stored is not None and stored.screens == {}


def test_a_hit_with_a_history_folder_is_never_replayed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A history folder gains this run's report: the report is decoded and written there."""
    b = four_envs(tmp_path)
    argv = ["audit", str(b.path), "--cache", str(tmp_path / "cache")]
    plain_run(argv, tmp_path / "a.json", capsys)
    decodes = Decodes(monkeypatch)
    forbid_analysis(monkeypatch)
    runs = tmp_path / "runs"
    out, _ = plain_run([*argv, "--history", str(runs)], tmp_path / "b.json", capsys)
    assert decodes.count == 1 and "Report added to the history" in out
    (kept,) = runs.iterdir()
    written = json.loads((tmp_path / "b.json").read_text())
    assert json.loads(kept.read_text())["findings"] == written["findings"]


OPTIONS = {
    "stdout": ["--json", "-"],
    "quiet": ["--quiet"],
    "colour": ["--color", "always"],
    "gate": ["--fail-on", "cross_merge"],
    "markdown": ["--markdown", "{tmp}/r.md"],
}


@pytest.mark.parametrize(
    "chosen",
    [
        (),
        ("stdout",),
        ("quiet",),
        ("colour",),
        ("gate", "quiet"),
        ("colour", "markdown"),
        ("stdout", "gate"),
        ("quiet", "colour", "markdown"),
    ],
    ids=lambda chosen: "+".join(chosen) or "plain",
)
@pytest.mark.parametrize("repository", ["four_envs", "ignored_hotfix"])
def test_every_run_writes_what_a_fresh_analysis_writes(
    chosen: tuple[str, ...],
    repository: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Whatever a run asks for, and whether the cache is cold, replayed or decoded, it prints
    and writes what a run without cache does, and exits the same (clock aside)."""
    b = four_envs(tmp_path) if repository == "four_envs" else ignored_hotfix(tmp_path)
    extra = [arg.replace("{tmp}", str(tmp_path)) for name in chosen for arg in OPTIONS[name]]
    if "stdout" not in chosen:
        extra += ["--json", str(tmp_path / "r.json")]

    def timeless(text: str) -> str:
        return "".join(line for line in text.splitlines(True) if "generated_at" not in line)

    def audit(*cache: str) -> tuple[int, str, list[str]]:
        code = cli.main(["audit", str(b.path), *cache, *extra])
        out = capsys.readouterr().out
        files = [tmp_path / "r.json", tmp_path / "r.md"]
        texts = [f.read_text() if f.exists() else "" for f in files]
        for f in files:
            f.unlink(missing_ok=True)
        if "stdout" in chosen:
            texts[0], out = out, ""
        return code, out, [timeless(text) for text in texts]

    fresh = audit("--no-cache")
    cached = ["--cache", str(tmp_path / "cache")]
    assert [audit(*cached) for _ in range(3)] == [fresh] * 3
