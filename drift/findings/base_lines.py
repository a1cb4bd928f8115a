"""The trees along the upstream lines inside the common base, read ahead on the second core.

Release identity proves a tree was never tested by reading every first-parent commit of the
upstream line inside the common base: 0.7 s at 100k commits, 2.6 s at 300k, the one cost of
an audit that follows history instead of divergence. That reading needs nothing but the walk,
so right after the walk a forked process reads those lines while this one groups changes;
release identity collects the result when it first needs it. Where fork is not the way to
run a second process (not Linux), on a single core, or with `DRIFT_JOBS=1`, the same lines
are read here, lazily, as before; a child that fails is replaced by the same reading here.
Both ways give the same mapping, and the same reports (tested).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
from pathlib import Path

from drift.git.repository import GitRepository
from drift.history import History

LineTrees = dict[str, tuple[int, str]]
"""Tree id -> the earliest (time, commit) carrying it (GitRepository.line_trees)."""


def _parallel_allowed() -> bool:
    if os.environ.get("DRIFT_JOBS") == "1":
        return False
    return sys.platform == "linux" and (os.cpu_count() or 1) > 1


class BaseLines:
    """Each upstream environment's line inside the common base, by environment index."""

    def __init__(self, history: History) -> None:
        self.history = history
        self._done: dict[int, LineTrees] = {}
        self._child: tuple[int, int] | None = None  # (pid, read end of the pipe)
        self.forked = False
        """Whether a child process read the lines (for tests and --debug)."""

    @classmethod
    def start(cls, history: History) -> BaseLines:
        """Begin reading every line release identity may ask for (the upstream of each
        environment), in a child process when that is allowed."""
        lines = cls(history)
        ups = sorted({up for up in history.topology.parent if up is not None})
        if ups and _parallel_allowed():
            lines._fork({env: history.chain_exit(env) for env in ups})
        return lines

    def trees(self, env: int) -> LineTrees:
        """The mapping for one environment's line (waiting for the child if it reads it)."""
        if self._child is not None:
            self._collect()
        if env not in self._done:
            self._done[env] = self.history.repo.line_trees(self.history.chain_exit(env))
        return self._done[env]

    def close(self) -> None:
        """Stop and reap a child whose answer was never needed."""
        if self._child is not None:
            pid, fd = self._child
            self._child = None
            os.close(fd)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

    def _fork(self, starts: dict[int, str | None]) -> None:
        read, write = os.pipe()
        path = self.history.repo.path
        pid = os.fork()
        if pid == 0:  # the child: read the lines, send them, leave without cleanup
            status = 1
            try:
                os.close(read)
                payload = pickle.dumps(_read_lines(path, starts), pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write, "wb") as out:
                    out.write(payload)
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        self._child = (pid, read)
        self.forked = True

    def _collect(self) -> None:
        assert self._child is not None
        pid, fd = self._child
        self._child = None
        chunks = []
        with os.fdopen(fd, "rb") as source:
            while chunk := source.read(1 << 20):
                chunks.append(chunk)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            return  # read here instead, on demand
        try:
            result = pickle.loads(b"".join(chunks))
        except (pickle.UnpicklingError, EOFError, ValueError):
            return
        if isinstance(result, dict):
            self._done.update(result)


def _read_lines(path: Path, starts: dict[int, str | None]) -> dict[int, LineTrees]:
    """The child's work, on its own handle of the repository (no cache, nothing shared)."""
    repo = GitRepository.open(path)
    repo.forget_store()
    return {env: repo.line_trees(start) for env, start in starts.items()}
