"""What commit messages say about other commits: cherry-pick trailers and revert lines."""

from __future__ import annotations

import re

# `git cherry-pick -x` writes "(cherry picked from commit <full id>)"; people abbreviate.
_CHERRY = re.compile(r"^\s*\(cherry picked from commit ([0-9a-fA-F]{7,40})\)\s*$", re.MULTILINE)
# `git revert` writes "This reverts commit <id>." (", reversing changes made to" for merges).
_REVERT = re.compile(r"^\s*This reverts commit ([0-9a-fA-F]{7,40})\b", re.MULTILINE)


def cherry_picked_from(message: str) -> list[str]:
    """Every id named by a cherry-pick trailer, in message order (a chain of picks: several)."""
    seen: list[str] = []
    for match in _CHERRY.finditer(message):
        hex_id = match.group(1).lower()
        if hex_id not in seen:
            seen.append(hex_id)
    return seen


def reverts(message: str) -> str | None:
    """The id a `git revert` message names, if any."""
    match = _REVERT.search(message)
    return match.group(1).lower() if match else None
