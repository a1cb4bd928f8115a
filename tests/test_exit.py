"""How the `drift` command ends: output flushed, the exit code kept, no teardown.

`entry` leaves with `os._exit` once the output is flushed (freeing every object one by one
took 0.06-0.15 s at the end of large audits). Each test runs the real entry point in a
process of its own, with a command swapped in for `_command` so that it prints what a test
needs: what was printed must arrive whole, and a flush that fails must still be reported.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from drift.cli import main
from tests.small_repos import four_envs

_ENTRY = """
import gc, sys
import drift.cli
def command(argv):
    {body}
drift.cli._command = command
drift.cli.entry()
"""


def _entry(body: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    code = _ENTRY.format(body=body)
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", code], text=True, check=False, **kwargs
    )


def test_what_a_command_printed_arrives_whole_and_its_exit_code_is_kept() -> None:
    """Printed into a pipe, 100 KB wait in the buffer until the end: os._exit without the
    flush would lose them."""
    proc = _entry(
        "print('x' * 100_000); print(gc.isenabled(), file=sys.stderr); return 3",
        capture_output=True,
    )
    assert proc.returncode == 3
    assert proc.stdout == "x" * 100_000 + "\n"
    assert proc.stderr == "False\n"  # the collector was never turned back on


@pytest.mark.skipif(sys.platform != "linux", reason="needs RLIMIT_FSIZE semantics of Linux")
def test_output_that_fails_at_the_last_flush_is_an_error_not_lost(tmp_path: Path) -> None:
    """2,000 bytes wait in the buffer, so the file limit is met only when they are flushed."""
    shown = tmp_path / "shown.txt"

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))

    with open(shown, "w") as out:
        proc = _entry(
            "sys.stdout.write('x' * 2000); return 0",
            stdout=out,
            stderr=subprocess.PIPE,
            preexec_fn=limited,
        )
    assert proc.returncode == 2
    assert proc.stderr == "drift: error: cannot write output: File too large\n"


@pytest.mark.parametrize(
    "body",
    [
        # the pipe breaks while the command writes: main answers it
        "print('x\\n' * 100_000); return 0",
        # the pipe is gone before the last few bytes, still in the buffer, are flushed at
        # the end: `flushed` answers it (the command waits until the reader has left)
        "sys.stdin.readline(); sys.stdout.write('x' * 10); return 0",
    ],
)
def test_a_reader_that_left_is_not_an_error(body: str) -> None:
    """`drift audit | head -1`: the rest has nowhere to go, and that is what was asked."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _ENTRY.format(body=body)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader leaves before the command ends
    proc.stdin.write("the reader left\n")
    proc.stdin.close()
    assert proc.wait() == 0
    assert proc.stderr.read() == ""


def test_an_audit_run_as_the_drift_command_writes_the_same_report_as_main(
    tmp_path: Path,
) -> None:
    """The JSON on stdout of `python -m drift` (entry) is the report `main` writes."""

    b = four_envs(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "drift", "audit", str(b.path), "--json", "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / "r.json"
    assert main(["audit", str(b.path), "-q", "--json", str(written)]) == 0
    ours, theirs = json.loads(proc.stdout), json.loads(written.read_text())
    for report in (ours, theirs):
        report.pop("generated_at")
    assert ours == theirs
