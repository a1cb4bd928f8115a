"""What merge messages say: which branch was merged into which, by the names of the day.

First-parent structure is the primary evidence for a merge's direction (findings.md). A
message is the second witness: where a fast-forward or a `git pull` replaced an environment's
first-parent history, the structure and the message disagree, and where the merged branch's
line no longer exists (a renamed `master`, a deleted `staging/1.2`), only the message is left.
Names are mapped to today's environments by their names, their refs, and the `aliases` of
the configuration; names that look like environments but map to none are reported as
unmapped, so a user can tell drift what they were.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from drift.environments import RELEASE_LINE, ROLES, Environment
from drift.errors import DriftError

_PATTERNS = (
    # git: Merge branch 'x' [of URL] [into y]; Merge remote-tracking branch 'origin/x' [into y]
    re.compile(
        r"Merge (?:remote-tracking )?branch '(?P<src>[^']+)'(?: of \S+)?"
        r"(?: into '?(?P<dst>[^'\s]+)'?)?"
    ),
    # GitHub: Merge pull request #12 from owner/branch
    re.compile(r"Merge pull request #\d+ from [^/\s]+/(?P<src>\S+)"),
    # Bitbucket: Merged in branch (pull request #5); Merged branch into target
    re.compile(r"Merged in (?P<src>\S+) \(pull request #\d+\)"),
)
#: Names that look like an environment: the role names detection uses, and release lines.
_ENV_LIKE = {name for _, names in ROLES for name in names}


@dataclass(frozen=True)
class Said:
    """A merge message's claim: the branch merged and, when the message names it, the target."""

    source: str
    target: str | None


def parse(message: str) -> Said | None:
    """The branch names in a merge message's subject, or None for messages of no known form."""
    subject = message.split("\n", 1)[0].strip()
    for pattern in _PATTERNS:
        found = pattern.fullmatch(subject)
        if found is not None:
            target = found.groupdict().get("dst")
            return Said(found["src"], target)
    return None


class EnvNames:
    """Branch names of messages -> environment index: by name, by ref, by alias."""

    def __init__(self, envs: list[Environment], aliases: tuple[tuple[str, str], ...]) -> None:
        names = {env.name: i for i, env in enumerate(envs)}
        unknown = [(old, new) for old, new in aliases if new not in names]
        if unknown:
            old, new = unknown[0]
            raise DriftError(
                f"aliases: {old!r} maps to {new!r}, which is not an environment "
                f"(environments: {', '.join(names)})"
            )
        self.index: dict[str, int] = {}
        for i, env in enumerate(envs):
            for name in (env.name, *_ref_names(env.ref)):
                self.index.setdefault(name, i)
        self.aliases = dict(aliases)
        for old, new in aliases:
            self.index[old] = names[new]

    def lookup(self, name: str) -> int | None:
        """The environment a message's branch name means today (a remote's `origin/x` too)."""
        if name in self.index:
            return self.index[name]
        _, _, rest = name.partition("/")
        return self.index.get(rest) if rest else None

    @staticmethod
    def env_like(name: str) -> bool:
        """Whether a name looks like an environment or a release line (worth mapping)."""
        parts = name.lower().split("/")
        return any(part in _ENV_LIKE for part in parts) or bool(RELEASE_LINE.fullmatch(name))


def _ref_names(ref: str) -> list[str]:
    for prefix in ("refs/heads/", "refs/remotes/"):
        if ref.startswith(prefix):
            short = ref[len(prefix) :]
            return [short] if prefix == "refs/heads/" else [short, short.partition("/")[2]]
    return []
