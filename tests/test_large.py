"""The benchmark repository generator: reproducible, and its merges are git's own merges."""

from __future__ import annotations

from pathlib import Path

from drift_fixtures.large import generate
from tests.gitoracle import git


def test_same_seed_same_repository_and_every_kind_of_event(tmp_path: Path) -> None:
    one = generate(tmp_path / "one", 1500, seed=7, files=200)
    two = generate(tmp_path / "two", 1500, seed=7, files=200)
    assert one == two
    refs = "for-each-ref", "--format=%(refname) %(objectname)"
    assert git(tmp_path / "one", *refs) == git(tmp_path / "two", *refs)
    for event in (
        "feature",
        "promotion_merge",
        "cherry_pick",
        "cherry_pick_x",
        "revert",
        "hotfix_back_merged",
        "hotfix_forgotten",
        "direct_downstream",
    ):
        assert one.get(event, 0) > 0, event
    assert int(git(tmp_path / "one", "rev-list", "--all", "--count")) == 1500


def test_generated_merges_are_git_merges_or_resolved_conflicts(tmp_path: Path) -> None:
    """Every merge equals git's own re-merge (`git show --remerge-diff`) except where git
    itself conflicts (both sides changed neighbouring lines) and the generator resolved it:
    the generator never makes a clean-but-different ("evil") merge, so drift's findings on
    benchmark repositories are never artefacts of it."""
    repo = tmp_path / "r"
    generate(repo, 1200, seed=3, files=150)
    merges = git(repo, "rev-list", "--merges", "--all").split()
    assert len(merges) > 30
    clean = 0
    for merge in merges:
        shown = git(repo, "show", "--remerge-diff", "--format=", merge)
        files = shown.count("diff --git ")
        assert shown.count("remerge CONFLICT") == files, merge
        clean += files == 0
    assert clean > len(merges) * 0.8


def test_trailers_and_reverts_name_real_commits(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    generate(repo, 1500, seed=5, files=150)
    log = git(repo, "log", "--all", "--format=%B")
    named = [
        line.split()[-1].rstrip(").")
        for line in log.splitlines()
        if line.startswith(("(cherry picked from commit", "This reverts commit"))
    ]
    assert named
    for commit in named:
        assert git(repo, "cat-file", "-t", commit) == "commit"


def test_a_drifting_repository_diverges_both_ways_with_copies_git_sees(tmp_path: Path) -> None:
    """`drifting=True`: the last stretch is a release freeze. History before it is the default
    one's, commit for commit; after it, every adjacent pair holds non-merge commits on both
    sides, and some of test's are cherry-picks `git cherry` finds patch-equivalent on dev."""
    plain = generate(tmp_path / "plain", 1500, seed=7, files=200)
    frozen = generate(tmp_path / "frozen", 1500, seed=7, files=200, drifting=True)
    assert frozen == generate(tmp_path / "again", 1500, seed=7, files=200, drifting=True)
    assert frozen != plain
    # 1,500 commits freeze for the last 300: the 1,200 before are the same commits
    oldest = "rev-list", "--all", "--reverse", "--date-order"
    before = git(tmp_path / "plain", *oldest).split()[:1200]
    assert git(tmp_path / "frozen", *oldest).split()[:1200] == before
    for a, b in (("dev", "test"), ("test", "staging"), ("staging", "prod")):
        pair = f"{a}...{b}"
        sides = {
            repo: [
                int(n)
                for n in git(
                    tmp_path / repo, "rev-list", "--no-merges", "--left-right", "--count", pair
                ).split()
            ]
            for repo in ("plain", "frozen")
        }
        assert min(sides["frozen"]) >= 10, (pair, sides)  # 300 frozen commits: both ways
        assert min(sides["plain"]) <= 1, (pair, sides)  # the default: (nearly) one way
    equivalent = git(tmp_path / "frozen", "cherry", "dev", "test").splitlines()
    assert any(line.startswith("- ") for line in equivalent)  # picks forward, found by git


def _outside_base(repo: Path) -> int:
    """Commits outside the common base of the four environments, as git counts them."""
    envs = ("dev", "test", "staging", "prod")
    base = git(repo, "merge-base", "--octopus", *envs)
    return int(git(repo, "rev-list", "--count", *envs, f"^{base}"))


def test_pending_fixes_the_divergence_whatever_the_length_of_history(tmp_path: Path) -> None:
    """`pending=N`: the last stretch is N commits at every size, so a benchmark can grow the
    history fourfold while the commits outside the common base stay within the same range
    (the stretch, and whatever the last promotions left in flight); by default the stretch
    is 4% of the commits (300 at least), and the divergence grows with them."""
    short = _outside_base_of(tmp_path / "short", 1500, 100)
    long = _outside_base_of(tmp_path / "long", 6000, 100)
    default = _outside_base_of(tmp_path / "default", 6000, None)
    assert 100 <= short < 300 and 100 <= long < 300, (short, long)
    assert default > 400, default
    # the same seed: before its last stretch, the shorter history is the longer one's start
    oldest = "rev-list", "--all", "--reverse", "--date-order"
    assert (
        git(tmp_path / "long", *oldest).split()[:1400]
        == git(tmp_path / "short", *oldest).split()[:1400]
    )


def _outside_base_of(repo: Path, commits: int, pending: int | None) -> int:
    generate(repo, commits, seed=7, files=200, pending=pending)
    return _outside_base(repo)
