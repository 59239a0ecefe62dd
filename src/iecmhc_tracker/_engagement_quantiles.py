"""Medians and 90th percentiles for the state: dosage (hours per week of closed engagements)
and days from request to assignment, per region or county and fiscal year.

A quantile is one engagement's or one request's own value, so it is shown only for a cell
the suppression rules would publish as a count: at least ``min_count`` values from at least
``min_consultants`` consultants, none holding more than ``dominance`` of them; otherwise the
cell says ``None``. (Differentially private quantiles for researchers are not offered yet.)
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from ._dosage import dosage_of
from ._profile import Profile
from ._record_rows import from_engagement_row
from .stores import Store

#: the quantiles reported, by name
QUANTILES = {"median": 0.5, "p90": 0.9}


def _quantile(values: list[float], q: float) -> float:
    """The lowest value with at least a share ``q`` of the values at or below it (always one
    of the values: no interpolation between two records)."""
    ordered = sorted(values)
    k = max(1, -(-len(ordered) * q // 1))  # ceil(n q)
    return ordered[int(k) - 1]


def _publishable(units: Counter[str], profile: Profile) -> bool:
    p = profile.suppression
    n = sum(units.values())
    return (
        n >= p.min_count
        and len(units) >= p.min_consultants
        and (max(units.values()) / n <= p.dominance)
    )


def engagement_quantiles(
    store: Store, profile: Profile, fiscal_year: int, by: str = "region"
) -> dict[str, dict[str, Any]]:
    """Per cell (a code of ``by``: ``region`` or ``county``) the median and 90th percentile
    of hours per week of the engagements closed in ``fiscal_year`` and of the days to
    assignment of the requests assigned in it, each None where it may not be shown."""
    if by not in ("region", "county"):
        raise ValueError("by must be region or county")
    totals = store.dosage()
    dosage: dict[str, list[float]] = defaultdict(list)
    dosage_units: dict[str, Counter[str]] = defaultdict(Counter)
    for row in store.records("engagement"):
        closed: dt.date | None = row["closed"]
        if closed is None or profile.fiscal_year(closed) != fiscal_year:
            continue
        per_week = dosage_of(from_engagement_row(row), totals.get(row["id"])).hours_per_week
        if per_week is None or row[by] is None:
            continue
        dosage[row[by]].append(per_week)
        dosage_units[row[by]][row["consultant"]] += 1
    days: dict[str, list[float]] = defaultdict(list)
    day_units: dict[str, Counter[str]] = defaultdict(Counter)
    for row in store.records("request"):
        if row["assigned"] is None or profile.fiscal_year(row["assigned"]) != fiscal_year:
            continue
        if row[by] is None:
            continue
        days[row[by]].append(float((row["assigned"] - row["received"]).days))
        day_units[row[by]][row["consultant"] or f"intake:{row['county']}"] += 1
    out: dict[str, dict[str, Any]] = {}
    for cell in sorted(set(dosage) | set(days)):
        entry: dict[str, Any] = {}
        for name, values, units in (
            ("hours_per_week", dosage.get(cell, []), dosage_units[cell]),
            ("days_to_assignment", days.get(cell, []), day_units[cell]),
        ):
            ok = bool(values) and _publishable(units, profile)
            for q, share in QUANTILES.items():
                entry[f"{q}_{name}"] = round(_quantile(values, share), 2) if ok else None
        out[cell] = entry
    return out
