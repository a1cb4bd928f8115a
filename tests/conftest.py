"""Hermetic real-git tests: no user or system config leaks in, dates and names are pinned."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest

from drift_fixtures.builder import hermetic_env


@pytest.fixture(autouse=True, scope="session")
def hermetic_seal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Isolate HOME/XDG/system git config for git and for libgit2, for the whole session."""
    home = tmp_path_factory.mktemp("home")
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(hermetic_env(home))
    levels = (
        pygit2.enums.ConfigLevel.GLOBAL,
        pygit2.enums.ConfigLevel.XDG,
        pygit2.enums.ConfigLevel.SYSTEM,
    )
    for level in levels:
        pygit2.settings.search_path[level] = str(home)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own user cache folder: drift's per-commit cache must never let one
    test's results answer another's (a missing blob would go unnoticed)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def builder_root(tmp_path: Path) -> Path:
    """A fresh folder for one test's repositories."""
    return tmp_path
