"""The current fiscal year to date beside the same months of the year before: the dates a
to-date table counts on a release day, the trend's labels, and the profile's refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import iecmhc_tracker as it
from iecmhc_tracker._todate import to_date
from iecmhc_tracker.stores.sql import rollup
from todate_profile import TO_DATE_TABLE, todate_profile


def _il_with(tmp_path: Path, table: str = TO_DATE_TABLE, start_month: int = 7) -> it.Profile:
    """The to-date test profile with its to-date table replaced by ``table`` and its year
    starting in ``start_month``."""
    return todate_profile(tmp_path, table, fiscal_year_start_month=start_month)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.mark.parametrize(
    ("today", "through", "spans"),
    [
        # 1 December: July–November of both years
        (
            "2026-12-01",
            "2026-11-30",
            [(2026, "2025-07-01", "2025-11-30"), (2027, "2026-07-01", "2026-11-30")],
        ),
        # any day of December: the same
        (
            "2026-12-31",
            "2026-11-30",
            [(2026, "2025-07-01", "2025-11-30"), (2027, "2026-07-01", "2026-11-30")],
        ),
        # 31 January: July–December
        (
            "2027-01-31",
            "2026-12-31",
            [(2026, "2025-07-01", "2025-12-31"), (2027, "2026-07-01", "2026-12-31")],
        ),
        # 1 August: July alone
        (
            "2026-08-01",
            "2026-07-31",
            [(2026, "2025-07-01", "2025-07-31"), (2027, "2026-07-01", "2026-07-31")],
        ),
        # released on a leap day: through January
        (
            "2028-02-29",
            "2028-01-31",
            [(2027, "2026-07-01", "2027-01-31"), (2028, "2027-07-01", "2028-01-31")],
        ),
        # after a leap February: through the leap day, the year before through 28 February
        (
            "2028-03-01",
            "2028-02-29",
            [(2027, "2026-07-01", "2027-02-28"), (2028, "2027-07-01", "2028-02-29")],
        ),
    ],
)
def test_the_dates_a_to_date_table_counts(
    today: str, through: str, spans: list[tuple[int, str, str]]
) -> None:
    window = to_date(it.load_profile("illinois"), d(today))
    assert window.through == d(through)
    assert window.spans == tuple((y, d(a), d(b)) for y, a, b in spans)
    assert window.filter == [[a, b] for _, a, b in spans]


@pytest.mark.parametrize("today", ["2026-07-01", "2026-07-15", "2026-07-31"])
def test_the_first_month_of_a_fiscal_year_has_nothing_to_compare(today: str) -> None:
    window = to_date(it.load_profile("illinois"), d(today))
    assert (window.current, window.through, window.spans) == (2027, None, ())


def test_the_fiscal_year_start_comes_from_the_profile(tmp_path: Path) -> None:
    october = to_date(_il_with(tmp_path, start_month=10), d("2026-12-01"))
    # FY2027 runs October 2026–September 2027
    assert october.spans == (
        (2026, d("2025-10-01"), d("2025-11-30")),
        (2027, d("2026-10-01"), d("2026-11-30")),
    )
    january = to_date(_il_with(tmp_path, start_month=1), d("2026-12-01"))
    assert january.spans == (
        (2025, d("2025-01-01"), d("2025-11-30")),
        (2026, d("2026-01-01"), d("2026-11-30")),
    )
    assert to_date(_il_with(tmp_path, start_month=10), d("2026-10-20")).through is None


def test_the_first_year_of_a_profile_has_no_year_before() -> None:
    il = it.load_profile("illinois")  # data from 1 July 2019: FY2020
    window = to_date(il, d("2019-09-03"))
    assert window.spans == ((2020, d("2019-07-01"), d("2019-08-31")),)


def _trend(profile: it.Profile, today: str) -> dict[str, object]:
    day = d(today)
    t = it.Tracker.open("memory://", profile, today=lambda: day)
    acts = it.generate_activities(profile, 1500, consultants=20, seed=4, today=day, notes=False)
    assert t.record_many(acts).ok
    data = t.as_state().dashboard_data(profile.last_complete_fiscal_year(day))
    t.close()
    return data


@pytest.mark.parametrize(
    ("today", "before", "now"),
    [
        ("2026-12-01", "FY2026, July–November", "FY2027 to date (through 30 November 2026)"),
        ("2027-01-31", "FY2026, July–December", "FY2027 to date (through 31 December 2026)"),
        ("2026-08-01", "FY2026, July", "FY2027 to date (through 31 July 2026)"),
        ("2028-03-01", "FY2027, July–February", "FY2028 to date (through 29 February 2028)"),
    ],
)
def test_the_trend_sets_the_year_to_date_beside_the_same_months(
    tmp_path: Path, today: str, before: str, now: str
) -> None:
    data = _trend(_il_with(tmp_path), today)
    trend = data["trend"]
    assert isinstance(trend, list)
    *complete, compare, partial = trend
    assert [compare[0], compare[2], partial[0], partial[2]] == [before, "compare", now, "partial"]
    # both noisy, with the same 95 % half-width, a whole number of hours
    assert compare[3] == partial[3] and compare[3] >= 1 and float(compare[3]).is_integer()
    assert all(len(item) == 2 for item in complete) and complete
    assert data["trend_margins"] is True
    note = str(data["trend_note"])
    assert "noise" in note and "Complete years are exact" in note
    # the interval holds the bounded total (Illinois bounds a consultant's hours at 80 a
    # cell), which clipping may leave far below the true one: the note says which
    assert f"within ±{compare[3]:,} hours of the total with each consultant's hours" in note
    assert "counted up to 80 h" in note and "true total" not in note
    # the to-date table is not a block of its own nor a headline of its own
    blocks = [b["id"] for tier in data["tiers"] for b in tier["tables"]]  # type: ignore[attr-defined]
    assert "hours_to_date" not in blocks


@pytest.mark.parametrize("today", ["2026-07-15", "2026-07-01"])
def test_in_the_first_month_the_trend_says_when_the_comparison_starts(
    tmp_path: Path, today: str
) -> None:
    data = _trend(_il_with(tmp_path), today)
    trend = data["trend"]
    assert isinstance(trend, list)
    assert trend[-1][0] == f"FY2027 to date (through {d(today).day} July 2026)"
    assert not any(item[2:3] == ["compare"] for item in trend)
    assert "once its first month is complete" in str(data["trend_note"])
    assert data["trend_margins"] is False


def test_the_trend_follows_a_profile_with_another_start(tmp_path: Path) -> None:
    data = _trend(_il_with(tmp_path, start_month=10), "2026-12-01")
    trend = data["trend"]
    assert isinstance(trend, list)
    assert [trend[-2][0], trend[-1][0]] == [
        "FY2026, October–November",
        "FY2027 to date (through 30 November 2026)",
    ]


def test_the_dashboard_shows_the_half_widths_beside_the_chart(tmp_path: Path) -> None:
    day = d("2026-12-01")
    il = _il_with(tmp_path)
    t = it.Tracker.open("memory://", il, today=lambda: day)
    assert t.record_many(it.generate_activities(il, 800, consultants=12, seed=2, today=day)).ok
    html = t.as_state().dashboard_html(2026)
    assert 'aria-labelledby="trend-t"' in html and "FY2026, July–November" in html
    assert '<th scope="col">95 % margin</th>' in html and "±" in html and ">exact<" in html


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ('mode = "dp"\nepsilon = 0.1\n', 'must have mode = "dp"'),
        ('by = ["fiscal_year"]', "by must include fiscal_year"),
        ("to_date = true", "must be true or false"),
        ('by = ["fiscal_year"]', "leave fiscal_year and quarter out"),
    ],
)
def test_a_to_date_table_is_refused_unless_dp_by_fiscal_year(
    tmp_path: Path, change: str, words: str
) -> None:
    table = TO_DATE_TABLE
    if words.startswith("must have mode"):
        table = table.replace(change, "")
    elif words.startswith("by must"):
        table = table.replace(change, 'by = ["region"]')
    elif words.startswith("must be true"):
        table = table.replace(change, 'to_date = "yes"')
    else:
        table = table.replace(change, 'by = ["quarter", "fiscal_year"]')
    with pytest.raises(it.ProfileError) as info:
        _il_with(tmp_path, table)
    message = str(info.value)
    assert words in message and "to_date" in message and "line" in message


def test_totals_kept_per_cell_never_answer_a_date_in_filter() -> None:
    # the per-unit cell totals hold no dates: a date_in read goes to the rows
    assert rollup.covers("consultant", ["fiscal_year"], ["kind"], ["hours"])
    assert not rollup.covers("consultant", ["fiscal_year"], ["kind", "date_in"], ["hours"])


def test_a_release_is_charged_on_the_fiscal_years_its_ranges_touch() -> None:
    from iecmhc_tracker._prepare import prepare

    day = d("2026-12-01")
    il = it.load_profile("illinois")
    t = it.Tracker.open("memory://", il, today=lambda: day)
    ranges = [["2024-06-15", "2024-07-15"], ["2026-08-01", "2026-08-31"]]
    q = it.Query(["hours"], ["fiscal_year"], {"date_in": ranges})
    # 15 June–15 July 2024 spans FY2024 and FY2025; August 2026 is FY2027
    assert prepare(t.scope, q, epsilon=0.1).data_years == (2024, 2025, 2027)
    with pytest.raises(it.ValidationError, match="ends before it starts"):
        prepare(t.scope, it.Query(["hours"], where={"date_in": [["2026-02-01", "2026-01-01"]]}))
