"""What drift knows about one commit, independent of how it was read."""

from __future__ import annotations

from dataclasses import dataclass

#: Messages are kept whole up to this size; beyond it, the head and the tail (where
#: trailers live) are kept so a megabyte message cannot blow up memory or reports.
MESSAGE_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """One commit's metadata; `message` is decoded as git decodes it."""

    id: str
    parents: tuple[str, ...]
    tree: str
    author_name: str
    author_email: str
    author_time: int
    commit_time: int
    message: str

    @property
    def is_merge(self) -> bool:
        """More than one parent."""
        return len(self.parents) > 1

    @property
    def subject(self) -> str:
        """First line of the message, control characters made visible-safe."""
        line = self.message.split("\n", 1)[0].strip()
        return "".join(ch if ch.isprintable() else "\ufffd" for ch in line)


def clip_message(message: str) -> str:
    """Keep a huge message's head and tail; trailers sit at the end."""
    if len(message) <= 2 * MESSAGE_LIMIT:
        return message
    return (
        message[:MESSAGE_LIMIT]
        + "\n[... message clipped by drift ...]\n"
        + message[-MESSAGE_LIMIT:]
    )
