"""`similar` reads the diff texts patch ids made (drift.git.patchid.DiffTexts) instead of the
blobs again: what it reads must be what it would have read from the blobs, for every file of
every commit of every fixture, and the kept texts stay within their budget."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygit2
import pytest

from drift.git import GitRepository
from drift.git.blobs import changed_lines
from drift.git.patchid import DiffTexts
from drift.git.treediff import GITLINK_MODE, FileChange
from drift_fixtures import messy, scenarios, similar_scenarios
from drift_fixtures.demo import build_demo
from tests.gitoracle import git
from tests.test_patchid import _build as build_text_edits

FIXTURES: dict[str, Callable[[Path], Any]] = {
    **{f"scenario-{name}": build for name, build in scenarios.ALL.items()},
    **{f"messy-{name}": build for name, build in messy.ALL.items()},
    **{f"similar-{name}": build for name, build in similar_scenarios.ALL.items()},
    "demo": build_demo,
    "text-edits": build_text_edits,
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_lines_from_a_patch_ids_diff_text_are_the_blobs_lines(name: str, tmp_path: Path) -> None:
    """Every non-merge commit's changed lines, read once from the blobs (a repository that
    computed no patch id) and once from the texts its patch id kept: equal, file for file.
    The second repository must have served files from the texts (else nothing is shown)."""
    built = FIXTURES[name](tmp_path)
    path = built.path
    commits = git(path, "rev-list", "--all", "--no-merges").split()
    from_blobs = GitRepository.open(path)
    from_texts = GitRepository.open(path)
    served = 0
    for commit in commits:
        if from_texts.patch_id(commit) is None and commit in from_texts.unreadable:
            continue  # a missing blob (the partial-clone fixture): no text was made
        served += sum(from_texts.diff_text(c) is not None for c in from_texts.file_changes(commit))
        assert changed_lines(from_texts, commit) == changed_lines(from_blobs, commit), commit
    assert served > 0


def test_context_changes_the_hunks_never_the_lines(tmp_path: Path) -> None:
    """Lines 300 and 305 changed share one hunk with three lines of context, and make two
    without: the texts' lines are still the blobs' lines."""
    b = build_text_edits(tmp_path)
    repo = GitRepository.open(b.path)
    close = b.git("log", "--format=%H", "--grep=close hunks merge").strip()
    text = _text_of(repo, close)
    assert text.count(b"@@ -") == 2  # 5 alone; 300 and 305 share a hunk with context
    assert changed_lines(repo, close) == changed_lines(GitRepository.open(b.path), close)
    lines = changed_lines(repo, close)[0]
    assert lines.removed == (b"x", b"x", b"line 305") and lines.added == (b"y", b"y", b"y")


def _text_of(repo: GitRepository, commit: str) -> bytes:
    repo.patch_id(commit)
    [change] = repo.file_changes(commit)
    known = repo.diff_text(change)
    assert known is not None
    return known[2]


def test_texts_stop_at_their_budget_and_never_hold_a_gitlink() -> None:
    texts = DiffTexts(budget=10)
    one = FileChange(b"a", 0o100644, "1" * 40, 0o100644, "2" * 40)
    two = FileChange(b"b", 0o100644, "3" * 40, 0o100644, "4" * 40)
    three = FileChange(b"c", 0, None, 0o100644, "5" * 40)
    texts.keep(one, 10, 12, b"@@ -1 +1 @@")  # 11 bytes: over the budget
    texts.keep(two, 1, 1, b"@@ -1 +1")  # 8 bytes
    texts.keep(three, 0, 4, b"@@ -0")  # 5 more: over what is left
    assert texts.get(one) is None and texts.get(three) is None
    assert texts.get(two) == (1, 1, b"@@ -1 +1")
    link = FileChange(b"sub", GITLINK_MODE, "6" * 40, GITLINK_MODE, "7" * 40)
    roomy = DiffTexts()
    roomy.keep(link, 10, 10, b"@@ -1 +1 @@")
    assert roomy.get(link) is None


class _Store:
    """A persistent store that keeps only changed lines (the rest: always a miss)."""

    def __init__(self) -> None:
        self.kept: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return lambda *args: None  # changes, patch ids, lines of the base: misses

    def lines(self, commit_id: str) -> Any:
        return self.kept.get(commit_id)

    def put_lines(self, commit_id: str, lines: Any) -> None:
        self.kept[commit_id] = lines


def test_lines_read_without_a_missing_blob_are_never_kept(tmp_path: Path) -> None:
    """A blob missing from the object store leaves its file described by ids; those lines are
    not kept for later runs (once the blob is there again, it is read). Lines read in full
    are kept, and a later run takes them without reading anything."""
    b = build_text_edits(tmp_path)
    edit = b.git("log", "--format=%H", "--grep=edit middle").strip()
    crlf = b.git("log", "--format=%H", "--grep=crlf").strip()
    store = _Store()
    repo = GitRepository(pygit2.Repository(str(b.path)), b.path, cache=store)
    whole = changed_lines(repo, crlf)
    assert store.kept == {crlf: whole}
    blob = b.git("rev-parse", f"{edit}:src/app.py").strip()
    (b.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    [lines] = changed_lines(repo, edit)
    assert lines.summary is not None  # described by its blob ids
    assert edit not in store.kept
    assert changed_lines(repo, crlf) is whole
