"""DORA's published performance bands of one cited year, and where a value falls among them.

The bands are those of the Accelerate State of DevOps report 2021 (DORA, Google Cloud), the
year whose table could be cited: Apache DevLake's metric documentation reproduces it with
that source (docs/Metrics/LeadTimeForChanges.md, DeploymentFrequency.md, CFR.md in
apache/incubator-devlake-website), and Google Cloud's announcement of the 2021 report states
its elite lead time ("less than one hour"). Later years moved the cut-offs; a report that
draws bands must say which year's, and drift draws only this one.

The 2021 bands leave gaps (lead times between one hour and one day, or one week and one
month; deploying more than weekly but not several times a day) and share one change-failure
band among three groups. A value in a gap is said to be between two bands and one past the
last band beyond it: never rounded into the nearest band. drift's values are proxies from
branch history (arrival on the last environment, first-parent commits on it, releases
followed by a fix), not the deployment events DORA surveys; the page says so beside them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

YEAR = 2021
SOURCE = (
    "Accelerate State of DevOps 2021 (DORA, Google Cloud), as tabulated with that source in "
    "Apache DevLake's metric documentation; its elite lead time is also stated in Google "
    "Cloud's announcement of the 2021 report"
)
HOUR, DAY, WEEK = 1 / 24, 1.0, 7.0
MONTH, SIX_MONTHS = 30.0, 182.5  # days: "one month" and "six months" as DORA words them


@dataclass(frozen=True)
class Band:
    """One published group and its range in the metric's unit; `open_low`/`open_high` leave
    an end out ("less than one hour", "more than six months")."""

    group: str
    words: str
    low: float
    high: float
    open_low: bool = False
    open_high: bool = False

    def holds(self, value: float) -> bool:
        """Whether the value lies in this band."""
        above = value > self.low if self.open_low else value >= self.low
        below = value < self.high if self.open_high else value <= self.high
        return above and below


@dataclass(frozen=True)
class Scale:
    """One metric's bands, its unit and how a strip lays it out."""

    metric: str
    unit: str
    bands: tuple[Band, ...]
    log: bool
    start: float
    end: float


LEAD_TIME = Scale(
    "Lead time for changes",
    "days",
    (
        Band("Elite", "less than one hour", 0.0, HOUR, open_high=True),
        Band("High", "between one day and one week", DAY, WEEK),
        Band("Medium", "between one month and six months", MONTH, SIX_MONTHS),
        Band("Low", "more than six months", SIX_MONTHS, math.inf, open_low=True),
    ),
    log=True,
    start=HOUR / 4,
    end=2 * 365.0,
)
DEPLOY_FREQUENCY = Scale(
    "Deployment frequency",
    "/week",
    (
        Band("Low", "fewer than once per six months", 0.0, 2 / 52, open_high=True),
        # "once per month" ends both High and Medium in the source; it is counted as High.
        Band(
            "Medium",
            "between once per month and once every six months",
            2 / 52,
            12 / 52,
            open_high=True,
        ),
        Band("High", "between once per week and once per month", 12 / 52, 1.0),
        Band("Elite", "on demand, multiple deploys per day", 7.0, math.inf, open_low=True),
    ),
    log=True,
    start=1 / 104,
    end=70.0,
)
CHANGE_FAILURE = Scale(
    "Change failure rate",
    "%",
    (
        Band("Elite", "0%-15%", 0.0, 15.0),
        Band("High, Medium and Low", "16%-30%", 16.0, 30.0),
    ),
    log=False,
    start=0.0,
    end=50.0,
)


def place(scale: Scale, value: float) -> str:
    """Where `value` falls: in a band, between two, or past the last one, in words."""
    ordered = sorted(scale.bands, key=lambda b: b.low)
    for band in ordered:
        if band.holds(value):
            return f"{band.group} ({band.words})"
    below = [b for b in ordered if b.high <= value]
    above = [b for b in ordered if b.low >= value]
    if below and above:
        return (
            f"between {below[-1].group} ({below[-1].words}) and {above[0].group} "
            f"({above[0].words}): in no published band"
        )
    last = below[-1] if below else above[0]
    side = "above" if below else "below"
    return f"{side} every published band (the nearest: {last.group}, {last.words})"


def strip(scale: Scale, value: float, key: str) -> Markup:
    """An inline SVG strip: the bands as labelled segments (gaps left empty) and the value as a
    marker; its title and description say the same in words."""
    width, height, pad = 260, 34, 6

    def x(v: float) -> float:
        lo, hi = scale.start, scale.end
        v = min(max(v, lo), hi)
        if scale.log:
            return pad + (width - 2 * pad) * (math.log(v) - math.log(lo)) / (
                math.log(hi) - math.log(lo)
            )
        return pad + (width - 2 * pad) * (v - lo) / (hi - lo)

    parts = [
        f'<line x1="{pad}" y1="14" x2="{width - pad}" y2="14" stroke="#8a8a8a" '
        'stroke-dasharray="2 2"/>'
    ]
    for n, band in enumerate(sorted(scale.bands, key=lambda b: b.low)):
        left = x(max(band.low, scale.start))
        right = x(min(band.high, scale.end))
        shade = ("#dfe8f3", "#c3d4ea", "#a5bfe0", "#86a9d4")[n % 4]
        parts.append(
            f'<rect x="{left:.1f}" y="6" width="{max(right - left, 1):.1f}" height="16" '
            f'fill="{shade}" stroke="#1f5fa8" stroke-width="0.5"/>'
            f'<text x="{(left + right) / 2:.1f}" y="18" font-size="9" text-anchor="middle" '
            f'fill="#1b1b1b">{escape(band.group.split(",")[0])}</text>'
        )
    at = x(value)
    parts.append(
        f'<path d="M{at:.1f} 24 l-5 8 h10 z" fill="#1b1b1b"/>'
        f'<line x1="{at:.1f}" y1="3" x2="{at:.1f}" y2="24" stroke="#1b1b1b" stroke-width="2"/>'
    )
    title = f"{scale.metric}: DORA {YEAR} bands and this repository's value"
    desc = f"{value:g} {scale.unit}: {place(scale, value)}."
    return Markup(
        f'<svg role="img" aria-labelledby="{key}-t {key}-d" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" class="dora">'
        f'<title id="{key}-t">{escape(title)}</title><desc id="{key}-d">{escape(desc)}</desc>'
        f"{''.join(parts)}</svg>"
    )
