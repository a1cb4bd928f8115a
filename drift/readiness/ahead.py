"""The delivery metrics, begun on the second core before the findings exist.

The metrics phase was the longest of an audit at 100k commits (0.8 s of 2.3): it reads a year
of history into a window and groups it into changes. Most of it (the window and the metrics
read from it alone: the draft, drift.readiness.metrics.Draft) needs nothing the findings make;
the rest needs only the findings the metrics point at (hotfixes, copies, merges, reverts: a
few hundred, not the thousands of pending changes and untested releases). So right after the
grouping a forked child makes the draft while this process computes the findings; it gets
those few findings when they are made, finishes the metrics while this process builds the
report and scans the delivery configuration, and sends them back as plain data. Measured:
2.31 -> 1.86 s at 100k commits, 4.16 -> 3.80 s at 300k (median of 7, reports identical).

Where no child may run (drift.parallel.parallel_allowed), or when the child fails or sends
nothing readable, the same two steps run here when the metrics are asked for: both ways give
the same report (tested).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

from drift.findings.model import Finding
from drift.git.repository import GitRepository
from drift.parallel import frame, parallel_allowed, unframe
from drift.readiness.evidence import KEY_FIELD
from drift.readiness.metrics import Draft

Prepare = Callable[[], Draft]
Finish = Callable[[Draft, list[Finding]], dict[str, Any]]


class MetricsAhead:
    """The metrics of one audit: read ahead by a child, or computed here when asked."""

    def __init__(self, prepare: Prepare, finish: Finish) -> None:
        self._prepare, self._finish = prepare, finish
        self._child: int | None = None  # its pid, until it is reaped
        self._to_child: BinaryIO | None = None
        self._from_child: BinaryIO | None = None
        self._sender: threading.Thread | None = None
        self.forked = False
        """Whether a child began the metrics (for tests and --debug)."""

    @classmethod
    def start(cls, repo: GitRepository, prepare: Prepare, finish: Finish) -> MetricsAhead:
        """Begin the draft in a child when that is allowed; `prepare` and `finish` are the two
        steps, the same here and there (`finish` gets the findings `send` is given)."""
        ahead = cls(prepare, finish)
        if parallel_allowed():
            ahead._fork(repo)
        return ahead

    def send(self, findings: list[Finding]) -> None:
        """Hand the child the findings the metrics read, without waiting for it to take them
        (it takes them once its draft is done)."""
        if self._to_child is None:
            return
        pointed = [(f.kind, f.fields, f.note) for f in findings if f.kind in KEY_FIELD]
        try:
            data = frame(pointed)
        except ValueError:  # a field marshal cannot carry: the metrics are computed here
            self.close()
            return
        self._sender = threading.Thread(target=self._write, args=(data,), name="drift-metrics")
        self._sender.daemon = True
        self._sender.start()

    def result(self, findings: list[Finding]) -> dict[str, Any]:
        """The metrics: the child's, or (without one, or when it sent nothing readable)
        computed here from the same findings."""
        answer = self._collect()
        if answer is None:
            return self._finish(self._prepare(), findings)
        return answer

    def close(self) -> None:
        """Stop and reap a child whose answer is not needed (or already read)."""
        if self._child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._child, signal.SIGKILL)
        self._join()
        if self._child is not None:
            os.waitpid(self._child, 0)
            self._child = None

    def _collect(self) -> dict[str, Any] | None:
        source = self._from_child
        if source is None:
            return None
        try:
            answer = unframe(source)
        except (EOFError, OSError, ValueError, TypeError):
            answer = None
        self.close()
        return answer if isinstance(answer, dict) else None

    def _fork(self, repo: GitRepository) -> None:
        findings_read, findings_write = os.pipe()
        answer_read, answer_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: the draft, then the findings, then the metrics back
            status = 1
            try:
                os.close(findings_write)
                os.close(answer_read)
                repo.forget_store()  # the parent's persistent cache is the parent's
                draft = self._prepare()
                with os.fdopen(findings_read, "rb") as source:
                    pointed = unframe(source)
                findings = [Finding(kind, fields, note) for kind, fields, note in pointed]
                metrics = self._finish(draft, findings)
                with os.fdopen(answer_write, "wb") as out:
                    out.write(frame(metrics))
                status = 0
            finally:
                os._exit(status)
        os.close(findings_read)
        os.close(answer_write)
        self._child, self.forked = pid, True
        self._to_child = os.fdopen(findings_write, "wb")
        self._from_child = os.fdopen(answer_read, "rb")

    def _write(self, data: bytes) -> None:
        """The sender thread: a child that died before reading closes the pipe (EPIPE), and
        then `result` finds no answer and computes the metrics here."""
        target = self._to_child
        if target is None:
            return
        with contextlib.suppress(OSError):
            target.write(data)
            target.flush()
        with contextlib.suppress(OSError):
            target.close()

    def _join(self) -> None:
        if self._sender is not None:
            self._sender.join()
            self._sender = None
        for stream in (self._to_child, self._from_child):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._to_child = self._from_child = None
