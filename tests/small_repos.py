"""Tiny repositories for tests that need some history but not a whole scenario."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from drift_fixtures.builder import RepoBuilder
from drift_fixtures.expect import Scenario


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


def edit_shared_line(b: RepoBuilder, subject: str, pick: int) -> None:
    """Commit on the checked-out branch: one line of shared.txt (the `pick`-th) replaced by
    the subject, the edit generated histories use to make overlapping changes."""
    lines = b.read("shared.txt").splitlines()
    lines[pick % len(lines)] = subject
    b.commit(subject, {"shared.txt": "\n".join(lines) + "\n"})


def remove_blob(b: RepoBuilder, blob: str, scratch: Path) -> None:
    """Delete one blob from the object store, as a broken mirror loses it: every pack is
    unpacked into loose objects (moved to `scratch`), then the blob's file is removed."""
    b.git("repack", "-adq")
    for pack in (b.path / ".git" / "objects" / "pack").glob("*.pack"):
        moved = scratch / pack.name
        pack.rename(moved)
        pack.with_suffix(".idx").unlink()
        with moved.open("rb") as stream:
            subprocess.run(["git", "unpack-objects", "-q"], cwd=b.path, stdin=stream, check=True)
    (b.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()


def on_demand(
    builders: Mapping[str, Callable[[Path], Scenario]], factory: pytest.TempPathFactory
) -> Callable[[str], Scenario]:
    """Each scenario built once, on first use, in its own temp folder."""
    cache: dict[str, Scenario] = {}

    def get(name: str) -> Scenario:
        if name not in cache:
            cache[name] = builders[name](factory.mktemp(name))
        return cache[name]

    return get
