"""Times in reports: ISO 8601 in UTC, to the second."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(timestamp: int) -> str:
    """`2025-01-06T09:00:00Z` for an epoch second."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
