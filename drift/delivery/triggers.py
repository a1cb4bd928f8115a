"""Branch triggers: which branch pushes start a pipeline, and where the file says so."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

CATCH_ALL = frozenset({"*", "**", "refs/heads/*", "refs/heads/**"})


@dataclass(frozen=True)
class Trigger:
    """One branch condition of a pipeline: a name or pattern, and the key and line with it.

    `syntax` is how the pattern matches a branch name: `exact`, `glob` (`*` within one path
    segment, `**` across them, `{a,b}` alternatives) or `regex` (searched, as GitLab's `=~`
    and Jenkins' REGEXP comparator do). An `exclude` trigger keeps branches out instead.
    """

    branch: str
    key: str
    line: int | None
    syntax: str = "exact"
    exclude: bool = False

    def matches(self, branch: str) -> bool:
        """Whether a push to `branch` satisfies this condition."""
        if self.syntax == "regex":
            pattern, flags = _regex(self.branch)
            try:
                return re.search(pattern, branch, flags) is not None
            except re.error:
                return False
        if self.syntax == "glob":
            return _glob(self.branch).fullmatch(branch) is not None
        return self.branch == branch

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "branch": self.branch,
            "key": self.key,
            "line": self.line,
            "syntax": self.syntax,
            "exclude": self.exclude,
        }


@dataclass(frozen=True)
class Pipeline:
    """One CI definition file: its system, its branch triggers, and whether it runs on
    pushes to every branch (no branch filter at all)."""

    path: str
    system: str
    triggers: tuple[Trigger, ...] = ()
    every_branch: bool = False

    def builds_on(self, branch: str) -> list[Trigger]:
        """The triggers that name `branch` (none when an exclusion keeps it out)."""
        if any(t.exclude and t.matches(branch) for t in self.triggers):
            return []
        return [t for t in self.triggers if not t.exclude and t.matches(branch)]


def patterns(
    values: list[Any], key: str, *, exclude: bool = False, syntax: str = "glob"
) -> tuple[list[Trigger], bool]:
    """Triggers from a list of branch patterns, and whether one of them matches every branch.

    GitHub's `!pattern` entries are exclusions; a `refs/heads/` prefix (Azure) is dropped and
    `refs/tags/...` entries are not branches.
    """
    found: list[Trigger] = []
    every = False
    for value in values:
        if not isinstance(value, str) or not value.strip() or value.startswith("refs/tags/"):
            continue
        text = value.strip()
        if text in CATCH_ALL and not exclude:
            every = True
            continue
        negated = text.startswith("!")
        text = text.lstrip("!").removeprefix("refs/heads/")
        kind = syntax if any(c in text for c in "*?[{") or syntax == "regex" else "exact"
        found.append(Trigger(text, key, getattr(value, "line", None), kind, exclude or negated))
    return found, every


def _regex(written: str) -> tuple[str, int]:
    """`/^prod$/i` -> ('^prod$', re.I); a bare pattern is taken as it is."""
    match = re.fullmatch(r"/(.*)/([a-z]*)", written, re.S)
    if match is None:
        return written, 0
    return match.group(1), re.I if "i" in match.group(2) else 0


@lru_cache(maxsize=512)
def _glob(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "{" and "}" in pattern[i:]:
            end = pattern.index("}", i)
            out.append(
                "(?:" + "|".join(re.escape(p) for p in pattern[i + 1 : end].split(",")) + ")"
            )
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out))
