"""The delivery metrics, begun on the second core right after the walk.

The metrics phase was the longest of an audit at 100k commits (0.8 s of 2.3): it reads a year
of history into a window and groups it into changes. It needs little of what the rest of the
audit makes, and each part only late:
- the window's commits, lines and introductions need only the walk;
- its changes, and the metrics read from the window alone (the draft,
  drift.readiness.metrics.Draft), need the engine's grouping: each change's id, commits and
  revert status, each copy's method;
- the rest needs only the findings the metrics point at (hotfixes, copies, merges, reverts:
  a few hundred, not the thousands of pending changes and untested releases).
So right after the walk a forked child reads the window while this process groups changes,
drafts the metrics while it computes the findings, finishes them while it builds the report
and scans the delivery configuration, and sends them back as plain data. What it needs is
sent down a pipe as soon as it is made, by a thread, so this process never waits for the
child to take it.

Where no child may run (drift.parallel.parallel_allowed), or when the child fails or sends
nothing readable, the same three steps run here when the metrics are asked for: both ways
give the same report (tested).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

from drift.changes import Change, CopyLink, Grouping
from drift.commits import CommitInfo
from drift.findings.model import Finding
from drift.git.repository import GitRepository, read_each_once
from drift.parallel import (
    became_work_child,
    fork_with_pipes,
    frame,
    parallel_allowed,
    stop,
    stop_asides,
    unframe,
)
from drift.readiness.evidence import KEY_FIELD
from drift.readiness.metrics import Draft
from drift.readiness.window import Window

Read = Callable[[], Window]
Prepare = Callable[[Window, Grouping], Draft]
Finish = Callable[[Draft, list[Finding]], dict[str, Any]]


class MetricsAhead:
    """The metrics of one audit: begun by a child, or computed here when asked."""

    def __init__(self, read: Read, prepare: Prepare, finish: Finish) -> None:
        self._read, self._prepare, self._finish = read, prepare, finish
        self._child: int | None = None  # its pid, until it is reaped
        self._to_child: BinaryIO | None = None
        self._from_child: BinaryIO | None = None
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._sender: threading.Thread | None = None
        self.forked = False
        """Whether a child began the metrics (for tests and --debug)."""
        self._repo: GitRepository | None = None  # set at a fork: keeps what the child read

    @classmethod
    def start(
        cls, repo: GitRepository, read: Read, prepare: Prepare, finish: Finish
    ) -> MetricsAhead:
        """Begin the window in a child when that is allowed. `read`, `prepare` and `finish`
        are the three steps, the same here and there: `prepare` gets the grouping
        `send_grouping` is given, `finish` the findings `send_findings` is given."""
        ahead = cls(read, prepare, finish)
        if parallel_allowed():
            ahead._fork(repo)
        return ahead

    def send_grouping(self, grouping: Grouping) -> None:
        """Hand the child what the window reads of the grouping."""
        changes = [(c.id, c.commits, c.is_revert) for c in grouping.changes]
        copies = [(link.original, link.copy, link.method) for link in grouping.copies]
        self._send((changes, copies))

    def send_findings(self, findings: list[Finding]) -> None:
        """Hand the child the findings the metrics point at."""
        self._send([(f.kind, f.fields, f.note) for f in findings if f.kind in KEY_FIELD])

    def result(self, grouping: Grouping, findings: list[Finding]) -> dict[str, Any]:
        """The metrics: the child's, or (without one, or when it sent nothing readable)
        computed here from the same grouping and findings."""
        answer = self._collect()
        if answer is None:
            return self._finish(self._prepare(self._read(), grouping), findings)
        return answer

    def close(self) -> None:
        """Stop and reap a child whose answer is not needed (or already read)."""
        stop(self._child, self._let_go)
        self._child = None

    def _let_go(self) -> None:
        if self._sender is not None:
            self._outbox.put(None)
            self._sender.join()
            self._sender = None
        for stream in (self._to_child, self._from_child):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._to_child = self._from_child = None

    def _send(self, message: Any) -> None:
        if self._to_child is None:
            return
        try:
            data = frame(message)
        except ValueError:  # something marshal cannot carry: the metrics are computed here
            self.close()
            return
        if self._sender is None:  # started now, not at the fork: see `_fork`
            self._sender = threading.Thread(target=self._deliver, name="drift-metrics")
            self._sender.daemon = True
            self._sender.start()
        self._outbox.put(data)

    def _collect(self) -> dict[str, Any] | None:
        source = self._from_child
        if source is None:
            return None
        try:
            answer = unframe(source)
        except (EOFError, OSError, ValueError, TypeError):
            answer = None
        self.close()
        if not (isinstance(answer, tuple) and len(answer) == 2 and isinstance(answer[0], dict)):
            return None
        metrics: dict[str, Any] = answer[0]
        read = answer[1]
        if self._repo is not None:  # what the child read of the window's commits, to keep
            with contextlib.suppress(TypeError):
                self._repo.keep_infos([CommitInfo(*fields) for fields in read])
        return metrics

    def _fork(self, repo: GitRepository) -> None:
        infos = repo.infos_for_child()  # the window's commits, as far as the cache has them
        forked = fork_with_pipes(2)
        if forked is None:  # refused: `result` computes the metrics here
            return
        pid, [(inbox_read, inbox_write), (answer_read, answer_write)] = forked
        if pid == 0:  # the child: the window, the draft, the metrics, each when it can
            status = 1
            try:
                became_work_child()  # no thread runs here: a part may go to a grandchild
                os.close(inbox_write)
                os.close(answer_read)
                repo.forget_store(infos)  # the parent's persistent cache is the parent's
                read_each_once()  # the window's commits are read once, and kept decoded
                window = self._read()
                with os.fdopen(inbox_read, "rb") as inbox:
                    draft = self._prepare(window, _grouping(unframe(inbox)))
                    pointed = unframe(inbox)
                findings = [Finding(kind, fields, note) for kind, fields, note in pointed]
                metrics = self._finish(draft, findings)
                read = [c.fields() for c in infos.taken()] if infos else []
                with os.fdopen(answer_write, "wb") as out:
                    out.write(frame((metrics, read)))
                status = 0
            finally:
                try:
                    stop_asides()
                finally:
                    os._exit(status)
        os.close(inbox_read)
        os.close(answer_write)
        self._child, self.forked, self._repo = pid, True, repo
        self._to_child = os.fdopen(inbox_write, "wb")
        self._from_child = os.fdopen(answer_read, "rb")
        # No thread yet: the base-lines child is forked next, and a process forked while
        # another thread runs may inherit a lock that thread holds (Python 3.12 warns).

    def _deliver(self) -> None:
        """The sender thread: each message in turn, until `close` (None). A child that died
        closes the pipe (EPIPE): what is left is dropped, and `result` finds no answer."""
        target = self._to_child
        while (data := self._outbox.get()) is not None:
            if target is None:
                continue
            try:
                target.write(data)
                target.flush()
            except OSError:
                target = None


def _grouping(message: Any) -> Grouping:
    """The grouping as the window reads it (drift.readiness.window.group_window): changes
    with their ids, commits and revert status; copy links with their method."""
    changes_sent, copies_sent = message
    changes = [Change(id, tuple(commits), bool(revert)) for id, commits, revert in changes_sent]
    change_of = {commit: change for change in changes for commit in change.commits}
    copies = [CopyLink(original, copy, method) for original, copy, method in copies_sent]
    return Grouping(changes, change_of, copies, [])
