"""The scenarios against plain git alone: what each one states must be true of its history.

No drift code runs here. If these pass and an engine test fails, the engine is wrong about
a fact git can confirm, not the fixture. Every scenario and the demo are built once per
module; determinism is checked by building a few of them a second time.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from drift.environments import RELEASE_LINE
from drift_fixtures.demo import build_demo
from drift_fixtures.expect import Key, Scenario
from drift_fixtures.scenarios import ALL
from tests.gitoracle import cherry, git, is_ancestor, rev_count

BUILDERS: dict[str, Callable[[Path], Scenario]] = {**ALL, "demo": build_demo}

#: findings.md's names for environment branches, matched against a branch's short name.
ENV_NAME = re.compile(
    r"dev|develop|development|integration|test|testing|qa|uat|sit"
    r"|stage|staging|preprod|pre-prod|prod|production|live|master|main"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Scenario]:
    """Every scenario and the demo, built once for the whole module."""
    root = tmp_path_factory.mktemp("scenarios")
    return {name: build(root) for name, build in BUILDERS.items()}


def env_tips(s: Scenario) -> dict[str, str]:
    """Each env's tip, read as detection reads it: the local branch, else origin's."""
    refs = {}
    for line in git(s.path, "for-each-ref", "--format=%(refname) %(objectname)").splitlines():
        ref, sha = line.split()
        refs[ref] = sha
    tips: dict[str, str] = {}
    for env in s.envs:
        ref = f"refs/heads/{env}" if f"refs/heads/{env}" in refs else f"refs/remotes/origin/{env}"
        tips[env] = refs[ref]
    return tips


def items(s: Scenario, kind: str) -> list[Key]:
    """The scenario's expected findings of one kind, with full commit ids."""
    return [key for key in s.expected_keys() if key[0] == kind]


def message(s: Scenario, commit: object) -> str:
    """A commit's full message."""
    return git(s.path, "log", "-1", "--format=%B", str(commit))


def first_parents(s: Scenario, tip: str) -> set[str]:
    """The commits on `tip`'s first-parent chain."""
    return set(git(s.path, "rev-list", "--first-parent", tip).split())


def has_equivalent(s: Scenario, tip: str, commit: str) -> bool:
    """Whether `commit` is reachable from `tip` or `git cherry` finds its patch there."""
    return is_ancestor(s.path, commit, tip) or cherry(s.path, tip, commit).get(commit) == "-"


def is_revert(s: Scenario, commit: object) -> bool:
    """Whether the message says it reverts a commit (git cherry equates a re-apply)."""
    return "This reverts commit" in message(s, commit)


@pytest.mark.parametrize("name", BUILDERS)
def test_every_label_is_a_commit(built: dict[str, Scenario], name: str) -> None:
    """Labels name real commits, and every expectation names only known labels."""
    s = built[name]
    for label, sha in s.labels.items():
        assert git(s.path, "cat-file", "-t", sha) == "commit", label
    assert s.expected_keys() or s.envs == ["main"]


@pytest.mark.parametrize("name", BUILDERS)
def test_envs_are_the_branches_detection_finds(built: dict[str, Scenario], name: str) -> None:
    """The env-named branches are exactly `envs` (local, else remote-tracking), with the
    release lines (by name) that hold commits no env-named branch has."""
    s = built[name]
    names, lines = set(), {}
    for ref in git(s.path, "for-each-ref", "--format=%(refname)").splitlines():
        parts = ref.split("/")
        short = "/".join(parts[2:] if parts[1] == "heads" else parts[3:])
        if parts[1] not in ("heads", "remotes") or short == "HEAD":
            continue
        if ENV_NAME.fullmatch(short):
            names.add(short)
        elif RELEASE_LINE.fullmatch(short):
            lines[short] = ref
    for line, ref in lines.items():
        if not any(is_ancestor(s.path, ref, env) for env in names):
            names.add(line)
    assert names == set(s.envs)


def test_remote_only_has_no_local_branches(built: dict[str, Scenario]) -> None:
    """The envs exist only as refs/remotes/origin/*, and origin/HEAD is there to be skipped."""
    s = built["remote_only"]
    assert git(s.path, "for-each-ref", "refs/heads") == ""
    assert git(s.path, "symbolic-ref", "refs/remotes/origin/HEAD") == "refs/remotes/origin/dev"


@pytest.mark.parametrize("name", BUILDERS)
def test_divergence_counts_are_git_counts(built: dict[str, Scenario], name: str) -> None:
    """One divergence per adjacent pair (per upstream link in a tree); ahead/behind are
    `git rev-list --count`."""
    s = built[name]
    tips = env_tips(s)
    found = items(s, "divergence")
    links = [(s.upstream.get(down, up), down) for up, down in itertools.pairwise(s.envs)]
    assert [(d[1], d[2]) for d in found] == sorted(links, key=repr)
    for _, up, down, ahead, behind, *_ in found:
        assert rev_count(s.path, f"{tips[str(up)]}..{tips[str(down)]}") == ahead, (up, down)
        assert rev_count(s.path, f"{tips[str(down)]}..{tips[str(up)]}") == behind, (up, down)


@pytest.mark.parametrize("name", BUILDERS)
def test_picks_carry_their_evidence(built: dict[str, Scenario], name: str) -> None:
    """A trailer pick names its original; a patch-id pick has no trailer but git cherry pairs it."""
    s = built[name]
    for _, original, copy, method in items(s, "cherry_pick"):
        trailer = f"(cherry picked from commit {original})"
        assert (trailer in message(s, copy)) == (method == "trailer"), (copy, method)
        if method == "patch-id":
            assert cherry(s.path, str(original), str(copy)).get(str(copy)) == "-", copy


@pytest.mark.parametrize("name", BUILDERS)
def test_reverts_name_what_they_revert(built: dict[str, Scenario], name: str) -> None:
    """Each expected revert says `This reverts commit <reverted>.`"""
    s = built[name]
    for _, revert, reverted in items(s, "revert"):
        assert f"This reverts commit {reverted}." in message(s, revert)


@pytest.mark.parametrize("name", BUILDERS)
def test_env_merges_join_first_parent_chains(built: dict[str, Scenario], name: str) -> None:
    """A back or promotion merge is on its env's first-parent chain, its other parent on the
    source env's, and the source lies downstream (back) or upstream (promotion)."""
    s = built[name]
    tips = env_tips(s)
    for kind, merge, from_env, into_env in items(s, "back_merge") + items(s, "promotion_merge"):
        parents = git(s.path, "rev-list", "--parents", "-n1", str(merge)).split()[1:]
        assert len(parents) >= 2, merge
        assert merge in first_parents(s, tips[str(into_env)])
        assert parents[1] in first_parents(s, tips[str(from_env)])
        downstream = s.envs.index(str(from_env)) > s.envs.index(str(into_env))
        assert downstream == (kind == "back_merge")


@pytest.mark.parametrize("name", BUILDERS)
def test_pending_changes_are_missing_downstream(built: dict[str, Scenario], name: str) -> None:
    """A pending commit is on the upstream env and neither it nor its patch is downstream."""
    s = built[name]
    tips = env_tips(s)
    for _, commit, up, down in items(s, "pending"):
        assert is_ancestor(s.path, str(commit), tips[str(up)])
        assert not is_ancestor(s.path, str(commit), tips[str(down)])
        if not is_revert(s, commit):
            assert not has_equivalent(s, tips[str(down)], str(commit))


@pytest.mark.parametrize("name", BUILDERS)
def test_hotfixes_are_missing_where_stated(built: dict[str, Scenario], name: str) -> None:
    """A hotfix is on its origin; it lacks on the envs listed and is on the other upstream ones."""
    s = built[name]
    tips = env_tips(s)
    missing = {key[1]: key[3] for key in items(s, "missing_hotfix")}
    for _, commit, origin in items(s, "hotfix"):
        assert is_ancestor(s.path, str(commit), tips[str(origin)])
        lacking = missing.get(commit, ())
        assert isinstance(lacking, tuple)
        for env in upstream_of(s, str(origin)):
            assert has_equivalent(s, tips[env], str(commit)) == (env not in lacking), env


def upstream_of(s: Scenario, env: str) -> list[str]:
    """The environments upstream of `env`: those before it in a chain, its ancestors in a tree."""
    feeds = {down: s.upstream.get(down, up) for up, down in itertools.pairwise(s.envs)}
    out = []
    while env in feeds:
        env = feeds[env]
        out.append(env)
    return out


@pytest.mark.parametrize("name", ["odd_changes", "gitflow", "demo"])
def test_builds_are_deterministic(tmp_path: Path, name: str) -> None:
    """Two builds give the same commit ids: same labels, same refs."""
    first = BUILDERS[name](tmp_path / "first")
    second = BUILDERS[name](tmp_path / "second")
    assert first.labels == second.labels
    refs = "for-each-ref", "--format=%(objectname) %(refname)"
    assert git(first.path, *refs) == git(second.path, *refs)
