"""`iso` gives ISO 8601 text (datetime's isoformat) in datetime's range, with four-digit years
before the year 1000 too, and a one-line error outside it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drift.errors import DriftError
from drift.timefmt import iso, seconds

FIRST, LAST = -62135596800, 253402300799  # 0001-01-01T00:00:00Z, 9999-12-31T23:59:59Z


def by_datetime(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


@given(st.integers(min_value=FIRST, max_value=LAST))
def test_the_same_text_as_datetime(timestamp: int) -> None:
    assert iso(timestamp) == by_datetime(timestamp)


@pytest.mark.parametrize(
    "timestamp", [FIRST, -30610224001, -30610224000, -1, 0, 951782400, 1700000000, LAST]
)
def test_edges(timestamp: int) -> None:
    assert iso(timestamp) == by_datetime(timestamp)


def test_years_before_1000_keep_four_digits() -> None:
    """The C library's %Y writes the year 2 as "2": ISO 8601 and every reader of the report's
    first ten characters want "0002"."""
    assert iso(-62104060800) == "0002-01-01T00:00:00Z"


@pytest.mark.parametrize("timestamp", [FIRST - 1, LAST + 1, 2**40])
def test_outside_datetime_range_is_a_one_line_error(timestamp: int) -> None:
    with pytest.raises(DriftError, match=f"a time of {timestamp} seconds since 1970"):
        iso(timestamp)


@given(st.integers(min_value=FIRST, max_value=LAST))
def test_seconds_reads_back_what_iso_writes(timestamp: int) -> None:
    assert seconds(iso(timestamp)) == timestamp


@pytest.mark.parametrize("text", [None, 12, "", "2026-01-06", "2026-01-06T09:00:00+01:00"])
def test_seconds_of_what_iso_never_writes_is_none(text: object) -> None:
    assert seconds(text) is None
