"""Read-only access to one repository through pygit2.

This class opens objects and refs and never writes: no refs, no index, no objects, no
config. pygit2 errors become `DriftError`s that name what the user has to fix.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pygit2

from drift.commits import CommitInfo
from drift.errors import DriftError, UnreadableObjectError
from drift.git import gitcli
from drift.git.commit_graph import CommitGraph, GraphError, LineCommit
from drift.git.commit_info import decode_commit
from drift.git.line_trees import LineTrees
from drift.git.merges import MergeChecker, Remerge
from drift.git.patchid import DiffTexts, MissingObjectError, patch_id
from drift.git.store import (
    ACTIVE_STORE,
    ChildInfos,
    CommitStore,
    FolderListing,
    InfoStore,
)
from drift.git.treediff import GITLINK_MODE, FileChange, diff_trees, tree_listing

if TYPE_CHECKING:
    from drift.git.blobs import FileLines

__all__ = [
    "ChangesFeed",
    "FileChange",
    "GitRepository",
    "LineCommit",
    "LineTrees",
    "MergeChecker",
    "RefInfo",
    "Remerge",
    "read_each_once",
]

T = TypeVar("T")
_REF_NAMESPACES = ("refs/heads/", "refs/remotes/", "refs/tags/")

# Below this many commits to diff, starting git costs more than it saves (about 10 ms).
GIT_BATCH_MIN = 64

# libgit2 keeps up to 256 MiB of parsed objects and maps packs in 1 GiB windows (8 GiB in
# all) by default; both count in the process's peak memory. Measured on the benchmark
# repositories, same reports and same time: 16 MiB windows, 64 MiB mapped and a 64 MiB object
# cache took the peak from 328 to 288 MiB at 100k commits and from 806 to 549 MiB at 300k. A
# 16 MiB object cache saved 40 MiB more at 100k but cost 8% more time (objects read again).
OBJECT_CACHE_BYTES = 64 * 2**20
PACK_WINDOW_BYTES = 16 * 2**20
PACK_MAPPED_LIMIT_BYTES = 64 * 2**20
#: Whether libgit2 hashes every object it reads again to check its id (its default). git
#: does not when it walks commits or diffs blobs (`git log -p`, `git cherry`, `git patch-id`
#: read a damaged object as it is; only `git fsck` hashes), and drift reads as they do: the
#: check was 15% of a commit's read and 25-45% of a blob's, 8.9 -> 7.8 s of CPU in a cold
#: audit at 300k commits (tests/test_patchid.py).
HASH_CHECK = False


#: The first batch a ChangesFeed hands git; each later one is twice the one before.
FEED_FIRST = 512


class ChangesFeed:
    """File changes asked of git in batches while the history walk is still finding the
    commits, instead of in one batch once it is done.

    During the walk this process is the only one at work: git reads the first commits' trees
    on the second core meanwhile (at 300k commits git needs 0.4 s for the 12k commits outside
    the base, the walk 0.2 s, and the audit waited 0.4-0.6 s for git after the walk). Batches
    double in size (512, 1,024, 2,048, ...), so a walk of any length starts few processes;
    `finish` asks for the rest. Each batch is a `GitRepository.start_prefetch`, with its rules
    (the cache first, git only for 64 commits or more) and its answers; `wait` takes them."""

    def __init__(self, repo: GitRepository) -> None:
        self._repo = repo
        self._gathered: list[str] = []
        self._next = FEED_FIRST
        self._started: list[Callable[[], None]] = []

    def add(self, commit_id: str) -> None:
        """A commit whose file changes will be read (a non-merge commit outside the base)."""
        self._gathered.append(commit_id)
        if len(self._gathered) >= self._next:
            self._start()
            self._next *= 2

    def finish(self) -> None:
        """Ask for what is gathered: the walk is done."""
        self._start()

    def wait(self) -> None:
        """Wait for every batch asked for and keep the answers (once; call it however the
        work in between ends)."""
        started, self._started = self._started, []
        with ExitStack() as each:  # every one waited for, even after one has failed
            for one in reversed(started):
                each.callback(one)

    def _start(self) -> None:
        batch, self._gathered = self._gathered, []
        if batch:
            self._started.append(self._repo.start_prefetch(batch))


def _unreadable(commit_id: str | None) -> DriftError:
    """A commit the object store cannot give (a damaged or cut repository)."""
    return DriftError(f"commit {commit_id} cannot be read from the repository")


def _nothing() -> None:
    """A prefetch with nothing left to wait for."""


def _config_int(value: str) -> int:
    """A configuration integer as git and libgit2 read it (k, m, g: times 1024); 0 when it
    is not one."""
    text = value.strip().lower()
    scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(text[-1:], 1)
    try:
        return int(text[:-1] if scale > 1 else text) * scale
    except ValueError:
        return 0


def read_each_once() -> None:
    """Turn libgit2's object cache off in this process, for a process that reads each object
    once: the base-lines child, which reads dev's 238k-commit line at 300k commits once,
    spent a quarter of that reading putting commits into a full cache and evicting others
    (2.38-2.46 -> 1.81-1.87 s for that line without it), and the metrics child, which keeps
    the window's commits decoded (a re-run after a release at 100k: 2.21 -> 1.96 s, CPU 2.83
    -> 2.47 s). It lasts until the process ends."""
    pygit2.settings.enable_caching(False)


def _limit_libgit2_memory() -> None:
    pygit2.settings.enable_strict_hash_verification(HASH_CHECK)
    pygit2.settings.cache_max_size(OBJECT_CACHE_BYTES)
    pygit2.settings.mwindow_size = PACK_WINDOW_BYTES
    pygit2.settings.mwindow_mapped_limit = PACK_MAPPED_LIMIT_BYTES


@dataclass(frozen=True, slots=True)
class RefInfo:
    """A branch, remote-tracking branch or tag and the commit it points to."""

    name: str
    commit: str

    @property
    def short(self) -> str:
        """`dev` for refs/heads/dev, `origin/dev` for refs/remotes/origin/dev."""
        for prefix in _REF_NAMESPACES:
            if self.name.startswith(prefix):
                return self.name[len(prefix) :]
        return self.name


GRAPH_STRIDE = 64
"""A walk asks the commit-graph for a commit it does not hold again only every this many
commits: a graph holding none of a line (written for other branches) would otherwise cost a
search per commit, and a few more commits read through libgit2 before it switches give the
same answers."""


class GitRepository:
    """A repository opened for reading."""

    def __init__(self, repo: Any, path: Path, cache: CommitStore | None = None) -> None:
        self._repo = repo
        self.path = path
        self._store = cache  # persistent per-commit results (drift.git.store); None: memory only
        self._infos: InfoStore | None = cache  # stored commits' metadata (a child's: a reader)
        self._commits: dict[str, CommitInfo] = {}
        self._changes: dict[str, list[FileChange]] = {}
        self._asked_git: set[str] = set()  # commits git was asked about (once: it may fail)
        self._patch_ids: dict[str, str | None] = {}
        self._diff_texts = DiffTexts()  # what patch ids diffed, for `similar` (drift.git.blobs)
        self.unreadable: dict[str, str] = {}
        """Commits whose content could not be read in full, and why: not matched by patch id
        (their patch id reads as None) and listed as not analysed in the report."""
        self._refs: list[RefInfo] | None = None
        self._unusable_refs: dict[str, str] = {}
        self._ancestry: dict[tuple[str, str], bool] = {}
        self._merge_settings: str | None = None
        self._git_engine: str | None = None
        self._remerged: dict[str, Remerge | None] = {}  # the store's answers (remerge_ahead)
        self._graph: CommitGraph | bool | None = False  # False: not looked for yet

    @classmethod
    def open(cls, path: Path, cache: CommitStore | None = None) -> GitRepository:
        """Open the repository at `path` (a work tree, a .git folder or a bare repository).

        `cache` (default: the store of an enclosing `drift.git.store.using_store`) keeps
        per-commit results between runs.
        """
        if not path.exists():
            raise DriftError(f"{path}: no such directory")
        try:
            found = pygit2.discover_repository(str(path))
        except pygit2.GitError as exc:
            raise DriftError(f"{path}: cannot read it as a git repository ({exc})") from exc
        if found is None:
            raise DriftError(f"{path}: not a git repository (or any of its parents)")
        _limit_libgit2_memory()
        try:
            repo = pygit2.Repository(found, pygit2.enums.RepositoryOpenFlag.NO_SEARCH)
        except pygit2.GitError as exc:
            raise DriftError(f"{path}: cannot open the git repository: {exc}") from exc
        opened = cls(repo, Path(found), cache if cache is not None else ACTIVE_STORE.get())
        rewritten = opened.is_shallow or opened.grafts() is not None
        if opened._store is not None and (opened.is_partial_clone or rewritten):
            # Missing blobs must fail loudly (see _guard); stored answers would hide them. A
            # shallow clone's cut commits have no parents here, but have them in a full clone
            # sharing the cache: their diffs, patch ids and lines must not be kept as theirs.
            # Grafts give commits other parents in the same way.
            opened._store = opened._infos = None
        return opened

    @classmethod
    def open_for_audit(cls, path: Path, *, allow_shallow: bool = False) -> GitRepository:
        """Open the repository and refuse states no audit can be right about."""
        repo = cls.open(path)
        if repo.is_empty:
            raise DriftError(f"{path}: the repository is empty (no branches with commits)")
        if repo.is_shallow and not allow_shallow:
            raise DriftError(
                f"{path}: shallow clone; its history is cut, so drift would under-count. "
                "Run `git fetch --unshallow`, or pass --allow-shallow to get a report marked "
                "partial"
            )
        return repo

    def forget_store(self, infos: ChildInfos | None = None) -> None:
        """Use no persistent cache from here on (a forked child must not touch the parent's),
        but read stored commits' metadata through `infos` (`infos_for_child`), if given."""
        self._store, self._infos = None, infos

    def infos_for_child(self) -> ChildInfos | None:
        """Before a fork: the reader of stored commits' metadata a child may use."""
        return self._store.infos_for_child() if self._store is not None else None

    def keep_infos(self, infos: list[CommitInfo]) -> None:
        """Remember commits' metadata a child read from the object store."""
        if self._store is not None and infos:
            self._store.put_commit_infos(infos)

    # -- repository state ------------------------------------------------------------
    @property
    def is_bare(self) -> bool:
        """No work tree (bare clones and mirrors)."""
        return bool(self._repo.is_bare)

    @property
    def is_shallow(self) -> bool:
        """History was cut by `git clone --depth`."""
        return bool(self._repo.is_shallow)

    @property
    def is_partial_clone(self) -> bool:
        """Objects may be missing by design (`git clone --filter`): a promisor remote is set."""
        if self.config_value("extensions.partialclone") is not None:
            return True
        try:
            entries = [(e.name, e.value) for e in self._repo.config]
        except pygit2.GitError:
            return False
        return any(
            name.startswith("remote.") and name.endswith(".promisor") and value == "true"
            for name, value in entries
        )

    @property
    def is_empty(self) -> bool:
        """No refs with commits at all."""
        return not self.references()

    def grafts(self) -> bytes | None:
        """The `info/grafts` file, which git and libgit2 read to give commits other parents,
        or None when there is none (nor any readable)."""
        try:
            return (self.objects_dir.parent / "info" / "grafts").read_bytes()
        except OSError:
            return None

    @property
    def objects_dir(self) -> Path:
        """The object store (a linked worktree's is in the common directory)."""
        git_dir = self.path
        common = git_dir / "commondir"
        if common.is_file():
            git_dir = (git_dir / common.read_text(encoding="utf-8").strip()).resolve()
        return git_dir / "objects"

    def merge_checker(self) -> MergeChecker:
        """A context manager that re-merges commits without writing to this repository."""
        return MergeChecker(self.objects_dir)

    def remerge_ahead(self, merge_ids: list[str], checker: MergeChecker) -> None:
        """Have git re-merge, in one process, the two-parent merges among `merge_ids` whose
        answer is not stored, for `remerge` to read (drift.git.merges). Nothing for a
        partial clone (git would fetch missing objects) or without git."""
        if not self._git_merges():
            return
        pairs: list[tuple[str, str]] = []
        for merge_id in merge_ids:
            parents = self.commit(merge_id).parents
            if len(parents) != 2 or merge_id in self._remerged:
                continue
            found = self._remerged[merge_id] = self._stored_remerge(merge_id, "git")
            if found is None:  # the store was asked once: `remerge` reads the answer here
                pairs.append((parents[0], parents[1]))
        if pairs:
            checker.merge_with_git(pairs, self._git_merge_settings())

    def remerge(self, merge_id: str, checker: MergeChecker) -> Remerge:
        """How a two-parent merge compares with git's own merge of its parents (kept in the
        persistent cache: a merge's parents and tree are fixed by its id; libgit2's version
        is in the cache's version, and the configuration a merge reads and which of git or
        libgit2 merged it in each row). A merge git could not make (a git without
        `merge-tree --write-tree`) is libgit2's, stored and read as libgit2's."""
        info = self.commit(merge_id)
        ours, theirs = info.parents[0], info.parents[1]
        if merge_id in self._remerged:
            found = self._remerged.pop(merge_id)
        else:
            found = self._stored_remerge(merge_id, "git" if self._git_merges() else "libgit2")
        by_git = checker.merged_by_git(ours, theirs)
        if found is None and not by_git and self._git_merges():
            found = self._stored_remerge(merge_id, "libgit2")
        if found is not None:
            return found
        result = checker.remerge(ours, theirs, info.tree)
        if self._store is not None:
            context = self._merge_context("git" if by_git else "libgit2")
            self._store.put_remerge(merge_id, context, result)
        return result

    def _stored_remerge(self, merge_id: str, engine: str) -> Remerge | None:
        """The stored re-merge of `merge_id` by `engine`, if any."""
        if self._store is None:
            return None
        return self._store.remerge(merge_id, self._merge_context(engine))

    def _git_merges(self) -> bool:
        """Whether this run's merges are git's (`remerge_ahead`)."""
        return not self.is_partial_clone and gitcli.available()

    def _merge_context(self, engine: str) -> str:
        """The configuration a re-merge reads (rename limits, an attributes file): the shadow
        repository's own is always the same, so the system, XDG and global entries; and which
        engine merged (git's executable by path, size and time: another git may merge
        otherwise)."""
        if self._merge_settings is None:
            try:
                entries = [
                    f"{e.name}={e.value}"
                    for e in self._repo.config
                    if e.level < pygit2.enums.ConfigLevel.LOCAL
                ]
            except (pygit2.GitError, UnicodeDecodeError, ValueError):
                entries = ["unreadable"]
            self._merge_settings = "\n".join(entries)
        if engine != "git":
            return self._merge_settings
        if self._git_engine is None:
            self._git_engine = f"git {gitcli.fingerprint()}"
        return f"{self._merge_settings}\n{self._git_engine}"

    def _git_merge_settings(self) -> tuple[str, ...]:
        """-c settings for git's merges beyond gitcli.MERGE_SETTINGS: the rename limit
        libgit2 uses (merge.renameLimit, else diff.renameLimit, else 1,000 files, where git's
        own default is 7,000), read from the configuration libgit2 reads."""
        limits: dict[str, str] = {}
        for line in self._merge_context("libgit2").split("\n"):
            name, _, value = line.partition("=")
            limits[name.lower()] = value  # the last entry wins: global over system
        limit = 0
        for name in ("merge.renamelimit", "diff.renamelimit"):
            limit = _config_int(limits.get(name, ""))
            if limit > 0:
                break
        return (f"merge.renameLimit={limit if limit > 0 else 1000}",)

    def config_value(self, key: str) -> str | None:
        """One value of the repository's effective configuration, or None."""
        try:
            value = self._repo.config[key]
        except (KeyError, pygit2.GitError, ValueError):
            return None
        return str(value)

    def config_entries(self) -> list[tuple[str, str]]:
        """Every entry of the effective configuration, in git's order (a cache key's input)."""
        try:
            return [(str(entry.name), str(entry.value)) for entry in self._repo.config]
        except (pygit2.GitError, UnicodeDecodeError, ValueError):
            return []

    def head_state(self) -> str:
        """What HEAD names: a branch (symbolic), a commit (detached), or nothing yet."""
        try:
            return str(self._repo.lookup_reference("HEAD").target)
        except (KeyError, ValueError, pygit2.GitError):
            return ""

    def remote_url(self, remote: str) -> str | None:
        """The URL of a remote, when configured."""
        return self.config_value(f"remote.{remote}.url")

    def references(self) -> list[RefInfo]:
        """Branches, remote-tracking branches and tags that point (through tags) to commits.

        Other namespaces (refs/pull/*, refs/notes/*, review refs) are never listed, so they
        are never walked. Symbolic refs such as refs/remotes/origin/HEAD are skipped. A name
        that is not UTF-8 (git allows any bytes) is listed with U+FFFD for the bytes that are
        not, as a UTF-8 terminal shows it: reports must be valid UTF-8.
        """
        if self._refs is not None:
            return self._refs
        refs: list[RefInfo] = []
        for raw in self._repo.raw_listall_references():
            name = raw.decode("utf-8", errors="surrogateescape")
            if not name.startswith(_REF_NAMESPACES) or name.endswith("/HEAD"):
                continue
            shown = raw.decode("utf-8", errors="replace")
            commit = self.resolve_ref(name)
            if commit is not None:
                refs.append(RefInfo(shown, commit))
            elif (why := self._unusable(name)) is not None:
                self._unusable_refs[shown] = why
        self._refs = sorted(refs, key=lambda ref: ref.name)
        return self._refs

    def unusable_references(self) -> dict[str, str]:
        """Branches, remote-tracking branches and tags `references` leaves out although they
        exist, each with why (git lists the broken ones as "ignoring broken ref"): an
        environment named after one is then said to be broken, never to be missing."""
        self.references()
        return dict(sorted(self._unusable_refs.items()))

    def _unusable(self, name: str) -> str | None:
        """Why a ref names no commit; None for a symbolic branch, which is left out as ever."""
        try:
            ref = self._repo.references[name]
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError) as exc:
            return f"cannot be read ({exc})"
        if ref.type == pygit2.enums.ReferenceType.SYMBOLIC:
            try:
                ref.resolve()
            except (KeyError, ValueError, pygit2.GitError):
                return f"points to {ref.target}, which does not exist"
            return None
        try:
            target = self._repo[ref.target]
            while isinstance(target, pygit2.Tag):  # an annotated tag: what it tags
                target = self._repo[target.target]
        except (KeyError, ValueError, pygit2.GitError):
            return f"points to {str(ref.target)[:12]}, which is not in the repository"
        return f"points to a {target.type_str}, not a commit"

    def resolve_ref(self, name: str) -> str | None:
        """The commit a full ref name points to (peeling tags), or None."""
        try:
            ref = self._repo.references[name]
            if ref.type == pygit2.enums.ReferenceType.SYMBOLIC:
                return None
            return str(ref.peel(pygit2.Commit).id)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            return None

    def expand_id(self, prefix: str) -> str | None:
        """Full id of the commit an abbreviated id names, None if absent or ambiguous."""
        return self.lookup_commit(prefix)[0]

    def lookup_commit(self, prefix: str) -> tuple[str | None, str]:
        """(full id, "") for a hex prefix naming one commit, else (None, why not)."""
        try:
            obj = self._repo.get(prefix)
        except pygit2.AmbiguousError:
            return None, "ambiguous"
        except (KeyError, ValueError, pygit2.GitError):
            return None, "not in this repository"
        if obj is None:
            return None, "not in this repository"
        if obj.type != pygit2.enums.ObjectType.COMMIT:
            return None, f"a {obj.type_str}, not a commit"
        return str(obj.id), ""

    # -- commits -------------------------------------------------------------------------
    def commit(self, commit_id: str) -> CommitInfo:
        """Metadata of one commit (cached: each commit is parsed once per run)."""
        info = self._commits.get(commit_id)
        if info is None:
            try:
                raw = self._repo[commit_id]
            except (KeyError, ValueError) as exc:
                raise _unreadable(commit_id) from exc
            info = self._to_info(raw)
        return info

    def _to_info(self, raw: Any) -> CommitInfo:
        commit_id = str(raw.id)
        info = self._commits.get(commit_id)
        if info is None:
            info = self._commits[commit_id] = decode_commit(raw)
        return info

    def walk(self, tips: list[str], hide: list[str]) -> Iterator[CommitInfo]:
        """Commits reachable from `tips` and not from `hide`, children before parents."""
        if not tips:
            return
        try:
            walker = self._repo.walk(tips[0], pygit2.enums.SortMode.TOPOLOGICAL)
            for tip in tips[1:]:
                walker.push(tip)
            for base in hide:
                walker.hide(base)
            for raw in walker:
                yield self._to_info(raw)
        except pygit2.GitError as exc:
            raise DriftError(f"history cannot be walked: {exc}") from exc

    def first_parent_walk(self, start: str | None) -> Iterator[LineCommit]:
        """Commits along first parents from `start`: id, tree, time and parents only.

        For long first-parent lines deep in the common base: nothing is decoded or cached,
        so a walk of tens of thousands of commits costs a few object reads each, or none
        for a commit already decoded (the metrics child's window: it walks each line into
        it twice) and from the first commit the commit-graph holds.
        """
        cursor, known, read = start, self._commits.get, 0
        try:
            while cursor is not None:
                info = known(cursor)
                if info is not None:  # decoded already (the window, the walk): no read
                    yield LineCommit(cursor, info.tree, info.commit_time, info.parents)
                    cursor = info.parents[0] if info.parents else None
                    continue
                graph = self.commit_graph()
                asked, read = read % GRAPH_STRIDE == 0, read + 1
                if graph and asked and (position := graph.position(cursor)) is not None:
                    try:
                        yield from graph.first_parent_walk(position)
                        return
                    except GraphError as exc:  # the file lied: libgit2 from where it did
                        self._graph = None
                        cursor = exc.at if exc.at is not None else cursor
                        continue
                raw = self._repo[cursor]
                parents = tuple(str(p) for p in raw.parent_ids)
                yield LineCommit(cursor, str(raw.tree_id), int(raw.commit_time), parents)
                cursor = parents[0] if parents else None
        except (KeyError, ValueError) as exc:
            raise _unreadable(cursor) from exc

    def described_line(self, start: str | None) -> Iterator[LineCommit]:
        """The first-parent line from `start`, as `first_parent_walk` gives it, with every
        commit decoded (and kept in memory): release identity walks the most downstream line
        inside the common base, and the report then describes nearly every commit on it.

        With a persistent cache, the line is kept there too, as rows each running from
        where a walk began down to where an earlier row begins: a later walk from a newer
        start reads only the commits above the first row it meets, so the cache grows with
        new commits, not by a whole line each time the line's start moves."""
        store = self._store
        kept, loaded = store.line_info_starts() if store is not None else set(), set()
        cursor, segment_start = start, start
        segment: list[CommitInfo] = []
        while cursor is not None:
            row = None
            if store is not None and cursor in kept and cursor not in loaded:
                row = store.line_infos(cursor)
            if row is not None:
                loaded.add(cursor)
                if store is not None and segment and segment_start is not None:
                    store.put_line_infos(segment_start, segment, cursor)
                infos, cursor = row
                for info in infos:
                    info = self._commits.setdefault(info.id, info)
                    yield LineCommit(info.id, info.tree, info.commit_time, info.parents)
                segment_start, segment = cursor, []
                continue
            info = self.commit(cursor)
            segment.append(info)
            yield LineCommit(info.id, info.tree, info.commit_time, info.parents)
            cursor = info.parents[0] if info.parents else None
        if store is not None and segment and segment_start is not None:
            store.put_line_infos(segment_start, segment, None)

    def line_trees(self, start: str | None, stops: Collection[str] = ()) -> LineTrees:
        """Tree id -> the earliest (time, commit) carrying it along the first-parent line from
        `start`: each line commit at its own time, each parent its merges brought in at the
        merge's time. Release identity asks this of whole lines inside the common base.

        The walk ends at the first line commit below `start` in `stops` (the starts of lines
        read before), not read: the segment above it is returned, its `stop` set to that
        commit, whose own line is the rest (`LineTrees.chained`). With none met, the line runs
        to the root.

        The first-parent walk written out, with no record made per commit: a line is up to
        230k commits at 300k, read on the critical path of the base-lines child, and the
        records and calls of `first_parent_walk` cost a sixth of it (1.89 -> 1.57 s for
        dev's line there)."""
        graph = self.commit_graph()
        if graph is not None:
            try:
                return self._line_trees(start, graph, stops)
            except GraphError:
                self._graph = None  # the file lied: read every line through libgit2
        return self._line_trees(start, None, stops)

    def _line_trees(
        self, start: str | None, graph: CommitGraph | None, stops: Collection[str]
    ) -> LineTrees:
        """line_trees, switching to the commit-graph at the first line commit it holds (which
        reads on to the root: from the file, that costs about what a stored line does)."""
        found: dict[str, tuple[int, str]] = {}
        known = found.get
        repo, cursor, read = self._repo, start, 0
        try:
            while cursor is not None:
                if cursor in stops and cursor != start:
                    lines = LineTrees.of(found)
                    lines.stop = cursor
                    return lines
                asked, read = read % GRAPH_STRIDE == 0, read + 1
                if graph and asked and (position := graph.position(cursor)) is not None:
                    graph.line_trees(position, found)
                    break
                raw = repo[cursor]
                seen = (raw.commit_time, cursor)
                tree = str(raw.tree_id)
                first = known(tree)
                if first is None or seen < first:
                    found[tree] = seen
                parents = raw.parent_ids
                for other_id in parents[1:]:
                    other = str(other_id)
                    brought = (seen[0], other)
                    tree = self.tree_of(other)
                    first = known(tree)
                    if first is None or brought < first:
                        found[tree] = brought
                cursor = str(parents[0]) if parents else None
        except (KeyError, ValueError) as exc:
            raise _unreadable(cursor) from exc
        return LineTrees.of(found)

    def commit_graph(self) -> CommitGraph | None:
        """The repository's commit-graph file, when git itself would read it: not with
        `core.commitGraph` false, and not where history is rewritten on reading (a shallow
        clone's cut, `info/grafts`, replace refs), which a graph written before does not
        know about."""
        if self._graph is False:
            wanted = (self.config_value("core.commitGraph") or "true").lower()
            off = wanted in ("false", "no", "off", "0") or self.is_shallow
            off = off or self.grafts() is not None
            off = off or any(
                r.startswith(b"refs/replace/") for r in self._repo.raw_listall_references()
            )
            self._graph = None if off else CommitGraph.open(self.objects_dir)
        return self._graph if isinstance(self._graph, CommitGraph) else None

    def stored_line_trees(self, start: str | None) -> LineTrees | None:
        """A line's trees from the persistent cache, if it has them."""
        if start is None or self._store is None:
            return None
        return self._store.line_trees(start)

    def stored_line_starts(self) -> frozenset[str]:
        """Where the lines the persistent cache holds begin (none without one): a line read
        now ends where it meets one of them (`line_trees`' `stops`)."""
        return self._store.line_tree_starts() if self._store is not None else frozenset()

    def has_stored_line_trees(self, start: str | None) -> bool:
        """Whether the persistent cache has a line's trees (not read, nor checked, here)."""
        return start is not None and self._store is not None and self._store.has_line_trees(start)

    def stored_line_answers(self, start: str | None) -> dict[str, tuple[int, str] | None]:
        """The lookups on a line the persistent cache kept (none without one)."""
        if start is None or self._store is None:
            return {}
        return self._store.line_answers(start) or {}

    def remember_line_answers(
        self, start: str | None, answers: dict[str, tuple[int, str] | None]
    ) -> None:
        """Keep lookups on a line in the persistent cache."""
        if start is not None and self._store is not None:
            self._store.put_line_answers(start, answers)

    def stored_folders(self, folders: list[str], context: str) -> dict[str, FolderListing]:
        """The listings of these folders the persistent cache kept under the same `context`
        (drift.delivery.files.TipFiles)."""
        return {} if self._store is None else self._store.folders(folders, context)

    def remember_folder(self, folder: str, context: str, listing: FolderListing) -> None:
        """Keep a folder's listing (wanted files, subfolders, files below) in the persistent
        cache."""
        if self._store is not None:
            self._store.put_folder(folder, context, listing)

    def remember_line_trees(self, start: str | None, trees: LineTrees) -> None:
        """Keep a line's trees (read here or by a child process) in the persistent cache."""
        if start is not None and self._store is not None:
            self._store.put_line_trees(start, trees)

    def tree_of(self, commit_id: str) -> str:
        """A commit's tree id, without decoding the rest of it."""
        info = self._commits.get(commit_id)
        if info is not None:
            return info.tree
        try:
            return str(self._repo[commit_id].tree_id)
        except (KeyError, ValueError) as exc:
            raise _unreadable(commit_id) from exc

    def walk_window(
        self, tips: list[str], since: int, slop: int = 86400, *, rows_after: int = 0
    ) -> Iterator[CommitInfo]:
        """Commits reachable from `tips` committed at or after `since`, newest first.

        The walk does not go past a commit older than `since` less `slop` (tolerated clock
        skew), so its cost is bounded by the window, not by the whole history. It is the set
        libgit2's time-sorted walk stopped at that age gives, found without libgit2's time
        sort (which cost 0.6 s for a 22k-commit window of a 100k history, against 0.25 s for
        walking all 100k unsorted). A commit decoded already (the audit's walk, outside the
        common base) is taken from memory, as `first_parent_walk` takes it.

        With a persistent cache, the window's commits it lacks are kept, those taken from
        memory too: once a promotion moves the common base up, the audit's walk no longer
        decodes them, and the next window would read them all from the object store (5k
        commits at 100k, a fifth of the window).

        The stored rows are read whole (a year at 100k commits is a 5 MB row: 0.07 s to check
        and decode), so a walk that expects to find most of its commits in memory passes
        `rows_after`: it reads that many commits from the object store (12 us each) before it
        reads the rows, and keeps nothing if it never needs them. Whenever the rows are read,
        the walk keeps exactly what it would have kept reading them first.
        """
        cutoff = since - slop
        seen = set(tips)
        stack = list(tips)
        found: list[CommitInfo] = []
        known = self._commits.get
        infos = self._infos
        stored = infos.commit_infos_since(cutoff) if infos is not None and rows_after <= 0 else None
        waiting = infos is not None and stored is None  # the rows may be read later, if needed
        before: list[CommitInfo] = []  # walked while waiting: checked when the rows are read
        unread = rows_after  # commits to read from the object store before the rows
        read: list[CommitInfo] = []  # not in the rows: for the persistent cache
        try:
            while stack:
                commit_id = stack.pop()
                info = known(commit_id)
                if waiting and info is None and unread <= 0 and infos is not None:
                    stored, waiting = infos.commit_infos_since(cutoff), False
                    read.extend(i for i in before if stored.get(i.id) is None)
                if stored is not None:
                    if info is None:
                        if info := stored.get(commit_id):
                            self._commits[commit_id] = info
                    elif info.commit_time >= since and stored.get(commit_id) is None:
                        read.append(info)  # decoded here, never kept: kept now
                elif waiting and info is not None and info.commit_time >= since:
                    before.append(info)
                if info is None:
                    raw = self._repo[commit_id]
                    unread -= 1
                    if raw.commit_time < cutoff:
                        continue
                    if raw.commit_time >= since:
                        info = self._to_info(raw)
                        (before if waiting else read).append(info)
                    parents: tuple[str, ...] | list[str] = (
                        info.parents if info is not None else [str(p) for p in raw.parent_ids]
                    )
                elif info.commit_time < cutoff:
                    continue
                else:
                    parents = info.parents
                if info is not None and info.commit_time >= since:
                    found.append(info)
                for parent in parents:
                    if parent not in seen:
                        seen.add(parent)
                        stack.append(parent)
        except (pygit2.GitError, KeyError) as exc:
            raise DriftError(f"history cannot be walked: {exc}") from exc
        if infos is not None and read:
            infos.put_commit_infos(read)
        found.sort(key=lambda info: (-info.commit_time, info.id))
        yield from found

    def reached_since(self, tips: list[str], since: int) -> set[str]:
        """Commits reachable from `tips` through commits none older than `since`: each one
        returned is an ancestor of a tip (or a tip). A path ends at its first older commit
        (not returned), and at a commit that cannot be read, so what lies beyond is not
        looked at; nothing is decoded or kept."""
        seen, stack, found = set(tips), list(tips), set()
        known = self._commits.get
        while stack:
            commit_id = stack.pop()
            info = known(commit_id)
            if info is not None:
                when, parents = info.commit_time, info.parents
            else:
                try:
                    raw = self._repo[commit_id]
                except (KeyError, ValueError, pygit2.GitError):
                    continue
                when, parents = raw.commit_time, tuple(str(p) for p in raw.parent_ids)
            if when < since:
                continue
            found.add(commit_id)
            for parent in parents:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return found

    def merge_base(self, a: str, b: str) -> str | None:
        """One best common ancestor of two commits, or None for unrelated histories."""
        try:
            base = self._repo.merge_base(a, b)
        except pygit2.GitError as exc:
            raise DriftError(f"cannot compute the merge base of {a} and {b}: {exc}") from exc
        return None if base is None else str(base)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """`git merge-base --is-ancestor ancestor descendant` (a commit is its own ancestor)."""
        if ancestor == descendant:
            return True
        key = (ancestor, descendant)
        if key not in self._ancestry:
            self._ancestry[key] = bool(self._repo.descendant_of(descendant, ancestor))
        return self._ancestry[key]

    # -- diffs ---------------------------------------------------------------------------
    def prefetch_changes(self, commit_ids: list[str]) -> None:
        """Read the file changes of many non-merge commits at once: stored ones from the
        cache, the rest from one `git diff-tree --stdin` (drift.git.gitcli) where git may be
        asked. Whatever is not answered here is diffed on demand by `file_changes`."""
        self.start_prefetch(commit_ids)()

    def start_prefetch(self, commit_ids: list[str]) -> Callable[[], None]:
        """`prefetch_changes` begun: git reads the trees while this process does other work.
        Call the function returned, however that work ends: it waits for git and keeps its
        answers. Commits whose changes are already read are not asked for again."""
        unread = [c for c in commit_ids if c not in self._changes and c not in self._asked_git]
        if self._store is not None and unread:
            self._store.prefetch(unread)
        missing = [c for c in unread if self._known_changes(c) is None]
        if len(missing) < GIT_BATCH_MIN or self.is_partial_clone or not gitcli.available():
            return _nothing
        self._asked_git.update(missing)
        pending = gitcli.DiffTree.start(self.path, missing)
        if pending is None:
            return _nothing

        def finish() -> None:
            for commit_id, changes in (pending.result() or {}).items():
                self._changes[commit_id] = changes
                if self._store is not None:
                    self._store.put_changes(commit_id, changes)

        return finish

    def file_changes(self, commit_id: str) -> list[FileChange]:
        """Files a non-merge commit changes against its parent (all files for a root)."""
        changes = self._known_changes(commit_id)
        if changes is None:
            info = self.commit(commit_id)
            parent_tree = self.commit(info.parents[0]).tree if info.parents else None
            changes = self._diff(parent_tree, info.tree, commit_id)
            self._changes[commit_id] = changes
            if self._store is not None:
                self._store.put_changes(commit_id, changes)
        return changes

    def _known_changes(self, commit_id: str) -> list[FileChange] | None:
        """A commit's file changes already read this run, or kept in the persistent cache."""
        changes = self._changes.get(commit_id)
        if changes is None and self._store is not None:
            changes = self._store.changes(commit_id)
            if changes is not None:
                self._changes[commit_id] = changes
        return changes

    def patch_id(self, commit_id: str) -> str | None:
        """Stable patch id as `git cherry` computes it; None for an empty commit."""
        if commit_id not in self._patch_ids:
            stored = self._store.patch_id(commit_id) if self._store is not None else None
            if stored is not None:
                self._patch_ids[commit_id] = stored[0]
            else:
                changes = self.file_changes(commit_id)
                try:
                    value = self._guard(
                        commit_id, lambda: patch_id(self._repo, changes, self._diff_texts)
                    )
                except UnreadableObjectError as exc:
                    self.unreadable[commit_id] = str(exc)
                    self._patch_ids[commit_id] = None  # never stored: a fetch may mend it
                    return None
                self._patch_ids[commit_id] = value
                if self._store is not None:
                    self._store.put_patch_id(commit_id, value)
        return self._patch_ids[commit_id]

    def has_content(self, commit_id: str) -> bool:
        """Whether every blob a commit's patch id would read is in the object store (a partial
        clone may lack some): index lookups only, nothing is inflated. drift.patch_keys asks
        it of the commits whose patch id it skips, so that a missing blob is still reported."""
        odb = self._repo.odb
        for change in self.file_changes(commit_id):
            for blob, mode in ((change.old_id, change.old_mode), (change.new_id, change.new_mode)):
                if blob is not None and mode != GITLINK_MODE and not odb.exists(blob):
                    return False
        return True

    def inverse_patch_id(self, commit_id: str) -> str | None:
        """Patch id of the diff that would undo this commit (what a revert of it carries)."""
        stored = self._store.patch_id(commit_id, True) if self._store is not None else None
        if stored is not None:
            return stored[0]
        changes = [
            FileChange(c.path, c.new_mode, c.new_id, c.old_mode, c.old_id)
            for c in self.file_changes(commit_id)
        ]  # the diff from the commit back to its parent: each side swapped, same paths
        try:
            value = self._guard(commit_id, lambda: patch_id(self._repo, changes))
        except UnreadableObjectError as exc:
            self.unreadable[commit_id] = str(exc)
            return None
        if self._store is not None:
            self._store.put_patch_id(commit_id, value, True)
        return value

    def tree_entries(self, tree_id: str) -> list[tuple[bytes, bytes, int]]:
        """(name, raw 20-byte object id, canonical mode) of each entry of one tree: a folder's
        listing, without a checkout. Parsed from the raw tree and left as bytes: a listing of
        every folder of a 60k-file tree made pygit2 entry objects (36 us each) and decoded
        names and ids that the delivery scan then turned away (drift.delivery.files)."""
        return tree_listing(self._repo, tree_id)

    def blob_size(self, blob_id: str) -> int | None:
        """A blob's size from its object header (its content is not inflated); None if missing."""
        try:
            _, size = self._repo.odb.read_header(blob_id)
        except (KeyError, ValueError, pygit2.GitError):
            return None
        return int(size)

    def read_blob(
        self, blob_id: str, limit: int = 1 << 20, size: int | None = None
    ) -> bytes | None:
        """A blob's content, or None when it is larger than `limit` bytes or missing.

        The size is read from the header first (unless the caller read it: `size`), so a
        20 MB video is never inflated only to be refused."""
        if size is None:
            size = self.blob_size(blob_id)
        if size is None or size > limit:
            return None
        try:
            blob = self._repo[blob_id]
        except (KeyError, ValueError):
            return None
        data: bytes = blob.data
        return data

    def diff_text(self, change: FileChange) -> tuple[int, int, bytes] | None:
        """(old size, new size, diff text) of a file's blob pair, when a patch id of this run
        diffed that pair already (drift.git.patchid.DiffTexts); None otherwise."""
        return self._diff_texts.get(change)

    def kept_lines(self, commit_id: str) -> list[FileLines] | None:
        """The lines `similar` read of this commit in an earlier run (the persistent cache),
        or None (drift.git.blobs.changed_lines)."""
        return None if self._store is None else self._store.lines(commit_id)

    def keep_lines(self, commit_id: str, lines: list[FileLines]) -> None:
        """Keep a commit's changed lines for later runs (when a persistent cache is used)."""
        if self._store is not None:
            self._store.put_lines(commit_id, lines)

    def differing_paths(self, tree_a: str, tree_b: str) -> list[str]:
        """Paths whose content or mode differs between two trees."""
        changes = self._diff(tree_a, tree_b, None)
        return [c.path.decode("utf-8", errors="replace") for c in changes]

    def _diff(
        self, old_tree: str | None, new_tree: str | None, commit_id: str | None
    ) -> list[FileChange]:
        return self._guard(commit_id, lambda: diff_trees(self._repo, old_tree, new_tree))

    def _guard(self, commit_id: str | None, work: Callable[[], T]) -> T:
        try:
            return work()
        except (MissingObjectError, KeyError) as exc:
            where = f" while reading commit {commit_id}" if commit_id else ""
            hint = (
                " (this is a partial clone: fetch the missing objects or use a full clone)"
                if self.is_partial_clone
                else ""
            )
            raise UnreadableObjectError(
                f"object {exc} is missing from the repository{where}{hint}", commit_id
            ) from exc
