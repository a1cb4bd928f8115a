"""Properties over generated histories, checked against plain git.

Hypothesis draws a list of operations (commit, pick with or without -x, promote, back-merge,
revert); each is applied with real git to three environments. Whatever the history, drift's
counts must equal the findings behind them and agree with `git rev-list`, `git cherry` and
`git merge-base --is-ancestor`.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from drift.audit import run_audit
from drift.config import Settings
from drift.git import GitRepository
from drift_fixtures.builder import GitCommandError, RepoBuilder
from tests.gitoracle import cherry, git, is_ancestor, rev_count

ENVS = ["dev", "test", "prod"]
OPS = ["commit", "commit", "edit", "pick", "pick_x", "promote", "back_merge", "revert", "hotfix"]

operation = st.tuples(st.sampled_from(OPS), st.integers(0, 2), st.integers(0, 1000))


def build(root: Path, ops: list[tuple[str, int, int]]) -> RepoBuilder:
    """Apply the drawn operations; a step git refuses (a conflict) is aborted and skipped."""
    b = RepoBuilder.init(root / "r", branch="dev")
    b.commit("base", {"shared.txt": "".join(f"{i}\n" for i in range(30))})
    for env in ENVS[1:]:
        b.branch(env, "dev")
    for n, (op, env_index, pick) in enumerate(ops):
        env = ENVS[env_index]
        try:
            _apply(b, n, op, env, pick)
        except GitCommandError:
            for abort in (("cherry-pick", "--abort"), ("merge", "--abort"), ("revert", "--abort")):
                b.git(*abort, check=False)
            b.git("reset", "-q", "--hard")
    return b


def _apply(b: RepoBuilder, n: int, op: str, env: str, pick: int) -> None:
    if op in ("commit", "hotfix"):
        b.checkout("prod" if op == "hotfix" else env)
        b.commit(f"{op} {n}", {f"f{n}.txt": f"{n}\n"})
    elif op == "edit":
        b.checkout(env)
        lines = b.read("shared.txt").splitlines()
        lines[pick % len(lines)] = f"edit {n}"
        b.commit(f"edit {n}", {"shared.txt": "\n".join(lines) + "\n"})
    elif op in ("pick", "pick_x"):
        target = env if env != "dev" else "test"
        source = b.git("rev-list", "--no-merges", f"{target}..dev").split()
        if source:
            b.checkout(target)
            b.cherry_pick(source[pick % len(source)], x=op == "pick_x")
    elif op == "promote" and env != "prod":
        b.checkout(ENVS[ENVS.index(env) + 1])
        b.merge(env)
    elif op == "back_merge" and env != "prod":
        b.checkout(env)
        b.merge("prod")
    elif op == "revert":
        b.checkout(env)
        commits = b.git("rev-list", "--no-merges", env).split()[:-1]
        if commits:
            b.revert(commits[pick % len(commits)])


def check_invariants(b: RepoBuilder) -> None:
    report = run_audit(b.path, Settings(), now=0)
    data = report.to_dict()
    findings = data["findings"]
    _counts_equal_findings(data)
    by_pair = {(f["upstream"], f["downstream"]): f for f in findings if f["kind"] == "divergence"}
    assert list(by_pair) == list(itertools.pairwise(ENVS))
    changes = {c["id"]: c["commits"] for c in data["changes"]}
    repo = GitRepository.open(b.path)
    for (up, down), div in by_pair.items():
        assert div["ahead"] == rev_count(b.path, f"{up}..{down}")
        assert div["behind"] == rev_count(b.path, f"{down}..{up}")
        pending = [
            f
            for f in findings
            if f["kind"] == "pending" and f["upstream"] == up and f["downstream"] == down
        ]
        assert div["pending_changes"] == len(pending)
        pending_changes = {f["change"] for f in pending}
        only_down = {_change_of(data, c) for c in div["downstream_only"]}
        assert not pending_changes & only_down
        for f in pending:
            commits = changes.get(f["change"], [f["change"]])
            assert any(is_ancestor(b.path, c, up) for c in commits)
            assert not any(is_ancestor(b.path, c, down) for c in commits)
        _agrees_with_git_cherry(b, repo, up, down)
    assert json.dumps(run_audit(b.path, Settings(), now=0).to_dict()) == json.dumps(data)


def _change_of(data: dict[str, Any], commit: str) -> str:
    for change in data["changes"]:
        if commit in change["commits"]:
            return str(change["id"])
    return commit


def _counts_equal_findings(data: dict[str, Any]) -> None:
    kinds = Counter(f["kind"] for f in data["findings"])
    for kind, count in data["summary"]["by_kind"].items():
        assert count == kinds.get(kind, 0)
    for row in data["summary"]["by_pair"]:
        for kind, count in row["counts"].items():
            behind = [
                f
                for f in data["findings"]
                if f["kind"] == kind and _pair(f) == (row["from"], row["to"])
            ]
            assert count == len(behind)


def _pair(f: dict[str, Any]) -> tuple[str, str] | None:
    for a, c in (
        ("upstream", "downstream"),
        ("original_env", "copy_env"),
        ("from_env", "into_env"),
    ):
        if a in f:
            return (f[a], f[c])
    return None


def _agrees_with_git_cherry(b: RepoBuilder, repo: GitRepository, up: str, down: str) -> None:
    """`git cherry up down` marks '-' exactly when drift finds an equal patch id upstream."""
    upstream_ids = {
        repo.patch_id(c) for c in git(b.path, "rev-list", "--no-merges", f"{down}..{up}").split()
    }
    for commit, mark in cherry(b.path, up, down).items():
        assert (mark == "-") == (repo.patch_id(commit) in upstream_ids), commit


@settings(max_examples=25, deadline=None)
@given(ops=st.lists(operation, min_size=3, max_size=22))
def test_random_histories_keep_the_invariants(ops: list[tuple[str, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as root:
        check_invariants(build(Path(root), ops))
