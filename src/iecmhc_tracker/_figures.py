"""Figures the state's pages derive from published tables: a measure's total for one fiscal
year, referrals per 100 consultation activities, and hours by fiscal year with the current year
to date beside the same months of the year before (the year before as the state published it
at the same point of its year, else a to-date DP table, else a table by quarter). Only
published (protected) values go in, so every figure is post-processing of what the state may
already see."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any

from ._measures import MEASURES
from ._profile import Profile
from ._table import Table
from ._todate import ToDate

#: a table as an earlier release published it, asked by day and table name: the day that
#: release counted to and the table, or ``None`` (``_publish.published_as_of``)
Earlier = Callable[[dt.date, str], tuple[dt.date, Table] | None]


def headline_label(profile: Profile, table: Table, measure: str) -> str:
    kinds = table.where.get("kind", ())
    if measure == "activities" and kinds:
        return " and ".join(profile.code_label("kind", k) for k in kinds) + " activities"
    if MEASURES[measure].unit == "program" and kinds:
        named = " and ".join(profile.code_label("kind", k) for k in kinds)
        return f"{MEASURES[measure].label} through {named.lower()}"
    label = MEASURES[measure].label
    series = table.where.get("extra.series", ())
    if series:
        label += " (" + ", ".join(profile.code_label("series", s) for s in series) + ")"
    return label


def year_total(table: Table, measure: str, year: int) -> float | None:
    """The published total of ``measure`` for one fiscal year (None if withheld/absent)."""
    coords = tuple(year if d == "fiscal_year" else None for d in table.dims)
    try:
        return table.cell(*coords).values[measure]
    except KeyError:
        return None


def in_profile_order(profile: Profile, tables: Sequence[Table]) -> list[Table]:
    """Tables in the order the profile lists them (a recorded release may come back in
    another order), so that pages read the same from one release to the next."""
    order = {spec.name: i for i, spec in enumerate(profile.tables)}
    return sorted(tables, key=lambda t: order.get(t.name, len(order)))


def _where_kinds(table: Table) -> tuple[str, ...]:
    return tuple(table.where.get("kind", ()))


def referral_rate(referrals: float | None, activities: float | None) -> float | None:
    """Referrals per 100 consultation activities (None when either is withheld or zero)."""
    if referrals is None or not activities:
        return None
    return round(referrals / activities * 100, 1)


def rate_sources(tables: Sequence[Table]) -> tuple[Table, Table] | None:
    """The published tables a referral rate is worked out from: all referrals, over the
    activities of the consultation tables (both are protected aggregates already)."""
    refs = next((t for t in tables if "referrals" in t.measures and not _where_kinds(t)), None)
    acts = next(
        (
            t
            for t in tables
            if "activities" in t.measures
            and _where_kinds(t) == ("consultation",)
            and set(t.where) == {"kind"}
        ),
        None,
    )
    return (refs, acts) if refs is not None and acts is not None else None


def year_rate(tables: Sequence[Table], year: int) -> float | None:
    sources = rate_sources(tables)
    if sources is None:
        return None
    refs, acts = sources
    return referral_rate(year_total(refs, "referrals", year), year_total(acts, "activities", year))


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def is_to_date(table: Table) -> bool:
    """Whether ``table`` is a to-date DP table (``to_date = true`` in the profile)."""
    return bool((table.dp or {}).get("to_date"))


def fiscal_year_trend(
    profile: Profile,
    tables: Sequence[Table],
    today: dt.date | None,
    earlier: Earlier | None = None,
) -> tuple[str, list[list[Any]], str]:
    """Hours per fiscal year: complete years, then the current year to date beside the same
    months of the year before. The comparison is the year before as the state published it a
    year ago (``earlier``: exact, and nothing new is disclosed), else the profile's to-date DP
    table (each bar with its 95 % half-width as a fourth item), else a published table by
    quarter; without any, the current year's bar stands alone."""
    table = next(
        (
            t
            for t in tables
            if "fiscal_year" in t.dims and "hours" in t.measures and not is_to_date(t)
        ),
        None,
    )
    if table is None:
        return "", [], ""
    title = f"{headline_label(profile, table, 'hours')} by fiscal year"
    current = profile.fiscal_year(today) if today is not None else None
    items: list[list[Any]] = [
        [f"FY{y}", year_total(table, "hours", y)] for y in table.fiscal_years if y != current
    ]
    while len(items) > 1 and items[0][1] == 0:  # years before any activity
        items.pop(0)
    if current is None or today is None or current not in table.fiscal_years:
        return title, items, ""
    if earlier is not None:
        found = earlier(year_before(today), table.name)
        # the same table counting the same activities (a profile may have changed since)
        if found is not None and dict(found[1].where) == dict(table.where):
            return title, *_published_comparison(items, table, found, current, today)
    dp_table = next(
        (
            t
            for t in tables
            if is_to_date(t) and "hours" in t.measures and dict(t.where) == dict(table.where)
        ),
        None,
    )
    if dp_table is not None:
        window = ToDate.from_json((dp_table.dp or {})["to_date"])
        if window.current == current:
            return title, *_noisy_comparison(profile, items, table, dp_table, window, today)
    return title, *_quarter_comparison(profile, items, table, tables, current, today)


def year_before(day: dt.date) -> dt.date:
    """The same day a year earlier (28 February for a 29th)."""
    return day.replace(year=day.year - 1, day=28 if (day.month, day.day) == (2, 29) else day.day)


def _published_comparison(
    items: list[list[Any]],
    table: Table,
    found: tuple[dt.date, Table],
    current: int,
    today: dt.date,
) -> tuple[list[list[Any]], str]:
    """The current year to date beside the year before as a release a year ago published it."""
    then, published = found
    items.append(
        [
            f"FY{current - 1} to date, as published on {_day(then)}",
            year_total(published, "hours", current - 1),
            "compare",
        ]
    )
    items.append(
        [
            f"FY{current} to date (through {_day(today)})",
            year_total(table, "hours", current),
            "partial",
        ]
    )
    note = (
        f"FY{current} is not over: its bar holds the year to date, beside FY{current - 1} as the "
        f"state published it on {_day(then)}, at the same point of its year. Both are exact "
        f"published totals; activities recorded after {_day(then)} for the months before it "
        "are not in the earlier bar."
    )
    return items, note


def _noisy_comparison(
    profile: Profile,
    items: list[list[Any]],
    table: Table,
    dp_table: Table,
    window: ToDate,
    today: dt.date,
) -> tuple[list[list[Any]], str]:
    """The current year to the end of its last complete month beside the same months of the
    year before, both from the to-date DP table (noisy, with their half-widths)."""
    current = window.current
    if window.through is None:  # the first month of the year: nothing to compare yet
        items.append(
            [
                f"FY{current} to date (through {_day(today)})",
                year_total(table, "hours", current),
                "partial",
            ]
        )
        note = (
            f"FY{current} is not over: its bar holds the year to date only. The same months "
            f"of FY{current - 1} appear beside it once its first month is complete."
        )
        return items, note
    meta = dp_table.dp or {}
    exact = (meta.get("half_width") or {}).get("hours")
    half = math.ceil(exact) if exact is not None else None  # whole hours, rounded up
    start, _ = profile.fiscal_year_bounds(current)
    through = window.through
    months = f"{start:%B}" if start.month == through.month else f"{start:%B}–{through:%B}"
    for year, _, _ in window.spans:
        value = year_total(dp_table, "hours", year)
        if year == current:
            items.append([f"FY{year} to date (through {_day(through)})", value, "partial", half])
        else:
            items.append([f"FY{year}, {months}", value, "compare", half])
    note = (
        f"FY{current} is not over: it is shown to the end of its last complete month, beside "
        f"the same months of FY{current - 1}. These two bars have random noise added to "
        "protect privacy (differential privacy)"
        + (f": each lies within ±{half:,.0f} hours {_bounded_total(dp_table)}" if half else "")
        + ". Complete years are exact totals."
    )
    if meta.get("note"):
        note += f" {meta['note']}"
    return items, note


def _bounded_total(dp_table: Table) -> str:
    """What a to-date bar's interval holds: the total with each unit's hours counted up to
    the profile's bound (the clipped total the noise is added to), not the true total."""
    meta = dp_table.dp or {}
    cells = len(dp_table.cells)
    unit = meta.get("unit") or "consultant"
    bound = (meta.get("bounds") or {}).get("hours")
    if bound is None:
        return (
            f"of the total with each {unit}'s hours counted up to the profile's bound, "
            "95 % of the time"
        )
    text = f"of the total with each {unit}'s hours counted up to {bound:,g} h"
    norm = (meta.get("norm_bounds") or {}).get("hours")
    if meta.get("bounding") == "norm" and norm is not None:
        # contributions are scaled down to the norm bound only when the clipped ones pass it
        spread = cells * bound if meta.get("mechanism") == "laplace" else math.sqrt(cells) * bound
        if norm < spread:
            where = "year" if dp_table.dims == ("fiscal_year",) else "cell"
            text += f" in each {where} (and scaled down where they pass {norm:,g} h together)"
    return text + ", 95 % of the time"


def _quarter_comparison(
    profile: Profile,
    items: list[list[Any]],
    table: Table,
    tables: Sequence[Table],
    current: int,
    today: dt.date,
) -> tuple[list[list[Any]], str]:
    """The current year to its last complete quarter beside the same quarters of the year
    before, from a published (suppressed) table by quarter when the profile has one."""
    by_quarter = next(
        (
            t
            for t in tables
            if {"quarter", "fiscal_year"} == set(t.dims)
            and "hours" in t.measures
            and dict(t.where) == dict(table.where)
        ),
        None,
    )
    done = profile.fiscal_quarter(today) - 1  # complete quarters of the current year
    if by_quarter is not None and done >= 1:
        start, _ = profile.fiscal_year_bounds(current)
        through = _add_months(start, 3 * done) - dt.timedelta(days=1)

        def to_date(year: int) -> float | None:
            values = [by_quarter.value("hours", q, year) for q in range(1, done + 1)]
            return None if None in values else sum(v for v in values if v is not None)

        months = f"{start:%B}–{through:%B}"
        items.append([f"FY{current - 1}, same months ({months})", to_date(current - 1), "compare"])
        items.append(
            [f"FY{current} to date (through {_day(through)})", to_date(current), "partial"]
        )
        note = (
            f"FY{current} is not over: it is shown to the end of its last complete quarter, "
            f"beside the same months of FY{current - 1}."
        )
        return items, note
    items.append(
        [
            f"FY{current} to date (through {_day(today)})",
            year_total(table, "hours", current),
            "partial",
        ]
    )
    note = f"FY{current} is not over: its bar holds the year to date only. " + (
        "The same months of the year before appear once its first quarter is complete."
        if by_quarter is not None
        else f"FY{current - 1} is set beside it as the state published it at the same point of "
        "its year, once a release from a year before is on record."
    )
    return items, note


def _add_months(day: dt.date, months: int) -> dt.date:
    m = day.month - 1 + months
    return dt.date(day.year + m // 12, m % 12 + 1, 1)
