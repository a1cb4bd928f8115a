"""Which environments reach a commit, for every commit of every fixture (walked, in the common
base, or on no environment at all), checked against plain git (`git rev-list TIP`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from drift.config import EnvSpec, Settings
from drift.environments import resolve_chain
from drift.git.repository import GitRepository
from drift.history import read_history
from drift_fixtures import messy, scenarios
from drift_fixtures.demo import build_demo
from drift_fixtures.expect import Scenario
from tests.gitoracle import git

BUILDERS: dict[str, Callable[[Path], Scenario]] = {
    "demo": build_demo,
    **{f"scenario-{name}": build for name, build in scenarios.ALL.items()},
    **{f"messy-{name}": build for name, build in messy.ALL.items()},
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_presence_is_what_git_rev_list_reaches(name: str, tmp_path: Path) -> None:
    scenario = BUILDERS[name](tmp_path)
    envs = tuple(EnvSpec(e, upstream=scenario.upstream.get(e)) for e in scenario.envs)
    repo = GitRepository.open_for_audit(scenario.path)
    chain = resolve_chain(repo, Settings() if scenario.detect else Settings(envs=envs))
    if len(chain.envs) < 2:
        pytest.skip("one environment: no history is read")
    history = read_history(repo, chain.envs)
    everything = git(scenario.path, "rev-list", "--all").split()
    reached = [set(git(scenario.path, "rev-list", env.commit).split()) for env in chain.envs]
    kinds = set()
    for commit in everything:
        expected = [commit in reach for reach in reached]
        assert [history.present(commit, env) for env in range(len(chain.envs))] == expected
        assert history.in_common_base(commit) == all(expected), commit
        kinds.add("walked" if commit in history.masks else "in base" if all(expected) else "none")
    if history.bases:
        assert "in base" in kinds  # the case that asks the merge bases, not the walk
