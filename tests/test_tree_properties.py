"""Properties of a tree of environments (release lines) over generated histories, against git.

Hypothesis draws operations on `main` and two maintenance lines cut from it: commits, fixes on a
line, backports by cherry-pick (with and without -x), forward merges between lines, merges of a
line back into main and of main into a line. Whatever the history, every per-pair finding is per
upstream link and agrees with git (`git rev-list`, `git merge-base --is-ancestor`, tree ids),
hotfixes are missing only from the environments upstream of their origin, and each merge finding
names lines git shows it on, with the kind the tree implies.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from drift.audit import run_audit
from drift.config import Settings, parse_envs
from drift_fixtures.builder import GitCommandError, RepoBuilder
from tests.gitoracle import git, is_ancestor, rev_count
from tests.small_repos import edit_shared_line
from tests.test_scenarios import assert_never_upstream

LINES = ["main", "release/2.x", "release/1.x"]
UPSTREAM = {"release/2.x": "main", "release/1.x": "main"}
OPS = ["commit", "commit", "fix", "backport", "backport_x", "forward", "merge_up", "merge_down"]
#: The tree configured (a line without commits of its own is left out of detection), matched
#: as `git cherry` matches (no near-miss `similar` links).
EXACT = Settings(
    envs=parse_envs("main,release/2.x:main,release/1.x:main"), match=("trailer", "patch-id")
)
operation = st.tuples(st.sampled_from(OPS), st.integers(0, 2), st.integers(0, 1000))


def build(root: Path, ops: list[tuple[str, int, int]]) -> RepoBuilder:
    """main with two lines; a step git refuses (a conflict) is aborted and skipped."""
    b = RepoBuilder.init(root / "r", branch="main")
    b.commit("base", {"shared.txt": "".join(f"{i}\n" for i in range(30))})
    b.commit("one", {"one.txt": "1\n"})
    b.branch("release/1.x", "main")
    b.commit("two", {"two.txt": "2\n"})
    b.branch("release/2.x", "main")
    for n, (op, line_index, pick) in enumerate(ops):
        line = LINES[line_index]
        try:
            _apply(b, n, op, line, pick)
        except GitCommandError:
            for abort in (("cherry-pick", "--abort"), ("merge", "--abort")):
                b.git(*abort, check=False)
            b.git("reset", "-q", "--hard")
            b.git("checkout", "-q", "-f", "main")
    return b


def _apply(b: RepoBuilder, n: int, op: str, line: str, pick: int) -> None:
    if op == "commit":
        b.checkout("main")
        b.commit(f"feature {n}", {f"f{n}.txt": f"{n}\n"})
    elif op == "fix":
        b.checkout(line)
        edit_shared_line(b, f"fix {n}", pick)
    elif op in ("backport", "backport_x") and line != "main":
        source = b.git("rev-list", "--no-merges", f"{line}..main").split()
        if source:
            b.checkout(line)
            b.cherry_pick(source[pick % len(source)], x=op == "backport_x")
    elif op == "forward":  # 1.x merged forward into 2.x
        b.checkout("release/2.x")
        b.merge("release/1.x", message="Merge branch 'release/1.x' into release/2.x")
    elif op == "merge_up" and line != "main":
        b.checkout("main")
        b.merge(line, message=f"Merge branch '{line}' into main")
    elif op == "merge_down" and line != "main":
        b.checkout(line)
        b.merge("main", message=f"Merge branch 'main' into {line}")


def _line_of(repo: Path, ref: str) -> set[str]:
    return set(git(repo, "rev-list", "--first-parent", ref).split())


def check_invariants(repo: Path) -> None:
    data: dict[str, Any] = run_audit(repo, EXACT, now=0).to_dict()
    envs = {e["name"]: e for e in data["environments"]}
    assert {n: e["upstream"] for n, e in envs.items()} == {"main": None, **UPSTREAM}
    edges = {(up, down) for down, up in UPSTREAM.items()}
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for f in data["findings"]:
        by_kind.setdefault(f["kind"], []).append(f)
    assert {(f["upstream"], f["downstream"]) for f in by_kind["divergence"]} == edges
    for f in by_kind["divergence"]:
        assert f["ahead"] == rev_count(repo, f"{f['upstream']}..{f['downstream']}")
        assert f["behind"] == rev_count(repo, f"{f['downstream']}..{f['upstream']}")
    changes = {c["id"]: c["commits"] for c in data["changes"]}
    for f in by_kind.get("pending", []):
        assert (f["upstream"], f["downstream"]) in edges
        assert is_ancestor(repo, f["commit"], f["upstream"])
        for commit in changes.get(f["change"], [f["commit"]]):
            assert not is_ancestor(repo, commit, f["downstream"])
    for f in by_kind.get("missing_hotfix", []):
        # only main is upstream of a line: a sibling line lacking it is never listed
        assert f["origin"] != "main" and f["missing_from"] == ["main"]
        for commit in changes.get(f["change"], [f["commit"]]):
            assert not is_ancestor(repo, commit, "main")
    for f in by_kind.get("hotfix", []):
        assert f["origin"] in UPSTREAM and is_ancestor(repo, f["commit"], f["origin"])
    kinds = {"promotion_merge": ("main",), "back_merge": tuple(UPSTREAM), "cross_merge": ()}
    for kind, sources in kinds.items():
        for f in by_kind.get(kind, []):
            assert f["merge"] in _line_of(repo, f["into_env"])
            assert f["merged"] in _line_of(repo, f["from_env"])
            if kind == "promotion_merge":
                assert f["from_env"] == "main" and f["into_env"] in UPSTREAM
            elif kind == "back_merge":
                assert f["from_env"] in sources and f["into_env"] == "main"
            else:
                assert {f["from_env"], f["into_env"]} == set(UPSTREAM)
    for f in by_kind.get("untested_release", []):
        assert f["env"] in UPSTREAM and f["upstream"] == "main"
        assert_never_upstream(repo, f["commit"], "main", f["env"])
    for kind, count in data["summary"]["by_kind"].items():
        assert count == len(by_kind.get(kind, []))


@settings(max_examples=15, deadline=None, derandomize=True)
@given(ops=st.lists(operation, min_size=6, max_size=20))
def test_random_release_line_histories_keep_the_invariants(ops: list[tuple[str, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as root:
        b = build(Path(root), ops)
        check_invariants(b.path)


def test_a_history_with_every_kind_of_tree_merge(tmp_path: Path) -> None:
    """A fixed history that takes every operation, so the invariants above are exercised on
    each merge kind whatever hypothesis draws."""
    ops = [
        ("commit", 0, 0),
        ("fix", 2, 3),  # on 1.x
        ("backport_x", 1, 0),  # feature 0 to 2.x
        ("merge_up", 2, 0),  # 1.x into main: back_merge
        ("commit", 0, 1),
        ("merge_down", 1, 0),  # main into 2.x: promotion_merge
        ("fix", 2, 7),  # on 1.x again
        ("forward", 0, 0),  # 1.x into 2.x: cross_merge
        ("backport", 2, 1),
    ]
    b = build(tmp_path, ops)
    data = run_audit(b.path, EXACT, now=0).to_dict()
    found = {f["kind"] for f in data["findings"]}
    assert {"cross_merge", "back_merge", "promotion_merge", "cherry_pick", "pending"} <= found
    check_invariants(b.path)
