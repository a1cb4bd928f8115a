"""Patch keys: equal exactly when `git cherry` says two commits carry the same change, with
the patch id computed only for commits whose file headers another commit shares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from drift.config import EnvSpec, Settings
from drift.environments import resolve_chain
from drift.git import repository as repository_module
from drift.git.repository import GitRepository
from drift.patch_keys import PatchKeys
from drift_fixtures import messy, scenarios
from drift_fixtures.builder import RepoBuilder
from drift_fixtures.expect import Scenario
from tests.gitoracle import assert_patch_ids_agree_with_cherry, git
from tests.small_repos import on_demand

FIXTURES: dict[str, Callable[[Path], Scenario]] = {
    **{f"scenario-{name}": build for name, build in scenarios.ALL.items()},
    **{f"messy-{name}": build for name, build in messy.ALL.items()},
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Scenario]:
    return on_demand(FIXTURES, tmp_path_factory)


def _keys_of_every_environment(scenario: Scenario) -> tuple[PatchKeys, list[str]]:
    """Keys over every non-merge commit of the environments' history, and their tips."""
    repo = GitRepository.open(scenario.path)
    settings = Settings() if scenario.detect else Settings(envs=tuple(map(EnvSpec, scenario.envs)))
    tips = [env.commit for env in resolve_chain(repo, settings).envs]
    commits = git(scenario.path, "rev-list", "--no-merges", *tips).split()
    return PatchKeys(repo, commits), tips


def _is_empty(path: Path) -> Callable[[str], bool]:
    def empty(commit: str) -> bool:
        parents = git(path, "rev-list", "--parents", "-n1", commit).split()[1:]
        tree = git(path, "rev-parse", f"{commit}^{{tree}}")
        return len(parents) == 1 and tree == git(path, "rev-parse", f"{parents[0]}^{{tree}}")

    return empty


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_keys_agree_with_git_cherry(name: str, built: Callable[[str], Scenario]) -> None:
    """For every ordered pair of environments, `git cherry` marks a commit '-' exactly when
    its key is the key of a commit on the other side (roots, gitlinks, binaries, huge diffs,
    renames and non-UTF-8 paths of the messy fixtures included)."""
    scenario = built(name)
    keys, tips = _keys_of_every_environment(scenario)
    assert_patch_ids_agree_with_cherry(scenario.path, tips, keys.key, _is_empty(scenario.path))


def _hashed(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The change lists handed to the patch id code, in order."""
    seen: list[Any] = []
    real = repository_module.patch_id  # type: ignore[attr-defined]

    def counting(repo: Any, changes: list[Any], *texts: Any) -> str | None:
        seen.append(changes)
        return real(repo, changes, *texts)

    monkeypatch.setattr(repository_module, "patch_id", counting)
    return seen


def test_only_commits_that_share_file_headers_are_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy and its original share headers and are hashed; so is a different edit of the
    same file. A commit alone with its file is keyed by its id, unread. A path that differs
    only by whitespace has the same header, as git's patch id strips whitespace from it."""
    b = RepoBuilder.init(tmp_path / "repo")
    text = "".join(f"line {n}\n" for n in range(10))
    b.commit("base", {"a b.txt": text, "ab.txt": text, "x.txt": text, "y.txt": text})
    b.branch("prod", "dev")
    spaced = b.commit("edit a b", {"a b.txt": text.replace("line 4", "four")}, label="spaced")
    alone = b.commit("edit y", {"y.txt": text.replace("line 1", "one")}, label="alone")
    original = b.commit("edit x", {"x.txt": text.replace("line 2", "two")}, label="original")
    other = b.commit("edit x again", {"x.txt": text.replace("line 2", "2")}, label="other")
    b.checkout("prod")
    packed = b.commit("edit ab", {"ab.txt": text.replace("line 4", "four")}, label="packed")
    copy = b.cherry_pick("original", label="copy")
    seen = _hashed(monkeypatch)
    repo = GitRepository.open(b.path)
    keys = PatchKeys(repo, [spaced, alone, original, other, packed, copy])

    assert keys.key(alone) == "commit:" + alone
    assert keys.key(spaced) == keys.key(packed) != keys.key(original)
    assert keys.key(original) == keys.key(copy) != keys.key(other)
    assert {len(changes) for changes in seen} == {1} and len(seen) == 5  # all but `alone`
    assert git(b.path, "cherry", "dev", "prod").split() == ["-", packed, "-", copy]
    assert_patch_ids_agree_with_cherry(b.path, ["dev", "prod"], keys.key, lambda c: False)
