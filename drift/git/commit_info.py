"""A commit object read into drift's `CommitInfo`: the one decoding every reader shares.

What it makes depends on the commit's bytes alone, so the persistent cache may keep it
(drift.ci.cache hashes this module into its version, with drift.commits).
"""

from __future__ import annotations

from typing import Any

from drift.commits import CommitInfo, clip_message


def decode_commit(raw: Any) -> CommitInfo:
    """A pygit2 commit's metadata, its texts decoded as git decodes them."""
    encoding = raw.message_encoding
    author = raw.author
    return CommitInfo(
        id=str(raw.id),
        parents=tuple(str(p) for p in raw.parent_ids),
        tree=str(raw.tree_id),
        author_name=_decode(author.raw_name, encoding),
        author_email=_decode(author.raw_email, encoding),
        author_time=int(author.time),
        commit_time=int(raw.commit_time),
        message=clip_message(_decode(raw.raw_message, encoding)),
    )


def _decode(raw: bytes, encoding: str | None) -> str:
    try:
        return raw.decode(encoding or "utf-8")
    except (LookupError, UnicodeDecodeError):
        return raw.decode("utf-8", errors="replace")
