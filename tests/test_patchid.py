"""drift's patch ids against git's: `git patch-id --stable` for text, `git cherry` for the rest."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drift.git import GitRepository
from drift_fixtures.builder import RepoBuilder
from tests.gitoracle import cherry, git, hunks_only, patch_id_stable

TEXT_EDITS: list[tuple[str, dict[str, str | bytes | None]]] = [
    (
        "add nested files",
        {"src/app.py": "import os\n\ndef main():\n    return 1\n", "docs/a b.md": "# t\n"},
    ),
    ("edit middle", {"src/app.py": "import os\n\ndef main():\n    return 2\n"}),
    ("no newline at end", {"docs/a b.md": "# title"}),
    ("whitespace only", {"src/app.py": "import os\n\ndef main():\n\treturn 2\n"}),
    ("crlf", {"win.txt": "a\r\nb\r\nc\r\n"}),
    ("long file", {"big.txt": "".join(f"line {i}\n" for i in range(400))}),
    (
        "two distant hunks",
        {"big.txt": "".join(f"line {i}\n" if i not in (5, 300) else "x\n" for i in range(400))},
    ),
    (
        "close hunks merge",
        {
            "big.txt": "".join(
                f"line {i}\n" if i not in (5, 300, 305) else "y\n" for i in range(400)
            )
        },
    ),
    ("delete one of two equal lines", {"dup.txt": "a\nb\nb\nc\n"}),
    ("", {"dup.txt": "a\nb\nc\n"}),
    ("unicode", {"uni.txt": "gr\u00fc\u00dfe \u2603\n"}),
    ("delete file", {"win.txt": None}),
]


def _build(root: Path) -> RepoBuilder:
    b = RepoBuilder.init(root / "r")
    for i, (subject, files) in enumerate(TEXT_EDITS):
        b.commit(subject or f"edit {i}", files)
    os.symlink("src/app.py", b.path / "link")
    b.git("add", "link")
    b.commit("symlink")
    return b


def test_text_patch_ids_equal_git_patch_id_stable(tmp_path: Path) -> None:
    b = _build(tmp_path)
    repo = GitRepository.open(b.path)
    commits = b.git("rev-list", "HEAD").split()
    assert len(commits) == len(TEXT_EDITS) + 1
    for commit in commits:
        assert repo.patch_id(commit) == patch_id_stable(b.path, commit), repo.commit(commit).subject


def test_empty_commit_has_no_patch_id(tmp_path: Path) -> None:
    b = RepoBuilder.init(tmp_path / "r")
    b.commit("base", {"a": "1\n"})
    empty = b.commit("nothing", allow_empty=True)
    assert GitRepository.open(b.path).patch_id(empty) is None


def _equivalence_case(
    tmp_path: Path, files: dict[str, str | bytes | None], chmod: str | None = None
) -> None:
    """Make one change on `dev`, pick it (no -x) onto `prod`: git cherry and drift must agree."""
    b = RepoBuilder.init(tmp_path / "r")
    b.commit("base", {"a.txt": "a\n", "run.sh": "echo\n", "blob.bin": b"\x00\x01\x02"})
    b.branch("prod", "dev")
    b.commit("unrelated", {"other.txt": "o\n"})
    if files:
        b.write(files)
    if chmod:
        (b.path / "run.sh").chmod(0o755 if chmod == "+x" else 0o644)
        b.git("add", "run.sh")
    change = b.commit("the change")
    b.checkout("prod")
    copy = b.cherry_pick(change, x=False)
    repo = GitRepository.open(b.path)
    assert cherry(b.path, "dev", "prod")[copy] == "-"
    assert repo.patch_id(copy) == repo.patch_id(change)
    assert repo.patch_id(copy) != repo.patch_id(b.rev("dev~1"))


def test_binary_change_equivalence_agrees_with_git_cherry(tmp_path: Path) -> None:
    _equivalence_case(tmp_path, {"blob.bin": b"\x00\x01\x02\x03", "new.bin": b"\x00" * 10})


def test_mode_change_equivalence_agrees_with_git_cherry(tmp_path: Path) -> None:
    _equivalence_case(tmp_path, {}, chmod="+x")


def test_rename_equivalence_agrees_with_git_cherry(tmp_path: Path) -> None:
    _equivalence_case(tmp_path, {"a.txt": None, "moved/a.txt": "a\n"})


def test_empty_file_equivalence_agrees_with_git_cherry(tmp_path: Path) -> None:
    _equivalence_case(tmp_path, {"pkg/__init__.py": "", "a.txt": None})


def test_binary_ids_are_full_blob_ids(tmp_path: Path) -> None:
    """Two different binary edits of one file never collide (git hashes the blob ids)."""
    b = RepoBuilder.init(tmp_path / "r")
    b.commit("base", {"x.bin": b"\x00a"})
    one = b.commit("one", {"x.bin": b"\x00b"})
    two = b.commit("two", {"x.bin": b"\x00c"})
    repo = GitRepository.open(b.path)
    assert repo.patch_id(one) != repo.patch_id(two)


lines = st.lists(st.sampled_from(["a", "b", "c", "", "  d", "\tx", "}"]), max_size=30)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=lines, after=lines, trailing=st.booleans())
def test_random_edits_match_git(
    tmp_path_factory: object, before: list[str], after: list[str], trailing: bool
) -> None:
    """Random line edits (duplicates, blank and indented lines) give git's patch id."""
    import tempfile

    with tempfile.TemporaryDirectory() as root:
        b = RepoBuilder.init(Path(root) / "r")
        end = "\n" if trailing else ""
        b.commit("before", {"f.txt": "\n".join(before) + end})
        b.commit("after", {"f.txt": "\n".join(after) + "\n"}, allow_empty=True)
        commit = b.head()
        assert GitRepository.open(b.path).patch_id(commit) == patch_id_stable(b.path, commit)


def test_drift_own_history_matches_git() -> None:
    """On drift's own repository (real history), every text commit's id equals git's."""
    here = Path(__file__).resolve().parent.parent
    if not (here / ".git").exists():
        return
    repo = GitRepository.open(here)
    commits = git(here, "rev-list", "--no-merges", "--max-count=60", "HEAD").split()
    compared = [c for c in commits if hunks_only(here, c)]
    assert compared, "drift's own history has commits with textual diffs"
    for commit in compared:
        assert repo.patch_id(commit) == patch_id_stable(here, commit)


def test_tree_modes_written_oddly_compare_as_git_compares_them(tmp_path: Path) -> None:
    """Old tools wrote modes like 100664 or 100775 into trees; git reads them canonically
    (100644, 100755), so a tree that differs only in such spelling has no change, and an
    executable bit is a mode change, as `git diff-tree -r` says."""
    from drift.git.treediff import diff_trees

    b = RepoBuilder.init(tmp_path / "r", branch="dev")
    b.commit("base", {"f": "hi\n"})
    blob = git(b.path, "rev-parse", "HEAD:f")
    plain = git(b.path, "rev-parse", "HEAD^{tree}")

    def raw_tree(mode: bytes) -> str:
        data = mode + b" f\0" + bytes.fromhex(blob)
        args = ("hash-object", "-t", "tree", "--literally", "-w", "--stdin")
        return git(b.path, *args, stdin=data)

    repo = GitRepository.open(b.path)._repo
    for mode, expected in ((b"100664", ""), (b"100775", ":100644 100755")):
        odd = raw_tree(mode)
        theirs = git(b.path, "diff-tree", "-r", plain, odd)
        assert theirs.startswith(expected) and bool(theirs) == bool(expected)
        ours = diff_trees(repo, plain, odd)
        assert [(c.old_mode, c.new_mode) for c in ours] == (
            [(0o100644, 0o100755)] if expected else []
        )


def test_a_damaged_blob_is_read_as_git_reads_it(tmp_path: Path) -> None:
    """A loose blob whose content no longer hashes to its id: `git log -p`, `git cherry` and
    `git patch-id` read it as it is (only `git fsck` hashes objects again), and so does drift,
    where libgit2 by default refuses it ("object hash mismatch")."""
    b = RepoBuilder.init(tmp_path / "r")
    b.commit("one", {"f.txt": "one\n"})
    commit = b.commit("two", {"f.txt": "two\n"})
    blob = b.git("rev-parse", f"{commit}:f.txt").strip()
    loose = b.path / ".git" / "objects" / blob[:2] / blob[2:]
    assert loose.is_file()
    loose.chmod(0o644)
    loose.write_bytes(zlib.compress(b"blob 4\0TWO\n"))
    (b.path / "f.txt").unlink()  # git diff would read a file still up to date from there
    assert b.git("cat-file", "blob", blob).strip() == "TWO"
    expected = patch_id_stable(b.path, commit)
    changed = RepoBuilder.init(tmp_path / "same")
    changed.commit("one", {"f.txt": "one\n"})
    assert expected == patch_id_stable(changed.path, changed.commit("two", {"f.txt": "TWO\n"}))
    assert GitRepository.open(b.path).patch_id(commit) == expected
