"""Engagements and requests as the rows the state tables and DP releases aggregate.

The suppression engine and the DP releases read per-(unit, cell) partial sums from a store.
For the measures of engagements and requests (:data:`FACT_MEASURES`), those sums come from
*fact rows* built here: one row per event, dated on the day it happened, with the dimension
columns an activity row has and a 0/1 or count column per measure:

* ``engagement``: one opened (``engagements``; ``children_engaged`` for a child-and-family
  one) and one closed (``engagements_closed``, its derived ``engagement_hours``);
* ``child_outcome``: a child of a closed child-and-family engagement whose placement at close
  is known (``placed_at_close``; ``kept_at_close`` when retained or moved as planned;
  ``suspensions``, ``expulsions``), and ``child_follow_up`` the same at follow-up;
* ``request``: one received (``requests``), assigned (``assignments``,
  ``days_to_assignment``), and open at a month's end (``waitlist``, dated that day).

Each table reads one kind (``_tablespec``), so its records, which the suppression rules
count, are what it counts: engagements, children, or requests.

A share kept in setting is ``kept_at_close / placed_at_close``: both are cells of the table,
so both are protected. The privacy unit of a row is the consultant; a request nobody was
assigned yet belongs to its county's intake (``intake:<county>``), an organisation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

from ._columns import DIMENSION_COLUMNS, ROW_COLUMNS, Row
from ._engagement_codes import KEPT
from ._measures import FACT_COLUMNS
from ._profile import Profile
from .stores.contract import Dosage


def fact_rows(
    profile: Profile,
    engagements: Iterable[Row],
    requests: Iterable[Row],
    dosage: Dosage,
    today: dt.date,
) -> list[Row]:
    """Every fact row of the stored engagements and requests."""
    out: list[Row] = []
    n = 0

    def add(kind: str, day: dt.date, unit: str, base: Row, **values: float) -> None:
        nonlocal n
        n += 1
        row: Row = {c: None for c in (*ROW_COLUMNS, *DIMENSION_COLUMNS)}
        row.update({c: 0.0 for c in FACT_COLUMNS})
        row.update(
            id=f"f{n}",
            consultant=unit,
            program=base.get("program"),
            date=day,
            fiscal_year=profile.fiscal_year(day),
            quarter=profile.fiscal_quarter(day),
            county=base["county"],
            region=base["region"],
            setting=base.get("setting"),
            kind=kind,
            tags="",
            content_hash=f"f{n}",
            referrals={},
            deleted_at=None,
        )
        row.update(values)
        out.append(row)

    for e in engagements:
        unit, child = e["consultant"], e["target"] == "child_family"
        add("engagement", e["opened"], unit, e, engagements=1, children_engaged=float(child))
        if e["closed"] is None:
            continue
        hours = dosage.get(e["id"], (0.0, 0, None, None))[0]
        add("engagement", e["closed"], unit, e, engagements_closed=1, engagement_hours=hours)
        close, follow = e["placement_at_close"], e["placement_at_follow_up"]
        if child and close not in (None, "unknown"):
            add(
                "child_outcome",
                e["closed"],
                unit,
                e,
                placed_at_close=1,
                kept_at_close=float(close in KEPT),
                suspensions=float(close == "suspended"),
                expulsions=float(close == "expelled"),
            )
        if child and follow not in (None, "unknown"):
            add(
                "child_follow_up",
                e["follow_up"],
                unit,
                e,
                placed_at_follow_up=1,
                kept_at_follow_up=float(follow in KEPT),
            )
    for r in requests:
        unit = r["consultant"] or f"intake:{r['county']}"
        add("request", r["received"], unit, r, requests=1)
        if r["assigned"] is not None:
            days = (r["assigned"] - r["received"]).days
            add("request", r["assigned"], unit, r, assignments=1, days_to_assignment=days)
        for month_end in _month_ends_open(r, today):
            add("request", month_end, unit, r, waitlist=1)
    return out


def _month_ends_open(r: Row, today: dt.date) -> Iterator[dt.date]:
    """The month ends (up to ``today``) at which the request was still waiting."""
    ended = r["assigned"] or r["not_served"]
    day = _month_end(r["received"])
    while day <= today and (ended is None or ended > day):
        yield day
        day = _month_end(day + dt.timedelta(days=1))


def _month_end(day: dt.date) -> dt.date:
    first_next = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first_next - dt.timedelta(days=1)


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile of ``values`` (the lower of the two middle values, so it is always
    one of them); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.5) - 1))]
