"""Work handed to a forked child on the second core, and the frames its answers travel in.

Two parts of an audit need little from the rest and cost much: release identity's reading of
the base lines (drift.findings.base_lines) and the delivery metrics' window
(drift.readiness.ahead). Each runs in a child forked from this process, which keeps what the
walk and the grouping built without copying it, and sends back plain data. A child is an
optimisation only: whatever it does not answer is computed here, and both ways give the same
report (tested).
"""

from __future__ import annotations

import contextlib
import marshal
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, BinaryIO


def parallel_allowed() -> bool:
    """Whether a child may do work on another core: Linux (where fork is the way), more than
    one core for this process, and not turned off with `DRIFT_JOBS=1`."""
    if os.environ.get("DRIFT_JOBS") == "1":
        return False
    # The cores this process may run on (a CI container's share), not the machine's.
    return sys.platform == "linux" and len(os.sched_getaffinity(0)) > 1


def frame(answer: Any) -> bytes:
    """One answer as a child sends it: its length, then marshal data. marshal, not pickle:
    0.01 s to encode 230k trees against 0.20 s, on the child's critical path; read whole by
    length, so decoding is one call (marshal reading a stream object asks it for every
    value). The stream is the parent's own pipe from its own child."""
    body = marshal.dumps(answer)
    return len(body).to_bytes(8, "little") + body


def unframe(source: BinaryIO) -> Any:
    """The next answer on the pipe; EOFError at its end or on a cut frame."""
    head = source.read(8)
    if len(head) < 8:
        raise EOFError("no more answers")
    size = int.from_bytes(head, "little")
    body = source.read(size)
    if len(body) < size:
        raise EOFError("a cut frame")
    return marshal.loads(body)


def fork_with_pipes(count: int) -> tuple[int, list[tuple[int, int]]] | None:
    """`count` pipes (read end, write end), then os.fork(): the pid (0 in the child) and the
    pipes. None, with every pipe made closed again, when the system refuses (no process or
    file descriptor left: a container's pid limit, a low `ulimit -n`): the child's work is
    then done in process, where a refused fork used to end the audit as a crash."""
    pipes: list[tuple[int, int]] = []
    try:
        for _ in range(count):
            pipes.append(os.pipe())
            _widen(pipes[-1][1])
        return os.fork(), pipes
    except OSError:
        for read, write in pipes:
            os.close(read)
            os.close(write)
        return None


def _widen(pipe: int) -> None:
    """Ask for a pipe of 1 MiB (Linux's limit for any user) instead of 64 KiB: the thread
    that empties it needs the GIL for every read, and with the main thread busy it waits up
    to a switch interval (5 ms) each time, so a 10 MB answer in 64 KiB reads held the child
    back by most of a second. Refused or not Linux: the pipe stays as it is."""
    with contextlib.suppress(AttributeError, OSError):
        import fcntl

        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, 1 << 20)


def stop(child: int | None, let_go: Callable[[], None]) -> None:
    """Kill a child (done or not), then `let_go` of what talks to it (threads blocked on its
    pipes return once it is gone, so they are joined only after the kill), then reap it: no
    zombie is left, however the audit ends."""
    if child is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    let_go()
    if child is not None:
        os.waitpid(child, 0)


_WORK_CHILD = False
"""Set in a child forked for work (`became_work_child`): no thread runs there, so it may fork
again (`aside`); the main process runs threads that empty and fill the children's pipes."""

_ASIDE: list[int] = []
"""Grandchildren begun `aside` whose value is not taken yet (`stop_asides`)."""


def became_work_child() -> None:
    """Mark this process as a child forked for work, which may hand a part of it `aside`."""
    global _WORK_CHILD
    _WORK_CHILD = True


def aside(compute: Callable[[], Any]) -> Callable[[], Any]:
    """Begin `compute` in a grandchild, while this child goes on with the rest of its work,
    and return the function that gives its value: the grandchild's answer, or `compute()` run
    here when there was no grandchild (the main process, which runs threads; a refused fork)
    or it sent nothing readable. Either way the value is the same. The answer must be plain
    data (it travels as a `frame`); the grandchild is reaped when the value is taken."""
    forked = fork_with_pipes(1) if _WORK_CHILD else None
    if forked is None:
        here = compute()
        return lambda: here
    pid, [(read, write)] = forked
    if pid == 0:  # the grandchild: compute, send, leave without cleanup
        status = 1
        try:
            os.close(read)
            with os.fdopen(write, "wb") as out:
                out.write(frame(compute()))
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    _ASIDE.append(pid)
    source = os.fdopen(read, "rb")
    taken: list[Any] = []  # the value, once taken

    def taken_value() -> Any:
        if not taken:
            try:
                answer, readable = unframe(source), True
            except (EOFError, OSError, ValueError, TypeError):
                answer, readable = None, False
            finally:
                source.close()
                stop(pid, lambda: None)
                _ASIDE.remove(pid)
            taken.append(answer if readable else compute())
        return taken[0]

    return taken_value


def stop_asides() -> None:
    """Kill and reap every grandchild whose value was never taken (the child's work failed
    before it got there): none is left running once the child leaves."""
    while _ASIDE:
        stop(_ASIDE.pop(), lambda: None)
