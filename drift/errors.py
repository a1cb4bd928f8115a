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
