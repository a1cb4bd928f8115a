"""Calendar periods and duration statistics for the delivery metrics.

Months are `YYYY-MM` and weeks ISO `YYYY-Www`, both in UTC. A period's point in time is its
last second (capped at the window's end), so "at the end of March" includes 23:59:59 on the
31st and nothing of April.
"""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime, timedelta
from functools import lru_cache

DAY = 86400


def month_key(timestamp: int) -> str:
    """`2025-03` for any second of March 2025 (UTC)."""
    return _month_of_day(timestamp // DAY)


def week_key(timestamp: int) -> str:
    """ISO week `2025-W09` of an epoch second (UTC)."""
    return _week_of_day(timestamp // DAY)


# Both keys depend on the UTC date only: by day, a window's tens of thousands of timestamps
# cost a few hundred datetime conversions.
@lru_cache(maxsize=4096)
def _month_of_day(day: int) -> str:
    return datetime.fromtimestamp(day * DAY, UTC).strftime("%Y-%m")


@lru_cache(maxsize=4096)
def _week_of_day(day: int) -> str:
    year, week, _ = datetime.fromtimestamp(day * DAY, UTC).isocalendar()
    return f"{year}-W{week:02d}"


def months(start: int, end: int) -> list[tuple[str, int]]:
    """(key, last second) of every month from the one holding `start` to the one holding
    `end`; the last month's point is `end` itself."""
    day = datetime.fromtimestamp(start, UTC).replace(day=1, hour=0, minute=0, second=0)
    out: list[tuple[str, int]] = []
    while int(day.timestamp()) <= end:
        following = _later(day, timedelta(days=32))
        if following is None:  # December 9999: datetime's last month, so `end`'s
            out.append((day.strftime("%Y-%m"), end))
            break
        following = following.replace(day=1)
        out.append((day.strftime("%Y-%m"), min(int(following.timestamp()) - 1, end)))
        day = following
    return out


def _later(moment: datetime, step: timedelta) -> datetime | None:
    """`moment + step`, or None past the last day datetime holds (a commit git dated in the
    year 9999 is odd history, not a reason to stop)."""
    try:
        return moment + step
    except OverflowError:
        return None


def weeks(start: int, end: int) -> list[tuple[str, int]]:
    """(key, last second) of every ISO week from the one holding `start` to the one holding
    `end`; the last week's point is `end` itself."""
    moment = datetime.fromtimestamp(start, UTC)
    day = (moment - timedelta(days=moment.weekday())).replace(hour=0, minute=0, second=0)
    out: list[tuple[str, int]] = []
    while int(day.timestamp()) <= end:
        following = _later(day, timedelta(days=7))
        if following is None:  # the last week datetime holds: its point is `end`
            out.append((week_key(int(day.timestamp())), end))
            break
        out.append((week_key(int(day.timestamp())), min(int(following.timestamp()) - 1, end)))
        day = following
    return out


def days(seconds: float) -> float:
    """Seconds as days, rounded to 0.1."""
    return round(seconds / DAY, 1)


def median(values: list[float]) -> float | None:
    """The median (mean of the two middle values for an even count); None when empty."""
    return statistics.median(values) if values else None


def p90(values: list[float]) -> float | None:
    """90th percentile by nearest rank: the value at rank ceil(0.9 n) of the sorted values,
    so it is always one of the observed values; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def duration_stats(samples: list[tuple[int, str]]) -> dict[str, object]:
    """count, median_days, p90_days and the sorted ids behind (seconds, id) samples."""
    seconds = [float(s) for s, _ in samples]
    mid, high = median(seconds), p90(seconds)
    return {
        "count": len(samples),
        "median_days": None if mid is None else days(mid),
        "p90_days": None if high is None else days(high),
        "changes": sorted({change for _, change in samples}),
    }
