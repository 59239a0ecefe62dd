"""The dashboard sets the current fiscal year to date beside the year before as the state
published it at the same point of its year: an exact number already released, shown again."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

import iecmhc_tracker as it
from iecmhc_tracker._figures import year_before

TODAY = dt.date(2026, 12, 1)
THEN = dt.date(2025, 12, 1)


class Clock:
    def __init__(self, day: dt.date) -> None:
        self.day = day

    def __call__(self) -> dt.date:
        return self.day


def consultation(i: int, day: dt.date, hours: str, consultant: str) -> dict[str, object]:
    return {
        "id": str(uuid.UUID(int=i + 1)),
        "consultant": consultant,
        "program": f"p-{i % 7}",
        "date": day,
        "county": "cook",
        "kind": "consultation",
        "setting": "head_start",
        "consultation_type": "classroom",
        "hours": hours,
        "methods": ["reflecting"],
    }


def busy(days: list[dt.date], start: int = 0) -> list[dict[str, object]]:
    """Ten consultants, two hours each on every day given: nothing is withheld."""
    return [
        consultation(start + 10 * d + c, day, "2", f"c-{c}")
        for d, day in enumerate(days)
        for c in range(10)
    ]


#: FY2026 (July 2025 – June 2026) up to 1 December 2025, then the rest of it, then FY2027
EARLY = [dt.date(2025, 7, 15), dt.date(2025, 9, 10), dt.date(2025, 11, 28)]
LATE_FY2026 = [dt.date(2026, 2, 2), dt.date(2026, 5, 5)]
FY2027 = [dt.date(2026, 7, 20), dt.date(2026, 10, 1), dt.date(2026, 11, 30)]


def trend(state: it.Tracker) -> dict[str, float | None]:
    data = state.as_state().dashboard_data(2026)
    return {row[0]: row[1] for row in data["trend"]}


def test_the_year_before_to_date_is_the_release_a_year_ago() -> None:
    clock = Clock(THEN)
    tracker = it.Tracker.open("memory://", "illinois", today=clock)
    assert tracker.record_many(busy(EARLY)).ok
    tracker.as_state().tables()  # the state publishes on 1 December 2025
    clock.day = TODAY
    # late entries for the early months, the rest of FY2026 and FY2027 to date
    assert tracker.record_many(busy(LATE_FY2026 + FY2027, start=1000)).ok
    late = [consultation(5000 + c, dt.date(2025, 8, 1), "1", f"c-{c}") for c in range(10)]
    assert tracker.record_many(late).ok
    bars = trend(tracker)
    # 3 days x 10 consultants x 2 h, as published then (the late August entries came after)
    assert bars["FY2026 to date, as published on 1 December 2025"] == 60.0
    assert bars["FY2027 to date (through 1 December 2026)"] == 60.0
    assert bars["FY2026"] == 60.0 + 40.0 + 10.0
    note = tracker.as_state().dashboard_data(2026)["trend_note"]
    assert "as the state published it on 1 December 2025" in note
    html = tracker.as_state().dashboard_html(2026)
    assert "FY2026 to date, as published on 1 December 2025" in html


def test_the_bar_is_a_number_that_release_published() -> None:
    clock = Clock(THEN)
    tracker = it.Tracker.open("memory://", "illinois", today=clock)
    assert tracker.record_many(busy(EARLY)).ok
    then = tracker.as_state().tables()
    clock.day = TODAY
    assert tracker.record_many(busy(FY2027, start=1000)).ok
    bars = trend(tracker)
    shown = bars["FY2026 to date, as published on 1 December 2025"]
    published = {
        c.values.get("hours") for t in then.values() for c in t.all_cells if "hours" in c.values
    }
    assert shown in published


def test_no_release_a_year_ago_no_comparison() -> None:
    clock = Clock(dt.date(2025, 10, 15))  # more than a month before 1 December 2025
    tracker = it.Tracker.open("memory://", "illinois", today=clock)
    assert tracker.record_many(busy(EARLY[:2])).ok
    tracker.as_state().tables()
    clock.day = TODAY
    assert tracker.record_many(busy(FY2027, start=1000)).ok
    data = tracker.as_state().dashboard_data(2026)
    labels = [row[0] for row in data["trend"]]
    assert not any("as published on" in label for label in labels)
    assert "FY2027 to date (through 1 December 2026)" in labels
    assert "once a release from a year before is on record" in data["trend_note"]


def test_a_year_withheld_then_is_withheld_beside_this_year() -> None:
    clock = Clock(THEN)
    tracker = it.Tracker.open("memory://", "illinois", today=clock)
    # two consultants only: fewer than min_consultants, the year's total is withheld
    few = [consultation(i, dt.date(2025, 9, 1 + i), "2", f"c-{i % 2}") for i in range(6)]
    assert tracker.record_many(few).ok
    tracker.as_state().tables()
    clock.day = TODAY
    assert tracker.record_many(busy(FY2027, start=1000)).ok
    bars = trend(tracker)
    assert bars["FY2026 to date, as published on 1 December 2025"] is None


@pytest.mark.parametrize(
    ("day", "before"),
    [
        (dt.date(2026, 12, 1), dt.date(2025, 12, 1)),
        (dt.date(2028, 2, 29), dt.date(2027, 2, 28)),
        (dt.date(2027, 3, 1), dt.date(2026, 3, 1)),
        (dt.date(2026, 1, 1), dt.date(2025, 1, 1)),
    ],
)
def test_the_same_day_a_year_before(day: dt.date, before: dt.date) -> None:
    assert year_before(day) == before
