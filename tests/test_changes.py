"""Change grouping and revert detection, each on a small real repository.

Every test states the whole findings list (as `finding_key` tuples) and, where plain git can
answer the same question, asks git too (tests/gitoracle.py). Histories start from a `base`
commit shared by every environment, so that base is the common base and never reported.
"""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from drift.audit import run_audit
from drift.cli import main
from drift.config import EnvSpec, Settings
from drift.git import GitRepository
from drift_fixtures.builder import RepoBuilder
from drift_fixtures.expect import Key, finding_key
from tests.gitoracle import cherry, git, is_ancestor, patch_id_stable, rev_count
from tests.probes import record_diffs

GHOST = "0123456789abcdef0123456789abcdef01234567"  # 40 hex naming no object here


def start(root: Path, *downstream: str) -> RepoBuilder:
    """`dev` with one base commit, and the downstream environments branched from it."""
    b = RepoBuilder.init(root / "repo")
    b.commit("base", {"app.txt": "1\n2\n3\n"})
    for name in downstream:
        b.branch(name, "dev")
    return b


def audit(
    b: RepoBuilder, envs: tuple[str, ...] = ("dev", "prod"), match: tuple[str, ...] | None = None
) -> dict[str, Any]:
    settings = Settings(envs=tuple(EnvSpec(e) for e in envs)).with_args(match=match)
    return run_audit(b.path, settings, now=0).to_dict()


def keys(data: dict[str, Any]) -> list[Key]:
    """The whole findings list, reduced to comparable keys."""
    return sorted((finding_key(f) for f in data["findings"]), key=repr)


def expect(*items: Key) -> list[Key]:
    return sorted(items, key=repr)


def of_kind(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in data["findings"] if f["kind"] == kind]


def message(b: RepoBuilder, commit: str) -> str:
    return git(b.path, "log", "-1", "--format=%B", commit)


def trailer(*originals: str) -> str:
    return "\n".join(f"(cherry picked from commit {o})" for o in originals)


# -- trailers --------------------------------------------------------------------------


@pytest.mark.parametrize("same_diff", [True, False], ids=["same-diff", "other-diff"])
def test_abbreviated_trailer_names_the_full_original(tmp_path: Path, same_diff: bool) -> None:
    """A hand-written `(cherry picked from commit <7 hex>)` resolves to the full id and groups,
    whether or not the copy's diff equals the original's."""
    b = start(tmp_path, "prod")
    o = b.commit("add feature", {"feature.txt": "on\n"})
    b.checkout("prod")
    content = "on\n" if same_diff else "on, adapted for prod\n"
    c = b.commit("add feature", {"feature.txt": content}, body=trailer(o[:7]))
    data = audit(b)
    # The adapted copy's tree was never dev's: prod runs something untested as such.
    untested = [] if same_diff else [("untested_release", c, "prod", "dev")]
    assert keys(data) == expect(
        ("cherry_pick", o, c, "trailer"),
        ("divergence", "dev", "prod", 1, 1, 0, 0),
        *untested,
    )
    (pick,) = of_kind(data, "cherry_pick")
    assert (pick["original_env"], pick["copy_env"]) == ("dev", "prod")
    assert pick["patch_differs"] is not same_diff
    assert data["changes"] == [
        {"id": o, "commits": [o, c], "is_revert": False, "approximate": False}
    ]
    # git cherry matches only equal diffs; the trailer is what groups the adapted copy.
    assert cherry(b.path, "dev", "prod") == {c: "-" if same_diff else "+"}


def test_chain_of_picks_is_one_pair_per_hop(tmp_path: Path) -> None:
    """dev -> test -> prod with `-x` twice: prod's message names both O and A, yet the pairs
    are the hops (O, A) and (A, B), never (O, B); all three commits are one change."""
    b = start(tmp_path, "test", "prod")
    o = b.commit("add feature", {"feature.txt": "on\n"})
    b.checkout("test")
    a = b.cherry_pick(o)
    b.checkout("prod")
    p = b.cherry_pick(a)
    assert trailer(o, a) in message(b, p)  # git keeps the first trailer and appends one
    data = audit(b, ("dev", "test", "prod"))
    assert keys(data) == expect(
        ("cherry_pick", o, a, "trailer"),
        ("cherry_pick", a, p, "trailer"),
        ("divergence", "dev", "test", 1, 1, 0, 0),
        ("divergence", "test", "prod", 1, 1, 0, 0),
    )
    assert not any(f["patch_differs"] for f in of_kind(data, "cherry_pick"))
    assert data["changes"] == [
        {"id": o, "commits": [o, a, p], "is_revert": False, "approximate": False}
    ]
    assert cherry(b.path, "dev", "test") == {a: "-"}
    assert cherry(b.path, "test", "prod") == {p: "-"}


def test_squash_of_two_picks_pairs_each_original(tmp_path: Path) -> None:
    """One prod commit carrying the combined diff of two unrelated dev commits and a trailer
    for each is a copy of both: pairs (X, S) and (Y, S), nothing pending."""
    b = start(tmp_path, "prod")
    x = b.commit("add x", {"x.txt": "x\n"})
    y = b.commit("add y", {"y.txt": "y\n"})
    b.checkout("prod")
    s = b.commit("add x and y", {"x.txt": "x\n", "y.txt": "y\n"}, body=trailer(x, y))
    assert git(b.path, "rev-parse", "dev^{tree}") == git(b.path, "rev-parse", "prod^{tree}")
    data = audit(b)
    assert keys(data) == expect(
        ("cherry_pick", x, s, "trailer"),
        ("cherry_pick", y, s, "trailer"),
        ("divergence", "dev", "prod", 1, 2, 0, 0),
    )
    assert all(f["patch_differs"] for f in of_kind(data, "cherry_pick"))
    assert data["changes"] == [
        {"id": x, "commits": [x, y, s], "is_revert": False, "approximate": False}
    ]
    # git cherry sees no single equivalent of S: the squash is only visible through trailers.
    assert cherry(b.path, "dev", "prod") == {s: "+"}
    assert cherry(b.path, "prod", "dev") == {x: "+", y: "+"}


def test_trailer_groups_a_pick_whose_conflict_was_resolved_differently(tmp_path: Path) -> None:
    """`cherry-pick -x` that conflicted with a prod hotfix and was resolved by hand: its diff
    differs (`patch_differs`), it is still the same change, so the original is not pending."""
    b = start(tmp_path, "prod")
    o = b.commit("two on dev", {"app.txt": "1\ntwo\n3\n"})
    b.checkout("prod")
    h = b.commit("hotfix two", {"app.txt": "1\nTWO\n3\n"})
    c = b.cherry_pick(o, resolve={"app.txt": "1\nTWO (two)\n3\n"})
    assert trailer(o) in message(b, c)
    data = audit(b)
    assert keys(data) == expect(
        ("cherry_pick", o, c, "trailer"),
        ("hotfix", h, "prod"),
        ("missing_hotfix", h, "prod", ("dev",)),
        ("untested_release", h, "prod", "dev"),
        ("untested_release", c, "prod", "dev"),
        ("divergence", "dev", "prod", 2, 1, 0, 1),
    )
    (pick,) = of_kind(data, "cherry_pick")
    assert pick["patch_differs"] is True
    assert data["changes"] == [
        {"id": o, "commits": [o, c], "is_revert": False, "approximate": False}
    ]
    assert patch_id_stable(b.path, o) != patch_id_stable(b.path, c)


def test_dangling_trailer_is_a_note_and_patch_ids_still_apply(tmp_path: Path) -> None:
    """A trailer naming 40 hex absent from the repository is noted and unused; the copy still
    pairs by patch id, and a dangling copy with no equal diff is an ordinary prod change."""
    b = start(tmp_path, "prod")
    o = b.commit("add feature", {"feature.txt": "on\n"})
    b.checkout("prod")
    c = b.commit("add feature", {"feature.txt": "on\n"}, body=trailer(GHOST))
    d = b.commit("prod only", {"prod.txt": "p\n"}, body=trailer(GHOST))
    data = audit(b)
    assert keys(data) == expect(
        ("cherry_pick", o, c, "patch-id"),
        ("hotfix", d, "prod"),
        ("missing_hotfix", d, "prod", ("dev",)),
        ("untested_release", d, "prod", "dev"),  # c's tree is o's: tested
        ("divergence", "dev", "prod", 2, 1, 0, 1),
    )
    ghost_notes = sorted(n for n in data["notes"] if GHOST in n)
    assert len(ghost_notes) == 2
    for note, commit in zip(ghost_notes, sorted([c, d]), strict=True):
        assert commit[:12] in note and "not in this repository" in note
    assert cherry(b.path, "dev", "prod") == {c: "-", d: "+"}


# -- reverts ---------------------------------------------------------------------------


def test_git_revert_is_found_by_message(tmp_path: Path) -> None:
    """`git revert` -> `revert` with method `message`; both the change and its revert are
    pending, and the pending change says it was reverted upstream."""
    b = start(tmp_path, "prod")
    f = b.commit("two on dev", {"app.txt": "1\ntwo\n3\n"})
    r = b.revert(f)
    assert f"This reverts commit {f}." in message(b, r)
    data = audit(b)
    assert keys(data) == expect(
        ("pending", f, "dev", "prod"),
        ("pending", r, "dev", "prod"),
        ("revert", r, f),
        ("divergence", "dev", "prod", 0, 2, 2, 0),
    )
    (revert,) = of_kind(data, "revert")
    assert (revert["method"], revert["env"], revert["note"]) == ("message", "dev", None)
    pending = {p["commit"]: p for p in of_kind(data, "pending")}
    assert pending[f]["reverted_by"] == [r] and not pending[f]["is_revert"]
    assert pending[r]["is_revert"] and pending[r]["reverted_by"] == []


def test_hand_made_undo_is_found_by_inverse_patch(tmp_path: Path) -> None:
    """A commit with an ordinary message that restores the old content is a `revert` of the
    commit it undoes, method `inverse-patch`."""
    b = start(tmp_path, "prod")
    f = b.commit("two on dev", {"app.txt": "1\ntwo\n3\n"})
    u = b.commit("put 2 back", {"app.txt": "1\n2\n3\n"})
    assert git(b.path, "diff", f"{f}~1", u) == ""  # u restores exactly what f changed
    data = audit(b)
    assert keys(data) == expect(
        ("pending", f, "dev", "prod"),
        ("pending", u, "dev", "prod"),
        ("revert", u, f),
        ("divergence", "dev", "prod", 0, 2, 2, 0),
    )
    (revert,) = of_kind(data, "revert")
    assert revert["method"] == "inverse-patch"


def test_hand_made_undo_of_an_added_file_is_found_by_inverse_patch(tmp_path: Path) -> None:
    """Deleting a file a commit added, with an ordinary message: the undo's diff is the added
    file's diff inverted (a delete against an add), as `git patch-id` of the inverted diff
    agrees. Headers with an add or a delete are where a diff and its inverse differ."""
    b = start(tmp_path, "prod")
    f = b.commit("add the flag", {"flag.txt": "on\n"})
    u = b.commit("drop it", {"flag.txt": None})
    undone = git(b.path, "diff", f, f"{f}~1")  # f's diff, inverted
    inverse = git(b.path, "patch-id", "--stable", stdin=undone.encode() + b"\n").split()[0]
    shown = git(b.path, "show", u).encode() + b"\n"
    assert git(b.path, "patch-id", "--stable", stdin=shown).split()[0] == inverse
    data = audit(b)
    (revert,) = of_kind(data, "revert")
    assert (revert["revert"], revert["reverted"], revert["method"]) == (u, f, "inverse-patch")


def test_repick_after_a_revert_is_a_copy_not_an_undo(tmp_path: Path) -> None:
    """F then `revert F` on dev; prod picks F without -x. prod's copy has F's patch id and
    the inverse of the revert's: it is a copy of F (as `git cherry` says), not a revert."""
    b = start(tmp_path, "prod")
    f = b.commit("two on dev", {"app.txt": "1\ntwo\n3\n"})
    r = b.revert(f)
    b.checkout("prod")
    c = b.cherry_pick(f, x=False)
    data = audit(b)
    assert keys(data) == expect(
        ("cherry_pick", f, c, "patch-id"),
        ("revert", r, f),
        ("pending", r, "dev", "prod"),
        ("divergence", "dev", "prod", 1, 2, 1, 0),
    )
    assert cherry(b.path, "dev", "prod") == {c: "-"}


def test_copy_of_a_hand_made_undo_is_a_revert_too(tmp_path: Path) -> None:
    """An undo picked (without -x) to another environment is a revert there too, of the
    copy it undoes on its own branch; both undos are one change, both edits another."""
    b = start(tmp_path, "prod")
    f = b.commit("two everywhere", {"app.txt": "1\ntwo\n3\n"})
    b.checkout("prod")
    f2 = b.cherry_pick(f, x=False)
    b.checkout("dev")
    u = b.commit("put 2 back", {"app.txt": "1\n2\n3\n"})
    b.checkout("prod")
    u2 = b.cherry_pick(u, x=False)
    data = audit(b)
    assert keys(data) == expect(
        ("cherry_pick", f, f2, "patch-id"),
        ("cherry_pick", u, u2, "patch-id"),
        ("revert", u, f),
        ("revert", u2, f2),
        ("divergence", "dev", "prod", 2, 2, 0, 0),
    )
    assert {x["method"] for x in of_kind(data, "revert")} == {"inverse-patch"}
    assert cherry(b.path, "dev", "prod") == {f2: "-", u2: "-"}


def test_undo_of_a_commit_in_the_common_base_is_found_by_message_only(tmp_path: Path) -> None:
    """The common base is never diffed (docs/decisions.md), so a hand-made undo of a commit
    every environment already has is not recognised by its diff; `git revert` of such a
    commit still is, by its message."""
    b = start(tmp_path, "prod")
    f = b.commit("two everywhere", {"app.txt": "1\ntwo\n3\n"})
    g = b.commit("flag everywhere", {"flag.txt": "on\n"})
    b.checkout("prod")
    b.merge("dev")
    b.checkout("dev")
    u = b.commit("put 2 back", {"app.txt": "1\n2\n3\n"})
    r = b.revert(g)
    assert is_ancestor(b.path, f, "prod") and is_ancestor(b.path, g, "prod")
    data = audit(b)
    reverts = [k for k in keys(data) if k[0] == "revert"]
    assert reverts == [("revert", r, g)]
    assert ("pending", u, "dev", "prod") in keys(data)


def test_revert_naming_a_missing_commit(tmp_path: Path) -> None:
    """`This reverts commit <id>.` naming no commit here: `reverted` is null, with a note."""
    b = start(tmp_path, "prod")
    g = b.commit(
        'Revert "lost feature"', {"app.txt": "1\n2\n"}, body=f"This reverts commit {GHOST}."
    )
    data = audit(b)
    assert keys(data) == expect(
        ("pending", g, "dev", "prod"),
        ("revert", g, None),
        ("divergence", "dev", "prod", 0, 1, 1, 0),
    )
    (revert,) = of_kind(data, "revert")
    assert revert["method"] == "message"
    assert GHOST in revert["note"] and "not in this repository" in revert["note"]


def test_a_revert_in_the_same_second_does_not_turn_its_original_into_a_revert(
    tmp_path: Path,
) -> None:
    """Scripted work and rebases give a commit and its revert the same committer second. The
    original is then no undo of its revert, whose diff it inverts: the revert descends from
    it, so it is not earlier. Before, a tie counted as earlier, and the original was
    reported as an inverse-patch revert of its own revert (and of the revert's revert)."""
    b = start(tmp_path, "prod")
    f = b.commit("feature r", {"r.txt": "r\n"})
    r = b.revert(f, hours=0)
    rr = b.revert(r, hours=0)
    u = b.commit("feature s", {"s.txt": "s\n"}, hours=0)
    undo = b.commit("take s out by hand", {"s.txt": None}, hours=0)
    data = audit(b)
    reverts = {(x["revert"], x["reverted"], x["method"]) for x in of_kind(data, "revert")}
    assert reverts == {
        (r, f, "message"),
        (rr, r, "message"),
        (undo, u, "inverse-patch"),
    }
    is_revert = {x["commit"]: x["is_revert"] for x in of_kind(data, "pending")}
    assert is_revert == {f: False, r: True, rr: True, u: False, undo: True}
    times = {git(b.path, "log", "-1", "--format=%ct", c) for c in (f, r, rr, u, undo)}
    assert len(times) == 1  # one second for all five


def test_revert_of_a_revert_is_not_a_cherry_pick(tmp_path: Path) -> None:
    """Re-applying by reverting the revert shares the original's patch id; drift reports it as
    a revert of the revert, not a copy of the original. `git cherry` does call it equivalent:
    the one place drift deliberately differs (docs/decisions.md)."""
    b = start(tmp_path, "prod")
    f = b.commit("two on dev", {"app.txt": "1\ntwo\n3\n"})
    b.checkout("prod")
    p = b.cherry_pick(f)
    r = b.revert(p)
    rr = b.revert(r)
    data = audit(b)
    assert keys(data) == expect(
        ("cherry_pick", f, p, "trailer"),
        ("revert", r, p),
        ("revert", rr, r),
        ("divergence", "dev", "prod", 3, 1, 0, 2),
    )
    assert {x["method"] for x in of_kind(data, "revert")} == {"message"}
    assert patch_id_stable(b.path, rr) == patch_id_stable(b.path, f)
    assert cherry(b.path, "dev", "prod") == {p: "-", r: "+", rr: "-"}  # git: rr ~ f
    assert data["changes"] == [
        {"id": f, "commits": [f, p], "is_revert": False, "approximate": False}
    ]


# -- --match ---------------------------------------------------------------------------


def two_picks(root: Path) -> tuple[RepoBuilder, dict[str, str]]:
    """dev: o1, o2; prod: c1 = pick o1 without -x, c2 = pick o2 with -x."""
    b = start(root, "prod")
    ids = {"o1": b.commit("one", {"one.txt": "1\n"}), "o2": b.commit("two", {"two.txt": "2\n"})}
    b.checkout("prod")
    ids["c1"] = b.cherry_pick(ids["o1"], x=False)
    ids["c2"] = b.cherry_pick(ids["o2"], x=True)
    return b, ids


def match_expectation(match: str, ids: dict[str, str]) -> list[Key]:
    o1, o2, c1, c2 = ids["o1"], ids["o2"], ids["c1"], ids["c2"]
    if match == "trailer":
        return expect(
            ("pending", o1, "dev", "prod"),
            ("cherry_pick", o2, c2, "trailer"),
            ("hotfix", c1, "prod"),
            ("missing_hotfix", c1, "prod", ("dev",)),
            ("divergence", "dev", "prod", 2, 2, 1, 1),
        )
    pick2 = "patch-id" if match == "patch-id" else "trailer"
    return expect(
        ("cherry_pick", o1, c1, "patch-id"),
        ("cherry_pick", o2, c2, pick2),
        ("divergence", "dev", "prod", 2, 2, 0, 0),
    )


@pytest.mark.parametrize("match", ["trailer", "patch-id", "trailer,patch-id"])
def test_match_methods(tmp_path: Path, match: str) -> None:
    """`match=("trailer",)`: a pick without -x is not grouped (pending, and a prod hotfix);
    `match=("patch-id",)`: a pick with -x still groups, reported as `patch-id`."""
    b, ids = two_picks(tmp_path)
    data = audit(b, match=tuple(match.split(",")))
    assert keys(data) == match_expectation(match, ids)
    assert data["settings"]["match"] == match.split(",")
    assert cherry(b.path, "dev", "prod") == {ids["c1"]: "-", ids["c2"]: "-"}


def test_match_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`drift audit --match trailer --json out` exits 0 and its JSON reflects the setting."""
    b, ids = two_picks(tmp_path)
    monkeypatch.chdir(tmp_path)  # no config file of the working directory applies
    out = tmp_path / "report.json"
    argv = ["audit", str(b.path), "--envs", "dev,prod", "--match", "trailer", "--json", str(out)]
    assert main(argv) == 0
    assert "Traceback" not in capsys.readouterr().err
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["settings"]["match"] == ["trailer"]
    assert keys(data) == match_expectation("trailer", ids)


# -- what is never a change, and what is trivially one ----------------------------------


def mentions(data: dict[str, Any], commit: str) -> bool:
    """Whether a commit id appears in any finding or change (as a value or in a list)."""
    blob = json.dumps([data["findings"], data["changes"]])
    return commit in blob


def test_empty_commits_are_never_in_a_finding(tmp_path: Path) -> None:
    """Empty commits, even an empty one picked with -x (`--allow-empty`), form no change; they
    are only counted in `stats.empty_commits`."""
    b = start(tmp_path, "prod")
    e = b.commit("trigger CI", allow_empty=True)
    f = b.commit("add feature", {"feature.txt": "on\n"})
    b.checkout("prod")
    ep = b.cherry_pick(e)
    assert trailer(e) in message(b, ep)
    assert git(b.path, "diff-tree", "--no-commit-id", "-r", ep) == ""  # the pick is empty
    data = audit(b)
    assert keys(data) == expect(
        ("pending", f, "dev", "prod"),
        ("divergence", "dev", "prod", 1, 2, 1, 0),
    )
    assert not mentions(data, e) and not mentions(data, ep)
    assert data["stats"]["empty_commits"] == 2


def test_trailer_naming_an_empty_commit_does_not_group_it(tmp_path: Path) -> None:
    """A commit with a diff whose trailer names an empty commit (a pick of an empty commit,
    amended with content) must not pull the empty commit into a change: "Empty commits carry
    no change: they are never grouped" (findings.md)."""
    b = start(tmp_path, "prod")
    e = b.commit("trigger deploy", allow_empty=True)
    b.checkout("prod")
    c = b.commit("deploy config", {"deploy.txt": "on\n"}, body=trailer(e))
    data = audit(b)
    assert keys(data) == expect(
        ("hotfix", c, "prod"),
        ("missing_hotfix", c, "prod", ("dev",)),
        ("untested_release", c, "prod", "dev"),
        ("divergence", "dev", "prod", 1, 1, 0, 1),
    )
    assert not mentions(data, e)
    assert data["stats"]["empty_commits"] == 1


def test_same_commit_on_two_envs_is_one_change_not_a_pick(tmp_path: Path) -> None:
    """dev merged straight into prod (skipping test): the feature commit is reachable from dev
    and prod, is one change, and is never a cherry_pick of itself."""
    b = start(tmp_path, "test", "prod")
    f = b.commit("add feature", {"feature.txt": "on\n"})
    b.checkout("prod")
    m = b.merge("dev")
    data = audit(b, ("dev", "test", "prod"))
    assert keys(data) == expect(
        ("pending", f, "dev", "test"),
        ("promotion_merge", m, "dev", "prod"),
        ("untested_release", m, "prod", "test"),  # dev's tree went to prod, skipping test
        ("divergence", "dev", "test", 0, 1, 1, 0),
        ("divergence", "test", "prod", 2, 0, 0, 1),
    )
    assert data["changes"] == []  # a one-commit change is not listed
    assert data["stats"]["changes"] == 1
    assert is_ancestor(b.path, f, "dev") and is_ancestor(b.path, f, "prod")
    assert not is_ancestor(b.path, f, "test")
    assert rev_count(b.path, "test..prod") == 2


# -- resolving ids ---------------------------------------------------------------------


def test_lookup_commit_explains_what_it_cannot_resolve(tmp_path: Path) -> None:
    """`lookup_commit`: ambiguous short prefixes, missing ids and non-commits each say why."""
    b = RepoBuilder.init(tmp_path / "many")
    for i in range(400):
        (b.path / f"f{i:03d}.txt").write_text(f"{i}\n", encoding="utf-8")
    b.git("add", ".")
    head = b.commit("four hundred files")
    by_prefix: dict[str, list[str]] = defaultdict(list)
    for line in git(b.path, "rev-list", "--objects", "--all").splitlines():
        by_prefix[line[:4]].append(line.split()[0])
    shared = sorted(p for p, ids in by_prefix.items() if len(ids) > 1)
    assert shared, "no 4-hex prefix is shared: the fixture needs more objects"
    prefix = shared[0]
    # git agrees that the prefix is ambiguous
    proc = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", prefix], cwd=b.path, capture_output=True
    )
    assert proc.returncode != 0
    repo = GitRepository.open(b.path)
    assert repo.lookup_commit(prefix) == (None, "ambiguous")
    assert repo.lookup_commit(GHOST) == (None, "not in this repository")
    assert repo.lookup_commit(GHOST[:7]) == (None, "not in this repository")
    blob = git(b.path, "rev-parse", "HEAD:f000.txt")
    found, why = repo.lookup_commit(blob)
    assert found is None and "not a commit" in why
    assert repo.lookup_commit(head[:7]) == (head, "")
    assert repo.expand_id(prefix) is None


def test_trailer_to_the_common_base_is_paired_without_diffing_the_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy naming a commit every environment already has is still a cherry_pick, with
    `patch_differs` null and a note: the common base is never diffed."""
    b = start(tmp_path, "prod")
    o = b.commit("shared fix", {"fix.txt": "v1\n"})
    b.checkout("prod")
    b.merge("dev")
    b.checkout("dev")
    c = b.commit("shared fix again", {"fix.txt": "v2\n"}, body=trailer(o))
    diffed = record_diffs(monkeypatch)
    data = audit(b)
    (pick,) = of_kind(data, "cherry_pick")
    assert (pick["original"], pick["copy"], pick["patch_differs"]) == (o, c, None)
    assert "common base" in pick["note"]
    assert o not in diffed


def test_copy_promoted_into_the_common_base_still_groups(tmp_path: Path) -> None:
    """A prod hotfix picked to dev with -x, whose copy was then promoted everywhere: the copy
    is in the common base, yet the fix is on every environment. It is a cherry_pick (copy in
    the base, with a note), not a missing hotfix (found by reading trailers of base commits
    newer than the oldest commit outside it; the base is still never diffed)."""
    b = start(tmp_path, "test", "staging", "prod")
    b.checkout("prod")
    h = b.commit("fix rounding", {"fix.txt": "round half even\n"})
    b.checkout("dev")
    copy = b.cherry_pick(h)
    merges = {}
    for up, down in (("dev", "test"), ("test", "staging"), ("staging", "prod")):
        b.checkout(down)
        merges[down] = b.merge(up)
    assert all(is_ancestor(b.path, copy, env) for env in ("dev", "test", "staging", "prod"))
    data = audit(b, ("dev", "test", "staging", "prod"))
    assert keys(data) == expect(
        ("cherry_pick", h, copy, "trailer"),
        ("promotion_merge", merges["test"], "dev", "test"),
        ("promotion_merge", merges["staging"], "test", "staging"),
        ("promotion_merge", merges["prod"], "staging", "prod"),
        # h's tree reached staging only later (via the promoted copy): untested when released
        ("untested_release", h, "prod", "staging"),
        ("divergence", "dev", "test", 1, 0, 0, 0),
        ("divergence", "test", "staging", 1, 0, 0, 0),
        ("divergence", "staging", "prod", 2, 0, 0, 0),
    )
    (pick,) = of_kind(data, "cherry_pick")
    assert "common base" in pick["note"]
