"""The current fiscal year to date beside the same months of the year before: the dates a
to-date table (``to_date = true``) counts on a given release day.

The cutoff is the end of the last complete month before the release day: released on
1 December 2026 (or on any day of December), a July–June year counts 1 July–30 November 2026
for FY2027 and 1 July–30 November 2025 for FY2026. In the first month of a fiscal year no
month is complete, so there is nothing to compare yet (``through`` is ``None``). The year
before ends on the last day of the same month (a leap day's year before ends on 28 February).
Only the public calendar goes in, never the data, so the dates themselves reveal nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from ._profile import Profile


@attrs.frozen(slots=True)
class ToDate:
    """What a to-date release counts on one release day."""

    #: the fiscal year of the release day
    current: int
    #: the last day counted (end of the last complete month), or None in the first month
    through: dt.date | None
    #: per fiscal year counted, oldest first: (fiscal year, first day, last day)
    spans: tuple[tuple[int, dt.date, dt.date], ...]

    @property
    def filter(self) -> list[list[str]]:
        """The spans as a store's ``date_in`` filter."""
        return [[lo.isoformat(), hi.isoformat()] for _, lo, hi in self.spans]

    @property
    def fiscal_years(self) -> tuple[int, ...]:
        return tuple(y for y, _, _ in self.spans)

    def to_json(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "through": self.through.isoformat() if self.through else None,
            "spans": [[y, lo.isoformat(), hi.isoformat()] for y, lo, hi in self.spans],
        }

    @classmethod
    def from_json(cls, data: Any) -> ToDate:
        through = data.get("through")
        return cls(
            int(data["current"]),
            dt.date.fromisoformat(through) if through else None,
            tuple(
                (int(y), dt.date.fromisoformat(lo), dt.date.fromisoformat(hi))
                for y, lo, hi in data["spans"]
            ),
        )


def month_end(year: int, month: int) -> dt.date:
    """The last day of a month."""
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def to_date(profile: Profile, today: dt.date) -> ToDate:
    """What a to-date table counts when released on ``today``: the current fiscal year and
    the one before (when the profile's data reaches back to it), each from its first day to
    the same point of the year."""
    current = profile.fiscal_year(today)
    start, _ = profile.fiscal_year_bounds(current)
    through = dt.date(today.year, today.month, 1) - dt.timedelta(days=1)
    if through < start:
        return ToDate(current, None, ())
    known = set(profile.fiscal_years(today))
    spans: list[tuple[int, dt.date, dt.date]] = []
    if current - 1 in known:
        before, _ = profile.fiscal_year_bounds(current - 1)
        spans.append((current - 1, before, month_end(through.year - 1, through.month)))
    spans.append((current, start, through))
    return ToDate(current, through, tuple(spans))
