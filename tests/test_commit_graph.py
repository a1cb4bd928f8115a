"""git's commit-graph file read directly (drift.git.commit_graph): the first-parent lines it
gives are the ones libgit2 reads and `git log --first-parent` prints, whether the graph is one
file or a split chain, older than the branches, or damaged."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from drift.config import EnvSpec, Settings
from drift.environments import resolve_chain
from drift.git.commit_graph import CommitGraph
from drift.git.repository import GitRepository, LineCommit, LineTrees
from drift_fixtures import messy, scenarios
from drift_fixtures.builder import RepoBuilder
from drift_fixtures.demo import build_demo
from drift_fixtures.expect import Scenario
from tests.gitoracle import git
from tests.probes import audit_with_jobs
from tests.test_line_trees import line_trees_by_git

FIXTURES: dict[str, Callable[[Path], Scenario]] = {
    **{f"scenario-{name}": build for name, build in scenarios.ALL.items()},
    **{f"messy-{name}": build for name, build in messy.ALL.items()},
    "demo": build_demo,
}


def _tips(scenario: Scenario) -> list[str]:
    repo = GitRepository.open(scenario.path)
    settings = Settings() if scenario.detect else Settings(envs=tuple(map(EnvSpec, scenario.envs)))
    return [env.commit for env in resolve_chain(repo, settings).envs]


def _through_libgit2(path: Path, start: str) -> LineTrees:
    repo = GitRepository.open(path)
    repo._graph = None  # as if there were no graph file
    return repo.line_trees(start)


def _graph_file(path: Path) -> Path:
    return path / ".git" / "objects" / "info" / "commit-graph"


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_lines_read_from_the_graph_are_libgit2s_and_git_logs(name: str, tmp_path: Path) -> None:
    """Every environment's whole first-parent line, in every fixture (octopus merges, roots,
    odd messages and dates included): the same mapping from the graph as without it, and as
    `git log --first-parent` gives."""
    scenario = FIXTURES[name](tmp_path)
    tips = _tips(scenario)
    before = {tip: _through_libgit2(scenario.path, tip) for tip in tips}
    git(scenario.path, "commit-graph", "write", "--reachable")
    repo = GitRepository.open(scenario.path)
    assert repo.commit_graph() is not None
    for tip in tips:
        assert repo.line_trees(tip) == before[tip]
        assert before[tip] == line_trees_by_git(scenario.path, tip)
        assert list(repo.first_parent_walk(tip)) == _walk_by_git(scenario.path, tip)


def _walk_by_git(path: Path, start: str) -> list[LineCommit]:
    """What GitRepository.first_parent_walk promises, from `git log --first-parent`."""
    out = git(path, "log", "--first-parent", "--format=%H %T %ct %P", start)
    return [
        LineCommit(commit, tree, int(when), tuple(parents))
        for commit, tree, when, *parents in (line.split() for line in out.splitlines())
    ]


def _octopus_history(root: Path) -> RepoBuilder:
    b = RepoBuilder.init(root / "repo")
    b.commit("base", {"app.py": "1\n"}, label="base")
    for name in ("a", "b", "c"):
        b.checkout(name, create_from="base")
        b.commit(f"work {name}", {f"{name}.py": f"{name}\n"})
    b.checkout("dev")
    b.commit("on dev", {"app.py": "2\n"})
    b.merge("a", "b", "c", label="octopus")
    b.commit("after", {"app.py": "3\n"})
    return b


def test_an_octopus_merge_brings_every_parent_from_the_edge_list(tmp_path: Path) -> None:
    b = _octopus_history(tmp_path)
    git(b.path, "commit-graph", "write", "--reachable")
    tip = b.head()
    trees = GitRepository.open(b.path).line_trees(tip)
    assert trees == line_trees_by_git(b.path, tip)
    octopus = b.rev("octopus")
    for parent in git(b.path, "rev-list", "--parents", "-n1", octopus).split()[2:]:
        assert trees.as_dict()[git(b.path, "rev-parse", f"{parent}^{{tree}}")][1] == parent


def test_a_split_chain_older_than_the_branches(tmp_path: Path) -> None:
    """Two layers (git maintenance writes chains), then commits no layer holds: those are
    read through libgit2 down to the first commit the graph has."""
    b = RepoBuilder.init(tmp_path / "repo")
    b.commit("base", {"app.py": "1\n"})
    b.commit("two", {"app.py": "2\n"})
    git(b.path, "commit-graph", "write", "--reachable", "--split=no-merge")
    b.checkout("side", create_from="dev")
    b.commit("side work", {"side.py": "s\n"})
    b.checkout("dev")
    b.commit("three", {"app.py": "3\n"})
    b.merge("side")
    git(b.path, "commit-graph", "write", "--reachable", "--split=no-merge")
    b.commit("four, in no layer", {"app.py": "4\n"})
    b.commit("five, in no layer", {"app.py": "5\n"})
    assert not _graph_file(b.path).exists()
    chain = b.path / ".git" / "objects" / "info" / "commit-graphs" / "commit-graph-chain"
    assert len(chain.read_text().split()) == 2
    repo = GitRepository.open(b.path)
    graph = repo.commit_graph()
    assert graph is not None
    assert graph.position(b.head()) is None
    assert graph.position(b.rev("dev~2")) is not None
    tip = b.head()
    assert repo.line_trees(tip) == line_trees_by_git(b.path, tip) == _through_libgit2(b.path, tip)


def _graphed(tmp_path: Path) -> RepoBuilder:
    b = _octopus_history(tmp_path)
    git(b.path, "commit-graph", "write", "--reachable")
    return b


def test_git_told_not_to_use_the_graph_means_drift_does_not(tmp_path: Path) -> None:
    b = _graphed(tmp_path)
    assert GitRepository.open(b.path).commit_graph() is not None
    git(b.path, "config", "core.commitGraph", "false")
    assert GitRepository.open(b.path).commit_graph() is None


def _corrupt(data: bytearray, at: int, value: int) -> None:
    struct.pack_into(">I", data, at, value)


def _chunk(data: bytes | bytearray, name: bytes) -> int:
    """Where a chunk starts, from the file's table of contents."""
    for i in range(data[6]):
        at = 8 + 12 * i
        if data[at : at + 4] == name:
            return int.from_bytes(data[at + 4 : at + 12], "big")
    raise AssertionError(name)


@pytest.mark.parametrize(
    "damage",
    ["cut", "signature", "version", "fanout", "parent", "other-parent", "chunk-outside", "tree"],
)
def test_a_damaged_graph_is_not_trusted(damage: str, tmp_path: Path) -> None:
    """A file that is cut, of another version, or whose positions point outside it: the
    lines are read through libgit2, with the same answer, and nothing crashes."""
    b = _graphed(tmp_path)
    tip = b.head()
    expected = _through_libgit2(b.path, tip)
    walk = _walk_by_git(b.path, tip)  # git itself trusts the file: asked before the damage
    path = _graph_file(b.path)
    data = bytearray(path.read_bytes())
    cdat = _chunk(data, b"CDAT")
    if damage == "cut":
        data = data[: len(data) // 2]
    elif damage == "signature":
        data[:4] = b"XXXX"
    elif damage == "version":
        data[4] = 2
    elif damage == "fanout":
        _corrupt(data, _chunk(data, b"OIDF"), 0xFFFF)  # a first bucket past the end
    elif damage == "chunk-outside":
        struct.pack_into(">Q", data, 8 + 4, len(data) + 100)
    elif damage == "tree":  # in range, but not what git wrote: only the checksum tells
        data[cdat] ^= 0xFF
    else:  # every commit's first or second parent far out of range
        count = int.from_bytes(data[_chunk(data, b"OIDF") + 255 * 4 :][:4], "big")
        offset = 20 if damage == "parent" else 24
        for i in range(count):
            _corrupt(data, cdat + i * 36 + offset, 0x0FFFFFFF)
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    repo = GitRepository.open(b.path)
    assert repo.line_trees(tip) == expected
    assert repo.line_trees(tip) == expected  # asked again, after the graph was given up
    assert list(GitRepository.open(b.path).first_parent_walk(tip)) == walk


def test_a_walk_the_graph_cannot_finish_goes_on_through_libgit2(tmp_path: Path) -> None:
    """A parent position out of range met half-way down a line: the commits before it come
    from the graph, the rest through libgit2, each once, none wrong."""
    b = RepoBuilder.init(tmp_path / "repo")
    for n in range(6):
        b.commit(f"commit {n}", {"app.py": f"{n}\n"})
    tip = b.head()
    git(b.path, "commit-graph", "write", "--reachable")
    path = _graph_file(b.path)
    data = bytearray(path.read_bytes())
    repo = GitRepository.open(b.path)
    graph = repo.commit_graph()
    assert graph is not None
    middle = graph.position(b.rev("dev~3"))
    assert middle is not None
    _corrupt(data, _chunk(data, b"CDAT") + middle * 36 + 20, 0x0FFFFFFF)
    graph._data = bytes(data[_chunk(data, b"CDAT") : _chunk(data, b"CDAT") + graph.count * 36])
    seen = list(repo.first_parent_walk(tip))
    assert seen == _walk_by_git(b.path, tip)
    assert repo.commit_graph() is None  # given up for the rest of the run


def test_a_commit_the_graph_does_not_hold_has_no_position(tmp_path: Path) -> None:
    b = _graphed(tmp_path)
    graph = CommitGraph.open(b.path / ".git" / "objects")
    assert graph is not None
    assert graph.position(b.head()) is not None
    assert graph.position("0" * 40) is None
    assert graph.position("f" * 40) is None
    assert graph.position("not hex") is None
    assert graph.count == int(git(b.path, "rev-list", "--count", "--all"))


@pytest.mark.parametrize("jobs", ["1", None])
def test_an_audit_with_the_graph_reports_what_it_reports_without(
    jobs: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo repository's whole report, with and without a graph, read in process and
    (where the machine allows a child) by the base lines' child."""
    path = build_demo(tmp_path).path
    without = audit_with_jobs(path, monkeypatch, jobs)
    git(path, "commit-graph", "write", "--reachable")
    assert GitRepository.open(path).commit_graph() is not None
    assert audit_with_jobs(path, monkeypatch, jobs) == without


def test_a_long_run_of_commits_newer_than_the_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """150 commits made after the graph (more than two strides of GRAPH_STRIDE) above 100
    it holds: read through libgit2, then the graph from a commit it holds (asked every
    stride); the same line as git gives."""
    b = RepoBuilder.init(tmp_path / "repo")
    b.commit("base", {"app.py": "0\n"})
    for n in range(100):
        b.git("commit", "-q", "--allow-empty", "-m", f"earlier {n}")
    git(b.path, "commit-graph", "write", "--reachable")
    for n in range(150):
        b.git("commit", "-q", "--allow-empty", "-m", f"later {n}")
    tip = b.head()
    switched: list[str] = []
    for name in ("line_trees", "first_parent_walk"):
        real = getattr(CommitGraph, name)

        def spy(self: CommitGraph, *args: object, real: object = real, name: str = name) -> object:
            switched.append(name)
            return real(self, *args)  # type: ignore[operator]

        monkeypatch.setattr(CommitGraph, name, spy)
    repo = GitRepository.open(b.path)
    assert repo.line_trees(tip) == line_trees_by_git(b.path, tip)
    assert list(repo.first_parent_walk(tip)) == _walk_by_git(b.path, tip)
    assert switched == ["line_trees", "first_parent_walk"]


@pytest.mark.parametrize("rewrite", ["shallow", "grafts", "replace"])
def test_history_rewritten_on_reading_means_no_graph(rewrite: str, tmp_path: Path) -> None:
    """git ignores the graph in a shallow clone, with info/grafts and with replace refs
    (the graph, written before, knows nothing of them): so does drift."""
    b = _graphed(tmp_path)
    first = b.rev("base")
    if rewrite == "shallow":
        (b.path / ".git" / "shallow").write_text(b.rev("dev~1") + "\n")
    elif rewrite == "grafts":
        (b.path / ".git" / "info").mkdir(exist_ok=True)
        (b.path / ".git" / "info" / "grafts").write_text(b.rev("dev~1") + "\n")
    else:
        git(b.path, "replace", b.rev("dev~1"), first)
    assert GitRepository.open(b.path).commit_graph() is None
