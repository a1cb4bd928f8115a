"""Tiny repositories for tests that need some history but not a whole scenario."""

from __future__ import annotations

from pathlib import Path

from drift_fixtures.builder import RepoBuilder


def four_envs(root: Path) -> RepoBuilder:
    """dev/test/staging/prod with a picked feature, a pending one and a forgotten hotfix."""
    b = RepoBuilder.init(root / "four")
    b.commit("base", {"app.py": "print('hi')\n"}, label="base")
    for name in ("test", "staging", "prod"):
        b.branch(name, "dev")
    b.commit("feature one", {"one.py": "1\n"}, label="f1")
    b.commit("feature two", {"two.py": "2\n"}, label="f2")
    b.checkout("test")
    b.cherry_pick("f1", label="p1")
    b.checkout("prod")
    b.commit("hotfix", {"app.py": "print('hello')\n"}, label="hot")
    b.checkout("staging")
    b.merge("prod", label="bm")
    b.checkout("dev")
    return b
