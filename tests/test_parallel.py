"""A system that refuses a child (no process or file descriptor left) gets the same report,
computed in process, with nothing left open; answers travel in length-prefixed frames."""

from __future__ import annotations

import errno
import io
import os
import sys
import time
from pathlib import Path

import pytest

from drift import parallel
from drift.parallel import fork_with_pipes, frame, unframe
from drift_fixtures.demo import build_demo
from tests.probes import audit_with_jobs as audit

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or len(os.sched_getaffinity(0)) < 2, reason="needs Linux and two cores"
)


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("refused", ["fork", "first pipe", "second pipe"])
def test_a_refused_child_is_work_done_here(
    refused: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EAGAIN from fork (a container's pid limit), EMFILE from pipe (a low `ulimit -n`):
    before, the audit ended as a crash (exit code 3)."""
    path = build_demo(tmp_path).path
    expected = audit(path, monkeypatch, "1")
    pipe, calls = os.pipe, []

    def refusing_fork() -> int:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    def refusing_pipe() -> tuple[int, int]:
        calls.append(1)
        if (refused == "first pipe") or (refused == "second pipe" and len(calls) % 2 == 0):
            raise OSError(errno.EMFILE, "Too many open files")
        return pipe()

    if refused == "fork":
        monkeypatch.setattr(os, "fork", refusing_fork)
    else:
        monkeypatch.setattr(os, "pipe", refusing_pipe)
    before = open_descriptors()
    assert audit(path, monkeypatch, None) == expected
    assert open_descriptors() == before  # every pipe made for a refused child closed again


def test_fork_with_pipes_closes_what_it_made_when_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def refusing_fork() -> int:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refusing_fork)
    before = open_descriptors()
    assert fork_with_pipes(3) is None
    assert open_descriptors() == before


def test_a_frame_reads_back_and_a_cut_one_ends_the_stream() -> None:
    answer = {"a" * 40: (1700000000, "b" * 40), "list": [1, None, "x"]}
    one = frame(answer)
    stream = io.BytesIO(one + frame([]))
    assert unframe(stream) == answer
    assert unframe(stream) == []
    with pytest.raises(EOFError):
        unframe(stream)
    for cut in (4, len(one) - 1):  # inside the length, inside the body
        with pytest.raises(EOFError):
            unframe(io.BytesIO(one[:cut]))


def test_the_pipes_hold_a_mebibyte(monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer crosses in 1 MiB reads, not 64 KiB ones (each read waits for the GIL)."""
    import fcntl

    monkeypatch.setattr(os, "fork", lambda: 12345)  # the parent's side only, no child
    forked = fork_with_pipes(2)
    assert forked is not None
    for read, write in forked[1]:
        assert fcntl.fcntl(write, fcntl.F_GETPIPE_SZ) == 1 << 20
        os.close(read)
        os.close(write)


def test_a_part_set_aside_is_computed_in_a_grandchild_and_reaped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a child forked for work, `aside` forks once more: the value is the grandchild's
    (here: its pid, with data large enough to fill the pipe many times), taken once, and the
    grandchild is reaped when it is taken."""
    monkeypatch.setattr(parallel, "_WORK_CHILD", True)
    me = os.getpid()
    value = parallel.aside(lambda: (os.getpid(), ["x" * 40] * 200_000))
    got, payload = value()
    assert got != me and len(payload) == 200_000
    assert value() == (got, payload)  # taken once: asking again reads nothing more
    with pytest.raises(ChildProcessError):
        os.waitpid(got, os.WNOHANG)  # reaped: no zombie left
    assert parallel._ASIDE == []


def test_a_part_set_aside_that_fails_is_computed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_WORK_CHILD", True)
    me = os.getpid()

    def only_here() -> int:
        if os.getpid() != me:
            raise RuntimeError("the grandchild cannot compute it")
        return me

    before = open_descriptors()
    assert parallel.aside(only_here)() == me
    assert open_descriptors() == before
    assert parallel._ASIDE == []


def test_outside_a_work_child_nothing_is_set_aside(monkeypatch: pytest.MonkeyPatch) -> None:
    """The main process runs threads (the children's pipes): it never forks for a part."""
    monkeypatch.setattr(parallel, "_WORK_CHILD", False)
    calls: list[int] = []

    def compute() -> int:
        calls.append(os.getpid())
        return len(calls)

    value = parallel.aside(compute)
    assert calls == [os.getpid()]  # computed at once, here
    assert value() == 1 and calls == [os.getpid()]


def test_a_grandchild_whose_value_is_never_taken_is_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The child's work failed before it took the value: `stop_asides` (run as the child
    leaves) kills and reaps the grandchild, however long it would have run."""
    monkeypatch.setattr(parallel, "_WORK_CHILD", True)
    parallel.aside(lambda: time.sleep(30))
    [pid] = parallel._ASIDE
    begun = time.monotonic()
    parallel.stop_asides()
    assert time.monotonic() - begun < 10
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    assert parallel._ASIDE == []
