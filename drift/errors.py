"""The one error type users see, and the exit codes the CLI documents."""

from __future__ import annotations

EXIT_OK = 0
EXIT_GATE = 1
EXIT_USAGE = 2
EXIT_CRASH = 3
EXIT_INTERRUPTED = 130


class DriftError(Exception):
    """An expected failure, shown to the user as one sentence with exit code 2.

    Raised at the boundary where the cause is known (a missing branch, a shallow clone, a
    broken config key) so the message can name the thing the user has to fix.
    """

    exit_code = EXIT_USAGE


class UnreadableObjectError(DriftError):
    """An object a commit needs is missing (a broken mirror, a partial clone). Fatal where
    nothing else can be done; the audit records the commit as not analysed where it can go on
    without it (patch ids, re-merges)."""

    def __init__(self, message: str, commit_id: str | None) -> None:
        super().__init__(message)
        self.commit_id = commit_id
