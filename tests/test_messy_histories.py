"""Real-world histories (drift_fixtures.messy): drift's findings equal what each scenario
states, and agree with plain git wherever git can answer."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygit2
import pytest

from drift.audit import run_audit
from drift.cli import main
from drift.commits import MESSAGE_LIMIT
from drift.config import EnvSpec, Settings
from drift.findings.model import KINDS
from drift.git import GitRepository
from drift.git import blobs as blobs_module
from drift.git.blobs import MAX_COMMIT_BYTES, changed_lines
from drift.report import SCHEMA_VERSION
from drift_fixtures import scenarios
from drift_fixtures.expect import Key, Scenario, finding_key
from drift_fixtures.messy import ALL, roots_and_refs
from tests.gitoracle import (
    assert_patch_ids_agree_with_cherry,
    git,
    hunks_only,
    is_ancestor,
    patch_id_stable,
    rev_count,
)
from tests.small_repos import on_demand


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Scenario]:
    """Build each scenario once per module, on demand."""
    return on_demand(ALL, tmp_path_factory)


@pytest.fixture(scope="module")
def audited(built: Callable[[str], Scenario]) -> Callable[[str], dict[str, Any]]:
    """Each scenario's report as JSON data, audited once per module."""
    cache: dict[str, dict[str, Any]] = {}

    def get(name: str) -> dict[str, Any]:
        if name not in cache:
            cache[name] = audit(built(name))
        return cache[name]

    return get


def settings_for(scenario: Scenario) -> Settings:
    if scenario.detect:
        return Settings()
    return Settings(envs=tuple(EnvSpec(e) for e in scenario.envs))


def audit(scenario: Scenario) -> dict[str, Any]:
    return run_audit(scenario.path, settings_for(scenario), now=0).to_dict()


def keys(data: dict[str, Any]) -> list[Key]:
    return sorted((finding_key(f) for f in data["findings"]), key=repr)


# -- every scenario ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALL))
def test_findings_equal_the_scenario(
    name: str, built: Callable[[str], Scenario], audited: Callable[[str], dict[str, Any]]
) -> None:
    scenario = built(name)
    data = audited(name)
    assert [e["name"] for e in data["environments"]] == scenario.envs
    assert keys(data) == scenario.expected_keys()


@pytest.mark.parametrize("name", sorted(ALL))
def test_findings_agree_with_plain_git(
    name: str, built: Callable[[str], Scenario], audited: Callable[[str], dict[str, Any]]
) -> None:
    """Counts are rev-list counts, pending commits are missing downstream, hotfixes are where
    they are said to be missing, and every summary count is a count of findings."""
    repo = built(name).path
    data = audited(name)
    refs = {e["name"]: e["ref"] for e in data["environments"]}
    for f in data["findings"]:
        if f["kind"] == "divergence":
            up, down = refs[f["upstream"]], refs[f["downstream"]]
            assert f["ahead"] == rev_count(repo, f"{up}..{down}")
            assert f["behind"] == rev_count(repo, f"{down}..{up}")
        elif f["kind"] == "pending":
            assert is_ancestor(repo, f["commit"], refs[f["upstream"]])
            assert not is_ancestor(repo, f["commit"], refs[f["downstream"]])
        elif f["kind"] == "missing_hotfix":
            for env in f["missing_from"]:
                assert not is_ancestor(repo, f["commit"], refs[env])
    for kind, count in data["summary"]["by_kind"].items():
        assert count == sum(1 for f in data["findings"] if f["kind"] == kind)


@pytest.mark.parametrize("name", sorted(ALL))
def test_patch_id_equivalence_agrees_with_git_cherry(
    name: str, built: Callable[[str], Scenario], audited: Callable[[str], dict[str, Any]]
) -> None:
    """`git cherry` marks a commit '-' exactly when drift finds its patch id on the other side
    (roots, gitlinks, a 20 MB binary and 200,000-line diffs included)."""
    scenario = built(name)
    repo = GitRepository.open(scenario.path)
    refs = [e["ref"] for e in audited(name)["environments"]]
    assert_patch_ids_agree_with_cherry(scenario.path, refs, repo.patch_id, lambda c: False)


@pytest.mark.parametrize("name", sorted(ALL))
def test_conflict_merges_agree_with_git_remerge_diff(
    name: str, built: Callable[[str], Scenario], audited: Callable[[str], dict[str, Any]]
) -> None:
    """Every two-parent merge on an environment's first-parent line outside the common base:
    flagged with exactly the paths `git show --remerge-diff` shows, or not flagged and git
    shows none (criss-cross merges and gitlink conflicts included)."""
    repo = built(name).path
    data = audited(name)
    flagged = {f["merge"]: f for f in data["findings"] if f["kind"] == "conflict_merge"}
    refs = [e["ref"] for e in data["environments"]]
    base = git(repo, "merge-base", "--octopus", *refs)
    checked = 0
    for ref in refs:
        for merge in git(repo, "rev-list", "--first-parent", "--merges", ref, f"^{base}").split():
            shown = git(repo, "show", "--remerge-diff", "--format=", "--name-only", merge)
            paths = sorted(line for line in shown.splitlines() if line)
            assert (flagged[merge]["paths"] if merge in flagged else []) == paths, merge
            checked += 1
    assert checked >= len(flagged)


@pytest.mark.parametrize("name", ["submodules", "encodings", "pick_merge"])
def test_builds_are_deterministic(tmp_path: Path, name: str) -> None:
    """Two builds give the same commit ids, gitlinks and non-UTF-8 names included."""
    first = ALL[name](tmp_path / "first")
    second = ALL[name](tmp_path / "second")
    assert first.labels == second.labels


# -- 1: roots, orphans and thousands of refs -----------------------------------------------


def test_root_commits_and_refs_are_there(built: Callable[[str], Scenario]) -> None:
    """The fixture has what it claims: three roots on env branches, 2,000 pull refs, 300 work
    branches and a notes ref."""
    repo = built("roots_and_refs").path
    roots = git(repo, "rev-list", "--max-parents=0", "dev", "test", "staging", "prod").split()
    assert len(roots) == 3
    refs = git(repo, "for-each-ref", "--format=%(refname)").splitlines()
    assert sum(r.startswith("refs/pull/") for r in refs) == 2000
    assert sum(r.startswith("refs/heads/feature/") for r in refs) == 300
    assert "refs/notes/commits" in refs


def test_other_refs_are_never_walked_and_change_nothing(
    built: Callable[[str], Scenario],
    audited: Callable[[str], dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No commit only a pull ref or the notes ref reaches is ever read, no such ref is
    resolved, and the findings equal those of the same history without the extra refs."""
    scenario = built("roots_and_refs")
    envs = ["dev", "test", "staging", "prod"]
    unreachable = set(git(scenario.path, "rev-list", "--all", *(f"^{e}" for e in envs)).split())
    assert len(unreachable) > 20  # the pull heads and the notes commit
    decoded: set[str] = set()
    resolved: list[str] = []
    real_info, real_resolve = GitRepository._to_info, GitRepository.resolve_ref

    def to_info(self: GitRepository, raw: Any) -> Any:
        decoded.add(str(raw.id))
        return real_info(self, raw)

    def resolve_ref(self: GitRepository, name: str) -> str | None:
        resolved.append(name)
        return real_resolve(self, name)

    monkeypatch.setattr(GitRepository, "_to_info", to_info)
    monkeypatch.setattr(GitRepository, "resolve_ref", resolve_ref)
    data = audit(scenario)
    assert decoded and not decoded & unreachable
    assert not [r for r in resolved if not r.startswith(("refs/heads/", "refs/remotes/"))]
    plain = roots_and_refs(tmp_path, many_refs=False)
    assert keys(data) == keys(audit(plain)) == keys(audited("roots_and_refs"))


def test_root_commit_patch_ids_equal_git(built: Callable[[str], Scenario]) -> None:
    scenario = built("roots_and_refs")
    repo = GitRepository.open(scenario.path)
    for label in ("site_root", "lg"):
        commit = scenario.labels[label]
        assert hunks_only(scenario.path, commit)
        assert repo.patch_id(commit) == patch_id_stable(scenario.path, commit), label


# -- 2: submodules ---------------------------------------------------------------------------


def test_gitlink_patch_ids_equal_git_patch_id(built: Callable[[str], Scenario]) -> None:
    """`git diff-tree -p C | git patch-id --stable` for commits adding and moving gitlinks."""
    scenario = built("submodules")
    repo = GitRepository.open(scenario.path)
    labels = ("sub_bump", "sub_add", "sub_use", "pick_add", "pick_bump", "hot_lib")
    for label in labels:
        commit = scenario.labels[label]
        modes = git(scenario.path, "diff-tree", "-r", "--no-commit-id", commit)
        assert "160000" in modes, label
        assert hunks_only(scenario.path, commit)
        assert repo.patch_id(commit) == patch_id_stable(scenario.path, commit), label
    assert repo.patch_id(scenario.labels["sub_bump"]) == repo.patch_id(scenario.labels["pick_bump"])


def test_gitlink_picks_are_grouped(
    built: Callable[[str], Scenario], audited: Callable[[str], dict[str, Any]]
) -> None:
    labels = built("submodules").labels
    groups = [set(c["commits"]) for c in audited("submodules")["changes"]]
    assert {labels["sub_add"], labels["pick_add"]} in groups
    assert {labels["sub_bump"], labels["pick_bump"]} in groups


# -- 3: encodings and names ----------------------------------------------------------------


def visible(text: str) -> str:
    """What drift shows of git's text: control characters replaced (never printed raw)."""
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text)


def test_subjects_and_authors_are_decoded_as_git_log_does(
    built: Callable[[str], Scenario], audited: Callable[[str], dict[str, Any]]
) -> None:
    """Every commit in the report: subject and author as `git log --format=%s / %an` print
    them (re-encoded to UTF-8 from a declared encoding, undeclared bytes as they are)."""
    scenario = built("encodings")
    commits = audited("encodings")["commits"]
    labels = scenario.labels
    for label in ("latin1", "raw", "ctrl", "multi", "ueber", "big_msg", "pick_big", "hot"):
        assert labels[label] in commits, label
    for commit, described in commits.items():
        subject, author = git(scenario.path, "log", "-1", "--format=%s%x00%an", commit).split("\0")
        assert described["subject"] == visible(subject), commit
        assert described["author"] == author, commit
    assert commits[labels["latin1"]]["subject"] == "Corrige l'arrondi des réductions"
    assert commits[labels["multi"]]["subject"] == "Fix the cart total when the cart is empty"
    assert commits[labels["ueber"]]["author"] == "Jürgen Groß"
    assert "\x1b" not in commits[labels["ctrl"]]["subject"]


def test_fixture_has_the_encodings_it_claims(built: Callable[[str], Scenario]) -> None:
    scenario = built("encodings")
    raw = git(scenario.path, "cat-file", "commit", scenario.labels["latin1"])
    assert "\nencoding ISO-8859-1\n" in raw
    size = int(git(scenario.path, "cat-file", "-s", scenario.labels["pick_big"]))
    assert size > 2_000_000 > 2 * MESSAGE_LIMIT
    names = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname)"],
        cwd=scenario.path,
        capture_output=True,
        check=True,
    ).stdout.splitlines()
    assert "refs/heads/fix/über".encode() in names
    assert b"refs/heads/feature/caf\xe9" in names  # not UTF-8


def test_cli_writes_valid_json_and_views_for_non_ascii_names(
    built: Callable[[str], Scenario], tmp_path: Path
) -> None:
    scenario = built("encodings")
    out = tmp_path / "r.json"
    argv = ["audit", str(scenario.path), "--envs", "dev,prüfung,prod", "--json", str(out)]
    views = ["--html", str(tmp_path / "r.html"), "--markdown", str(tmp_path / "r.md")]
    assert main([*argv, *views]) == 0
    data = json.loads(out.read_bytes().decode("utf-8"))
    assert [e["ref"] for e in data["environments"]][1] == "refs/heads/prüfung"
    assert "prüfung" in (tmp_path / "r.md").read_text(encoding="utf-8")
    long_lived = data["metrics"]["trunk"]["long_lived_branches"]["branches"]
    assert [b["name"] for b in long_lived] == ["feature/caf\ufffd"]
    assert long_lived[0]["tip"] == scenario.labels["cafe"]


# -- 4: reversed parents and criss-cross merges --------------------------------------------


def test_criss_cross_merge_has_two_merge_bases(built: Callable[[str], Scenario]) -> None:
    scenario = built("pull_and_criss_cross")
    m3 = scenario.labels["m3"]
    bases = git(scenario.path, "merge-base", "--all", f"{m3}^1", f"{m3}^2").split()
    assert sorted(bases) == sorted(scenario.labels[x] for x in ("d1", "t1"))
    pull = scenario.labels["pull"]
    assert git(scenario.path, "rev-parse", f"{pull}^1") == scenario.labels["f1"]


# -- 5: cherry-pick -m 1 ----------------------------------------------------------------------


def test_a_merge_pick_is_linked_to_what_the_merge_brought_in(
    built: Callable[[str], Scenario], audited: Callable[[str], dict[str, Any]]
) -> None:
    """The originals of a copy whose trailer names merge M are `git rev-list --no-merges
    M^1..M`; `patch_differs` is whether git's patch ids of the pair differ."""
    scenario = built("pick_merge")
    data = audited("pick_merge")
    picks = [f for f in data["findings"] if f["kind"] == "cherry_pick"]
    for merge, copy in (("m_cart", "pick_cart"), ("m_tax", "pick_tax")):
        m, c = scenario.labels[merge], scenario.labels[copy]
        assert f"(cherry picked from commit {m})" in git(
            scenario.path, "log", "-1", "--format=%B", c
        )
        brought = set(git(scenario.path, "rev-list", "--no-merges", f"{m}^1..{m}").split())
        pairs = [f for f in picks if f["copy"] == c]
        assert {f["original"] for f in pairs} == brought
        for f in pairs:
            theirs = patch_id_stable(scenario.path, f["original"])
            assert f["patch_differs"] == (theirs != patch_id_stable(scenario.path, c))
            assert f"the trailer names merge {m[:12]}" in f["note"]
        change = next(ch for ch in data["changes"] if c in ch["commits"])
        assert set(change["commits"]) == brought | {c}
    assert {f["patch_differs"] for f in picks} == {True, False}


# -- 6: huge diffs ----------------------------------------------------------------------------


def test_huge_text_patch_ids_equal_git_patch_id(built: Callable[[str], Scenario]) -> None:
    """Patch ids read everything: the 200,000-line table and icon set give git's ids."""
    scenario = built("huge_diffs")
    repo = GitRepository.open(scenario.path)
    for label in ("table", "pick_table", "icons", "prod_table"):
        commit = scenario.labels[label]
        assert hunks_only(scenario.path, commit)
        assert repo.patch_id(commit) == patch_id_stable(scenario.path, commit), label


def test_similar_reads_a_bounded_part_of_huge_commits(built: Callable[[str], Scenario]) -> None:
    """`similar` reads no blob over MAX_BLOB_BYTES and at most MAX_COMMIT_BYTES of one commit;
    the rest is described by blob ids."""
    scenario = built("huge_diffs")
    repo = GitRepository.open(scenario.path)
    for label in ("bin", "table"):
        assert all(f.summary is not None for f in changed_lines(repo, scenario.labels[label]))
    files = changed_lines(repo, scenario.labels["icons"])
    read = [f for f in files if f.summary is None]
    assert len(files) == 200 and 0 < len(read) < len(files)
    assert sum(len(line) + 1 for f in read for line in f.added) <= MAX_COMMIT_BYTES


def test_similar_never_inflates_a_blob_it_will_not_read(
    built: Callable[[str], Scenario], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sizes come from object headers: the 20 MB video, the 4 MB table and the 800 kB
    catalogue are never loaded to describe them for `similar` (patch ids, computed
    elsewhere, do read them)."""
    scenario = built("huge_diffs")
    repo = GitRepository.open(scenario.path)
    big = {
        git(scenario.path, "rev-parse", f"{scenario.labels['bin']}:assets/demo.mp4"),
        git(scenario.path, "rev-parse", f"{scenario.labels['table']}:data/rates.csv"),
        git(scenario.path, "rev-parse", f"{scenario.labels['reprice']}:data/catalog.csv"),
    }
    loaded: set[str] = set()
    real = pygit2.Repository.__getitem__

    def getitem(self: pygit2.Repository, key: Any) -> Any:
        loaded.add(str(key))
        return real(self, key)

    monkeypatch.setattr(pygit2.Repository, "__getitem__", getitem)
    for label in ("bin", "pick_bin", "table", "pick_table", "prod_table", "icons", "reprice"):
        files = blobs_module.changed_lines(repo, scenario.labels[label])
        assert files
    assert loaded and not loaded & big


# -- drift's own repository and every scenario, through the CLI ----------------------------


def own_repository() -> Path:
    here = Path(__file__).resolve().parent
    return Path(git(here, "rev-parse", "--show-toplevel"))


def cli_targets(root: Path) -> list[tuple[str, Path, list[str]]]:
    targets: list[tuple[str, Path, list[str]]] = [("drift", own_repository(), [])]
    for name, build in scenarios.ALL.items():
        scenario = build(root)
        specs = [
            f"{e}:{scenario.upstream[e]}" if e in scenario.upstream else e for e in scenario.envs
        ]
        envs = [] if scenario.detect else ["--envs", ",".join(specs)]
        targets.append((name, scenario.path, envs))
    return targets


def test_cli_audits_drift_itself_and_every_scenario(tmp_path: Path) -> None:
    """`drift audit PATH --json OUT` exits 0 with a valid report on drift's own repository and
    on every scenario of drift_fixtures.scenarios."""
    for name, path, envs in cli_targets(tmp_path / "scenarios"):
        out = tmp_path / f"{name}.json"
        assert main(["audit", str(path), *envs, "--json", str(out)]) == 0, name
        data = json.loads(out.read_text(encoding="utf-8"))
        assert data["schema_version"] == SCHEMA_VERSION, name
        assert {f["kind"] for f in data["findings"]} <= set(KINDS), name
        for kind, count in data["summary"]["by_kind"].items():
            assert count == sum(1 for f in data["findings"] if f["kind"] == kind), (name, kind)
        for env in data["environments"]:
            assert len(env["commit"]) == 40, name
