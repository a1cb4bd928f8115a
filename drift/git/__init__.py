"""The git boundary: the only package that imports pygit2.

Everything above it sees `CommitInfo`, plain ids and `DriftError`s with sentences in them.
"""

from drift.git.repository import FileChange, GitRepository, LineCommit, RefInfo

__all__ = ["FileChange", "GitRepository", "LineCommit", "RefInfo"]
