"""The trees along the upstream lines inside the common base, read ahead on the second core.

Release identity proves a tree was never tested by reading every first-parent commit of the
upstream line inside the common base: 0.7 s at 100k commits, 2.6 s at 300k, the one cost of
an audit that follows history instead of divergence. That reading needs nothing but the walk,
so right after the walk a forked process reads those lines while this one groups changes;
release identity collects the result when it first needs it. Where fork is not the way to
run a second process (not Linux), on a single core, or with `DRIFT_JOBS=1`, the same lines
are read here, lazily, as before; a child that fails is replaced by the same reading here.
Both ways give the same mapping, and the same reports (tested). History below a commit never
changes, so each line's trees are kept in the persistent cache (drift.ci.cache): a line it has
is neither read nor sent for again. A line whose start moved up (a promotion moved the common
base) is read down to the first start the cache has a line for, and chained to that line: a
weekly job reads the week's part of each line, not the whole line again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from drift.git.repository import GitRepository, LineTrees, read_each_once
from drift.history import History
from drift.parallel import fork_with_pipes, frame, parallel_allowed, stop, unframe

ANSWERS_KEPT = 8
"""Lookups kept per line: the tips' identity asks one per line; release identity asks a line
once per release, and that line is read whole anyway."""


class BaseLines:
    """Each upstream environment's line inside the common base, by environment index."""

    def __init__(self, history: History) -> None:
        self.history = history
        self._done: dict[int, LineTrees] = {}
        self._arrived = threading.Condition()
        self._child: int | None = None  # its pid, until it is reaped
        self._receiver: threading.Thread | None = None
        self._source: BinaryIO | None = None
        self._receiving = False
        self._from_child: set[int] = set()
        self._sent: set[int] = set()  # the lines the child reads
        self._answers: dict[int, dict[str, tuple[int, str] | None]] = {}
        self._asked: dict[int, LineTrees] = {}  # the lines `inside` has taken, by environment
        self._grown: set[int] = set()  # lines with answers the persistent cache lacks
        self._stops: frozenset[str] | None = None  # where the stored lines begin
        self.forked = False
        """Whether a child process read the lines (for tests and --debug)."""

    @classmethod
    def start(cls, history: History) -> BaseLines:
        """Begin reading every line release identity may ask for (the upstream of each
        environment), in a child process when that is allowed: first the lines the findings
        ask for (above each most downstream environment), then those only the tips' identity
        needs, each sent as soon as it is read."""
        lines = cls(history)
        tree = history.topology
        first = [tree.parent[leaf] for leaf in tree.leaves()]
        ups = [up for up in tree.parent if up is not None]
        order = list(dict.fromkeys(up for up in [*first, *sorted(ups)] if up is not None))
        if not order or not parallel_allowed():
            return lines
        unread = []
        for env in order:  # lines the persistent cache has are read from it when asked
            start = history.chain_exit(env)
            if not history.repo.has_stored_line_trees(start):
                unread.append((env, start))
        if unread:
            lines._sent = {env for env, _ in unread}
            lines._fork(unread, lines.stops())
        return lines

    def stops(self) -> frozenset[str]:
        """Where the lines the persistent cache holds begin: a line is read down to the first
        of them it meets (once per audit: one query)."""
        if self._stops is None:
            self._stops = self.history.repo.stored_line_starts()
        return self._stops

    def inside(self, env: int, tree: str) -> tuple[int, str] | None:
        """The earliest (time, commit) with this tree on the environment's line inside the
        common base (`LineTrees.get`).

        A line's first `ANSWERS_KEPT` answers are kept in the persistent cache. A re-run
        asks a line above a tip the same question (the tip's tree, when that tip has not
        moved), so it need not read the whole line from the cache for it: dev's line is 230k
        commits at 300k, a 20 MB row, asked about one tree."""
        answers = self._answers.get(env)
        if answers is None:
            start = self.history.chain_exit(env)
            answers = self._answers[env] = dict(self.history.repo.stored_line_answers(start))
        if tree in answers:
            return answers[tree]
        line = self._asked.get(env)
        if line is None:  # once per line: `trees` takes a lock and finds the line's start
            line = self._asked[env] = self.trees(env)
        found = line.get(tree)
        if len(answers) < ANSWERS_KEPT:
            answers[tree] = found
            self._grown.add(env)
        return found

    def trees(self, env: int) -> LineTrees:
        """The mapping for one environment's line (waiting for the child if it reads it)."""
        with self._arrived:
            while env in self._sent and env not in self._done and self._receiving:
                self._arrived.wait()
            found = self._done.get(env)
            fresh = env in self._from_child
            self._from_child.discard(env)
        repo, start = self.history.repo, self.history.chain_exit(env)
        if found is None:
            found = repo.stored_line_trees(start)
            if found is None:
                found = self._whole(repo.line_trees(start, self.stops()))
                repo.remember_line_trees(start, found)
            with self._arrived:
                self._done[env] = found
        elif fresh:  # read by the child, which has no cache: kept here, in this thread
            found = self._whole(found)
            repo.remember_line_trees(start, found)
        return found

    def _whole(self, segment: LineTrees) -> LineTrees:
        """A segment read down to a stored line's start, chained to that line. When the
        cache cannot give it (a bad row), it is read here, whole, and kept."""
        if segment.stop is None:
            return segment
        repo = self.history.repo
        rest = repo.stored_line_trees(segment.stop)
        if rest is None:
            rest = repo.line_trees(segment.stop)
            repo.remember_line_trees(segment.stop, rest)
        return segment.chained(rest)

    def close(self) -> None:
        """Stop and reap a child whose answers were not all needed; keep the new answers."""
        stop(self._child, self._let_go)
        self._child = None
        for env in sorted(self._grown):
            start = self.history.chain_exit(env)
            self.history.repo.remember_line_answers(start, self._answers[env])
        self._grown.clear()

    def _let_go(self) -> None:
        if self._receiver is not None:
            self._receiver.join()
            self._receiver = None

    def _fork(self, order: list[tuple[int, str | None]], stops: frozenset[str]) -> None:
        path = self.history.repo.path
        forked = fork_with_pipes(1)
        if forked is None:  # refused: `trees` reads every line here
            return
        pid, [(read, write)] = forked
        if pid == 0:  # the child: read the lines, send each, leave without cleanup
            status = 1
            try:
                os.close(read)
                with os.fdopen(write, "wb") as out:
                    for answer in _read_lines(path, order, stops):
                        out.write(frame(answer))
                        out.flush()
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        self._child, self._source = pid, os.fdopen(read, "rb")
        self._receiving = self.forked = True
        # A thread empties the pipe as lines arrive: a child blocked on a full pipe would
        # wait for this process to ask, and read the next line only then.
        self._receiver = threading.Thread(target=self._receive, name="drift-base-lines")
        self._receiver.daemon = True
        self._receiver.start()

    def _receive(self) -> None:
        """Every line the child sends; at its end (or on anything unreadable) stop, and what
        it did not send is read by `trees` itself."""
        assert self._source is not None
        try:
            while True:
                env, trees = _unframe(self._source)
                with self._arrived:
                    self._done[env] = trees
                    self._from_child.add(env)
                    self._arrived.notify_all()
        except (EOFError, OSError, ValueError, TypeError):
            pass
        finally:
            self._source.close()
            with self._arrived:
                self._receiving = False
                self._arrived.notify_all()


def _unframe(source: BinaryIO) -> tuple[int, LineTrees]:
    env, (packed, stop) = unframe(source)
    trees = LineTrees.unpacked(packed)
    if trees is None or not (stop is None or isinstance(stop, str)):
        raise ValueError("not a line's trees")
    trees.stop = stop
    return int(env), trees


def _read_lines(
    path: Path, order: list[tuple[int, str | None]], stops: frozenset[str]
) -> Iterator[tuple[int, tuple[tuple[int, str, bytes, str], str | None]]]:
    """The child's work, on its own handle of the repository (no cache, nothing shared):
    each line packed, down to the first start in `stops`, with where it stopped; this process
    takes it as it is (`LineTrees.unpacked`) and chains it to the stored rest."""
    read_each_once()  # a line is read once; where lines share a stretch, it is read twice
    repo = GitRepository.open(path)
    repo.forget_store()
    for env, start in order:
        yield env, _sent(repo.line_trees(start, stops))


def _sent(segment: LineTrees) -> tuple[tuple[int, str, bytes, str], str | None]:
    """A segment as it travels: packed, and where it stopped. The line itself (a dict of 230k
    entries for dev's line at 300k, 40 MB) is let go here, before it is sent, not kept alive
    by the generator while the frame is written."""
    return segment.packed(), segment.stop
