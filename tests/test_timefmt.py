"""`iso` gives datetime's text in datetime's range, and datetime's error outside it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drift.timefmt import iso

FIRST, LAST = -62135596800, 253402300799  # 0001-01-01T00:00:00Z, 9999-12-31T23:59:59Z


def by_datetime(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@given(st.integers(min_value=FIRST, max_value=LAST))
def test_the_same_text_as_datetime(timestamp: int) -> None:
    assert iso(timestamp) == by_datetime(timestamp)


@pytest.mark.parametrize("timestamp", [FIRST, -1, 0, 951782400, 1700000000, LAST])
def test_edges(timestamp: int) -> None:
    assert iso(timestamp) == by_datetime(timestamp)


@pytest.mark.parametrize("timestamp", [FIRST - 1, LAST + 1, 2**40])
def test_outside_datetime_range_raises_as_datetime_does(timestamp: int) -> None:
    with pytest.raises(ValueError):
        iso(timestamp)
