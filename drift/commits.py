"""What drift knows about one commit, independent of how it was read."""

from __future__ import annotations

from dataclasses import dataclass

#: Messages are kept whole up to this size; beyond it, the head and the tail (where
#: trailers live) are kept so a megabyte message cannot blow up memory or reports.
MESSAGE_LIMIT = 64 * 1024
#: What git's isspace() accepts (sane_ctype): \v and \f are not space to git.
_GIT_SPACE = " \t\n\r"


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

    def fields(self) -> tuple[str, tuple[str, ...], str, str, str, int, int, str]:
        """Its fields in order, as plain data marshal carries (`CommitInfo(*fields)` makes it
        again): for a child's pipe and the persistent cache. Not dataclasses.astuple, which
        copies each field deeply (10 us a commit)."""
        return (
            self.id,
            self.parents,
            self.tree,
            self.author_name,
            self.author_email,
            self.author_time,
            self.commit_time,
            self.message,
        )

    @property
    def subject(self) -> str:
        """The subject `git log --format=%s` prints, control characters made visible-safe."""
        subject = git_subject(self.message)
        if subject.isprintable():  # nearly always: one C call instead of one per character
            return subject
        return "".join(ch if ch.isprintable() else "\ufffd" for ch in subject)


def git_subject(message: str) -> str:
    """git's subject (pretty.c, format_subject): blank lines skipped, then the first
    paragraph's lines, each without trailing whitespace, joined by single spaces (a tool that
    wrapped its first line still gets one subject, as `git log --oneline` shows it)."""
    lines: list[str] = []
    start = 0
    while start < len(message):
        end = message.find("\n", start)
        end = len(message) if end < 0 else end
        line = message[start:end].rstrip(_GIT_SPACE)
        start = end + 1
        if line.strip(_GIT_SPACE):
            lines.append(line)
        elif lines:
            break
    return " ".join(lines)


def clip_message(message: str) -> str:
    """Keep a huge message's head and tail; trailers sit at the end."""
    if len(message) <= 2 * MESSAGE_LIMIT:
        return message
    return (
        message[:MESSAGE_LIMIT]
        + "\n[... message clipped by drift ...]\n"
        + message[-MESSAGE_LIMIT:]
    )
