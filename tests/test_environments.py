"""Environment chain detection and resolution, as findings.md describes it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from drift.audit import open_repository, run_audit
from drift.cli import main
from drift.config import EnvSpec, IgnoreRules, Settings, load_settings
from drift.environments import resolve_chain
from drift_fixtures.builder import RepoBuilder
from tests.small_repos import four_envs


def chain(path: Path, settings: Settings | None = None) -> list[tuple[str, str]]:
    repo = open_repository(path, settings or Settings())
    return [(e.name, e.ref) for e in resolve_chain(repo, settings or Settings()).envs]


def test_local_branches_by_role_in_chain_order(tmp_path: Path) -> None:
    b = four_envs(tmp_path)
    b.branch("feature/login", "dev")
    b.branch("release/1.0", "dev")
    b.branch("hotfix/urgent", "prod")
    assert chain(b.path) == [
        ("dev", "refs/heads/dev"),
        ("test", "refs/heads/test"),
        ("staging", "refs/heads/staging"),
        ("prod", "refs/heads/prod"),
    ]


def test_synonyms_and_main_master_note(tmp_path: Path) -> None:
    b = RepoBuilder.init(tmp_path / "r", branch="develop")
    b.commit("one", {"a": "1\n"})
    for name in ("qa", "master", "main"):
        b.branch(name, "develop")
    repo = open_repository(b.path, Settings())
    found = resolve_chain(repo, Settings())
    assert [e.name for e in found.envs] == ["develop", "qa", "master"]
    assert any("main" in note and "--envs" in note for note in found.notes)


def _clone_remote_only(source: Path, target: Path) -> None:
    subprocess.run(["git", "clone", "-q", "--bare", str(source), str(target)], check=True)
    subprocess.run(["git", "init", "-q", str(target.with_suffix(".work"))], check=True)
    work = target.with_suffix(".work")
    subprocess.run(["git", "remote", "add", "origin", str(source)], cwd=work, check=True)
    subprocess.run(["git", "fetch", "-q", "origin"], cwd=work, check=True)


def test_remote_only_environments(tmp_path: Path) -> None:
    b = four_envs(tmp_path)
    _clone_remote_only(b.path, tmp_path / "clone.git")
    work = tmp_path / "clone.work"
    assert chain(work) == [
        ("dev", "refs/remotes/origin/dev"),
        ("test", "refs/remotes/origin/test"),
        ("staging", "refs/remotes/origin/staging"),
        ("prod", "refs/remotes/origin/prod"),
    ]


def test_local_branch_that_differs_from_remote_is_used_and_noted(tmp_path: Path) -> None:
    b = four_envs(tmp_path)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-local", str(b.path), str(clone)], check=True)
    subprocess.run(["git", "branch", "-q", "prod", "origin/prod"], cwd=clone, check=True)
    subprocess.run(["git", "branch", "-q", "-f", "prod", "origin/staging"], cwd=clone, check=True)
    repo = open_repository(clone, Settings())
    envs = {e.name: e for e in resolve_chain(repo, Settings()).envs}
    assert envs["prod"].ref == "refs/heads/prod"
    assert "origin/prod points to" in envs["prod"].reason
    assert envs["test"].ref == "refs/remotes/origin/test"


def test_stale_remote_tracking_branches_of_an_env_name_are_named(tmp_path: Path) -> None:
    """A second remote whose `prod` and `dev` are stale: the report says which ref was used
    and where the others point (git's view: `git rev-parse upstream/prod`)."""
    b = four_envs(tmp_path)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-local", str(b.path), str(clone)], check=True)
    git = ["git", "-C", str(clone)]
    old = subprocess.run([*git, "rev-parse", "origin/staging"], capture_output=True, text=True)
    for name in ("prod", "dev"):
        ref = f"refs/remotes/upstream/{name}"
        subprocess.run([*git, "update-ref", ref, old.stdout.strip()], check=True)
    repo = open_repository(clone, Settings())
    envs = {e.name: e for e in resolve_chain(repo, Settings()).envs}
    assert envs["prod"].ref == "refs/remotes/origin/prod"
    assert f"upstream/prod points to {old.stdout.strip()[:12]}" in envs["prod"].reason
    assert "origin/prod (set `remote` to choose) was used" in envs["prod"].reason
    assert envs["dev"].ref == "refs/heads/dev"
    assert "upstream/dev points to" in envs["dev"].reason
    assert "the local branch was used" in envs["dev"].reason
    chosen = resolve_chain(repo, Settings(envs=(EnvSpec("dev"), EnvSpec("prod")))).envs
    assert "upstream/prod points to" in chosen[1].reason


def test_bare_repository_and_detached_head(tmp_path: Path) -> None:
    b = four_envs(tmp_path)
    bare = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(b.path), str(bare)], check=True)
    assert [n for n, _ in chain(bare)] == ["dev", "test", "staging", "prod"]
    b.git("checkout", "-q", "--detach", "HEAD~1")
    assert [n for n, _ in chain(b.path)] == ["dev", "test", "staging", "prod"]


def test_explicit_envs_accept_full_refs_remote_refs_and_tags(tmp_path: Path) -> None:
    b = four_envs(tmp_path)
    b.tag("v1.0", "prod")
    b.git("update-ref", "refs/remotes/upstream/qa", b.rev("test"))
    specs = (
        EnvSpec("dev"),
        EnvSpec("upstream/qa"),
        EnvSpec("release", "v1.0"),
        EnvSpec("live", "refs/heads/prod"),
    )
    assert chain(b.path, Settings(envs=specs)) == [
        ("dev", "refs/heads/dev"),
        ("upstream/qa", "refs/remotes/upstream/qa"),
        ("release", "refs/tags/v1.0"),
        ("live", "refs/heads/prod"),
    ]


def test_a_broken_branch_is_named_not_silently_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A branch pointing to a missing object (a damaged mirror) or a dangling symbolic ref, which
    git cannot resolve to a commit either: detection notes them, an explicit environment
    naming one says why it cannot be read; a tag of a tree is no commit either."""
    b = four_envs(tmp_path)
    missing = "1" * 40
    (b.path / ".git" / "refs" / "heads" / "prod").write_text(missing + "\n")
    b.git("symbolic-ref", "refs/heads/qa", "refs/heads/nowhere")
    b.git("tag", "tree-tag", "dev^{tree}")
    for ref in ("refs/heads/prod", "refs/heads/qa", "refs/tags/tree-tag"):  # git agrees
        argv = ["git", "rev-parse", "--verify", "-q", f"{ref}^{{commit}}"]
        assert subprocess.run(argv, cwd=b.path, capture_output=True).returncode != 0
    repo = open_repository(b.path, Settings())
    found = resolve_chain(repo, Settings())
    assert [e.name for e in found.envs] == ["dev", "test", "staging"]
    assert found.notes == [
        f"refs/heads/prod points to {missing[:12]}, which is not in the repository: it was not "
        "considered as an environment",
        "refs/heads/qa points to refs/heads/nowhere, which does not exist: it was not "
        "considered as an environment",
    ]
    assert main(["audit", str(b.path), "--envs", "dev,prod"]) == 2
    assert capsys.readouterr().err == (
        f"drift: error: environment 'prod': refs/heads/prod points to {missing[:12]}, which is "
        "not in the repository; an environment's ref must point to a commit\n"
    )
    assert main(["audit", str(b.path), "--envs", "dev,live=tree-tag"]) == 2
    assert "refs/tags/tree-tag points to a tree, not a commit" in capsys.readouterr().err


def test_a_broken_ref_is_part_of_the_report_cache_key(tmp_path: Path) -> None:
    """The notes name broken refs: a report kept for one state of them is not another's."""
    from drift.ci.report_cache import report_key

    b = four_envs(tmp_path)
    b.git("symbolic-ref", "refs/heads/qa", "refs/heads/nowhere")
    before = report_key(open_repository(b.path, Settings()), Settings())
    b.git("symbolic-ref", "refs/heads/qa", "refs/heads/elsewhere")
    assert report_key(open_repository(b.path, Settings()), Settings()) != before


def test_pull_and_notes_refs_are_never_environments(tmp_path: Path) -> None:
    b = four_envs(tmp_path)
    b.git("update-ref", "refs/pull/1/head", b.rev("dev"))
    b.git("update-ref", "refs/notes/prod", b.rev("dev"))
    b.git("update-ref", "refs/remotes/origin/HEAD", b.rev("dev"))
    assert [n for n, _ in chain(b.path)] == ["dev", "test", "staging", "prod"]


def test_config_files_in_order_of_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.drift]\nenvironments = ['dev', 'prod']\n")
    assert load_settings(tmp_path, None).envs == (EnvSpec("dev"), EnvSpec("prod"))
    (tmp_path / ".drift.toml").write_text(
        "environments = ['dev', {name = 'live', ref = 'refs/heads/prod'}]\n"
        "match = ['patch-id']\nsince = 2025-01-01\n[ignore]\nauthors = ['*[bot]*']\n"
    )
    settings = load_settings(tmp_path, None)
    assert settings.envs == (EnvSpec("dev"), EnvSpec("live", "refs/heads/prod"))
    assert settings.match == ("patch-id",)
    assert settings.since == 1735689600
    assert settings.ignore.authors == ("*[bot]*",)
    other = tmp_path / "other.toml"
    other.write_text("environments = ['test', 'prod']\n")
    assert load_settings(tmp_path, other).envs == (EnvSpec("test"), EnvSpec("prod"))


def test_config_drives_the_audit_and_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = four_envs(tmp_path)
    work = tmp_path / "cwd"
    work.mkdir()
    (work / ".drift.toml").write_text(
        "environments = ['dev', 'prod']\n[ignore]\nmessages = ['^feature two']\n"
    )
    monkeypatch.chdir(work)
    assert main(["audit", str(b.path), "--json", "out.json"]) == 0
    data = json.loads((work / "out.json").read_text())
    assert data["settings"]["environments"] == ["dev", "prod"]
    assert data["settings"]["config_file"].endswith(".drift.toml")
    pending = [f["commit"] for f in data["findings"] if f["kind"] == "pending"]
    assert b.labels["f1"] in pending and b.labels["f2"] not in pending
    assert data["stats"]["ignored_commits"] == 1
    # the command line wins over the file
    assert main(["audit", str(b.path), "--envs", "test,prod", "--json", "out.json"]) == 0
    assert json.loads((work / "out.json").read_text())["settings"]["environments"] == [
        "test",
        "prod",
    ]


def test_ignored_bot_commits_still_count_in_ahead_behind(tmp_path: Path) -> None:
    b = four_envs(tmp_path)
    b.author, b.email = "dependabot[bot]", "bot@example.com"
    b.commit("bump lib", {"requirements.txt": "lib==2\n"})
    settings = Settings(envs=(EnvSpec("dev"), EnvSpec("test")))
    report = run_audit(b.path, settings)
    ignored = run_audit(
        b.path, Settings(envs=settings.envs, ignore=IgnoreRules(authors=("dependabot[bot]",)))
    )
    div = next(f for f in report.findings if f.kind == "divergence")
    div_ignored = next(f for f in ignored.findings if f.kind == "divergence")
    assert div.fields["behind"] == div_ignored.fields["behind"] == 3
    assert div.fields["pending_changes"] == 2 and div_ignored.fields["pending_changes"] == 1
