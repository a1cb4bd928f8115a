"""Commits' metadata in the persistent cache: the metrics window reads a year of history, and
a re-run reads from the cache what an earlier run read of it from the object store.

Each test compares with an audit without any cache: the report must be the same, and the
commits decoded from the object store must be exactly those the cache does not hold.
"""

from __future__ import annotations

import hashlib
import marshal
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from drift.audit import run_audit
from drift.ci.cache import FILENAME, CommitCache
from drift.config import Settings
from drift.git import repository as repository_module
from drift.git.repository import GitRepository
from drift.git.store import using_store
from drift.parallel import parallel_allowed
from drift_fixtures.expect import Scenario
from drift_fixtures.scenarios import release_lines


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return release_lines(tmp_path_factory.mktemp("infos"))


def audit(
    path: Path, folder: Path | None, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> tuple[dict[str, Any], set[str]]:
    """The report (clock pinned) with the cache in `folder` (or none), and the commits this
    process decoded from the object store."""
    monkeypatch.setenv("DRIFT_JOBS", jobs)
    decoded: set[str] = set()
    real = repository_module.decode_commit  # type: ignore[attr-defined]

    def counting(raw: Any) -> Any:
        decoded.add(str(raw.id))
        return real(raw)

    monkeypatch.setattr(repository_module, "decode_commit", counting)
    cache = CommitCache.open(folder) if folder is not None else None
    with using_store(cache):
        data = run_audit(path, Settings(), now=0).to_dict()
    if cache is not None:
        cache.close()
    monkeypatch.setattr(repository_module, "decode_commit", real)
    return data, decoded


def stored_ids(folder: Path) -> set[str]:
    """Every commit id the cache's commit_infos rows hold (their digests checked)."""
    conn = sqlite3.connect(folder / FILENAME)
    try:
        rows = conn.execute("SELECT data FROM commit_infos").fetchall()
    finally:
        conn.close()
    ids: set[str] = set()
    for (blob,) in rows:
        assert hashlib.sha256(blob[32:]).digest() == blob[:32]
        ids.update(entry[0] for entry in marshal.loads(blob[32:]))
    return ids


def rows(folder: Path) -> int:
    """How many commit_infos rows the cache holds (one per run that read new commits)."""
    conn = sqlite3.connect(folder / FILENAME)
    try:
        return int(conn.execute("SELECT count(*) FROM commit_infos").fetchone()[0])
    finally:
        conn.close()


def test_a_rerun_decodes_only_the_commits_the_cache_lacks(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain, everything = audit(scenario.path, None, monkeypatch, "1")
    cold, _ = audit(scenario.path, tmp_path, monkeypatch, "1")
    stored = stored_ids(tmp_path)
    warm, decoded = audit(scenario.path, tmp_path, monkeypatch, "1")
    assert plain == cold == warm
    assert stored, "the fixture's window has commits inside the common base"
    assert stored <= everything
    assert decoded == everything - stored


def test_a_forked_child_reads_the_cache_and_hands_back_what_it_read(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child has a read-only connection of its own, and saves nothing: what it read from
    the object store reaches the cache through the parent."""
    if not parallel_allowed():
        pytest.skip("no second core for a child process here")
    plain, _ = audit(scenario.path, None, monkeypatch, "1")
    audit(scenario.path, tmp_path / "here", monkeypatch, "1")
    forked, _ = audit(scenario.path, tmp_path / "child", monkeypatch, "2")
    assert stored_ids(tmp_path / "child") == stored_ids(tmp_path / "here") != set()
    assert rows(tmp_path / "child") == 1
    again, _ = audit(scenario.path, tmp_path / "child", monkeypatch, "2")
    assert plain == forked == again
    assert rows(tmp_path / "child") == 1  # the child read them all from the cache this time


def _rewrite(folder: Path, damage: Any) -> None:
    conn = sqlite3.connect(folder / FILENAME)
    try:
        with conn:
            for rowid, blob in conn.execute("SELECT rowid, data FROM commit_infos").fetchall():
                conn.execute(
                    "UPDATE commit_infos SET data = ? WHERE rowid = ?", (damage(blob), rowid)
                )
    finally:
        conn.close()


def _sealed(value: Any) -> bytes:
    body = marshal.dumps(value)
    return hashlib.sha256(body).digest() + body


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[:-1],  # truncated: the digest no longer matches
        lambda blob: blob[:40] + bytes([blob[40] ^ 1]) + blob[41:],  # one bit flipped
        lambda blob: _sealed({"a": 1}),  # sealed, not a list of entries
        # sealed entries of the wrong shape: ids as bytes, parents as a list, a short entry
        lambda blob: _sealed([(e[0].encode(), *e[1:]) for e in marshal.loads(blob[32:])]),
        lambda blob: _sealed([(e[0], list(e[1]), *e[2:]) for e in marshal.loads(blob[32:])]),
        lambda blob: _sealed([e[:7] for e in marshal.loads(blob[32:])]),
    ],
)
def test_a_damaged_row_of_commits_is_a_miss(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Any
) -> None:
    plain, everything = audit(scenario.path, None, monkeypatch, "1")
    audit(scenario.path, tmp_path, monkeypatch, "1")
    _rewrite(tmp_path, damage)
    data, decoded = audit(scenario.path, tmp_path, monkeypatch, "1")
    assert data == plain
    assert decoded == everything  # every commit read from the object store again


def test_a_shallow_clone_never_uses_the_cache(scenario: Scenario, tmp_path: Path) -> None:
    """Its cut commits have no parents there, and have them in a full clone sharing the
    cache: nothing derived from them may be kept, or taken, as theirs."""
    clone = tmp_path / "shallow"
    subprocess.run(
        [
            "git",
            "clone",
            "-q",
            "--bare",
            "--depth",
            "2",
            "--no-single-branch",
            f"file://{scenario.path}",
            str(clone),
        ],
        check=True,
    )
    with CommitCache.open(tmp_path / "cache") as cache, using_store(cache):
        shallow = GitRepository.open(clone)
        assert shallow.is_shallow and shallow._store is None and shallow._infos is None
        assert GitRepository.open(scenario.path)._store is cache
