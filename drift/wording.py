"""Counted nouns and their verbs, as a reader says them: "1 fix exists", "3 fixes exist".

Report sentences are read by people who are not engineers (the verdict, the migration plan);
"1 commits were copied" reads as a bug in the evidence it stands for.
"""

from __future__ import annotations


def plural(n: int, one: str, many: str | None = None) -> str:
    """`1 commit`, `3 commits`; `many` for nouns that do not take an s (`fix`, `fixes`)."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def verb(n: int, one: str, many: str) -> str:
    """The verb agreeing with a count: `verb(1, "was", "were")`."""
    return one if n == 1 else many
