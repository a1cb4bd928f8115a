"""Which environments reach a commit, for every commit of every fixture (walked, in the common
base, or on no environment at all), checked against plain git (`git rev-list TIP`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from drift import history as history_module
from drift.audit import run_audit
from drift.config import EnvSpec, Settings
from drift.environments import resolve_chain
from drift.git.repository import GitRepository
from drift.history import read_history
from drift_fixtures import messy, scenarios
from drift_fixtures.builder import RepoBuilder
from drift_fixtures.demo import build_demo
from drift_fixtures.expect import Scenario
from drift_fixtures.large import generate
from tests.gitoracle import git
from tests.test_line_chains import promote

BUILDERS: dict[str, Callable[[Path], Scenario]] = {
    "demo": build_demo,
    **{f"scenario-{name}": build for name, build in scenarios.ALL.items()},
    **{f"messy-{name}": build for name, build in messy.ALL.items()},
}


@pytest.mark.parametrize("settled", [False, True])
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_presence_is_what_git_rev_list_reaches(
    name: str, settled: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`settled`: the commits below the bases answered first by one walk down from them
    (History.settle_below_bases), as the findings ask for every change at once."""
    scenario = BUILDERS[name](tmp_path)
    envs = tuple(EnvSpec(e, upstream=scenario.upstream.get(e)) for e in scenario.envs)
    repo = GitRepository.open_for_audit(scenario.path)
    chain = resolve_chain(repo, Settings() if scenario.detect else Settings(envs=envs))
    if len(chain.envs) < 2:
        pytest.skip("one environment: no history is read")
    history = read_history(repo, chain.envs)
    everything = git(scenario.path, "rev-list", "--all").split()
    asked: list[str] = []
    real = GitRepository.is_ancestor

    def is_ancestor(self: GitRepository, ancestor: str, descendant: str) -> bool:
        asked.append(ancestor)
        return real(self, ancestor, descendant)

    monkeypatch.setattr(GitRepository, "is_ancestor", is_ancestor)
    if settled:
        monkeypatch.setattr(history_module, "SETTLE_MIN", 1)
        history.settle_below_bases(everything)
    reached = [set(git(scenario.path, "rev-list", env.commit).split()) for env in chain.envs]
    kinds = set()
    for commit in everything:
        expected = [commit in reach for reach in reached]
        assert [history.present(commit, env) for env in range(len(chain.envs))] == expected
        assert history.in_common_base(commit) == all(expected), commit
        kinds.add("walked" if commit in history.masks else "in base" if all(expected) else "none")
    if history.bases:
        assert "in base" in kinds  # the case that asks the merge bases, not the walk
        below = [c for c in everything if c not in history.masks and history.in_common_base(c)]
        if settled:  # every commit of the base reached by the one walk: none asked alone
            assert below and not set(asked) & set(below)
        else:
            assert set(below) <= set(asked)


def test_a_commit_behind_a_skewed_clock_is_still_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk down from the bases stops a day before the oldest commit asked; a commit
    below an older one (a clock set back) is not reached, and its own question answers."""
    monkeypatch.setattr(history_module, "SETTLE_MIN", 1)
    builder = RepoBuilder.init(tmp_path / "skew")
    tree = builder.git("write-tree")
    commits: list[str] = []
    for when in (1_000_000_000, 1_600_000_000, 1_000_000, 1_600_000_100):  # third: set back
        builder.clock = when
        parents = ["-p", commits[-1]] if commits else []
        commits.append(builder.git("commit-tree", tree, *parents, "-m", f"at {when}"))
    for env in ("dev", "test", "staging", "prod"):
        builder.git("update-ref", f"refs/heads/{env}", commits[-1])
    path = builder.path
    repo = GitRepository.open_for_audit(path)
    history = read_history(repo, resolve_chain(repo, Settings()).envs)
    assert history.bases == [commits[-1]]
    history.settle_below_bases([commits[1]])
    assert commits[1] not in history._in_base  # behind the clock set back: not reached
    history.settle_below_bases(commits[:3])
    assert history._in_base == dict.fromkeys(commits[:3], True)  # reached: the oldest asked
    assert all(history.present(c, env) for c in commits for env in range(4))


def test_an_audit_asks_the_bases_once_for_every_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a release through every environment of a drifted repository, the copies of the
    pending changes sit in the common base: the findings ask about all of them with one walk
    down from the bases, and report what they report asking each alone."""
    path = tmp_path / "drifted"
    generate(path, 1200, seed=1, drifting=True)
    promote(path)
    monkeypatch.setenv("DRIFT_JOBS", "1")
    alone: list[str] = []
    real = GitRepository.is_ancestor

    def is_ancestor(self: GitRepository, ancestor: str, descendant: str) -> bool:
        if descendant == base:
            alone.append(ancestor)
        return real(self, ancestor, descendant)

    base = git(path, "merge-base", "--octopus", "dev", "test", "staging", "prod")
    monkeypatch.setattr(GitRepository, "is_ancestor", is_ancestor)
    settled = run_audit(path, Settings(), now=0).to_dict()
    assert alone == []
    monkeypatch.setattr(history_module.History, "settle_below_bases", lambda self, ids: None)
    asked_alone = run_audit(path, Settings(), now=0).to_dict()
    assert len(alone) >= history_module.SETTLE_MIN and settled == asked_alone
