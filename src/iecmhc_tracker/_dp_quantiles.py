"""Differentially private medians and 90th percentiles of engagement dosage (hours per week)
and of days to assignment, for researchers, on their budget per fiscal year of data.

OpenDP's ``make_private_quantile`` scores a public grid of candidates and reports the noisy
best. The privacy unit is the consultant: each contributes at most ``per_unit`` values (its
first by record id, which is random), so one consultant moves the input by at most that
many values, and the measurement's privacy map at that distance is what is charged.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import opendp.prelude as dp

from ._accounting import partition
from ._dosage import dosage_of
from ._errors import invalid
from ._record_rows import from_engagement_row
from ._scope import Scope

dp.enable_features("contrib")

STATISTICS = ("hours_per_week", "days_to_assignment")
#: the public candidates: dosage in quarter hours up to 24 a week, days up to a year
GRIDS: dict[str, list[float]] = {
    "hours_per_week": [k / 4 for k in range(0, 97)],
    "days_to_assignment": [float(d) for d in range(0, 366)],
}
_SPACE = (dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance())


def _values(scope: Scope, statistic: str, fiscal_year: int) -> dict[str, list[tuple[str, float]]]:
    """Per consultant, (record id, value) of the year's closed engagements or assignments."""
    store, profile = scope.store, scope.profile
    out: dict[str, list[tuple[str, float]]] = defaultdict(list)
    if statistic == "hours_per_week":
        totals = store.dosage()
        for row in store.records("engagement"):
            closed = row["closed"]
            if closed is None or profile.fiscal_year(closed) != fiscal_year:
                continue
            per_week = dosage_of(from_engagement_row(row), totals.get(row["id"])).hours_per_week
            if per_week is not None:
                out[row["consultant"]].append((row["id"], per_week))
    else:
        for row in store.records("request"):
            if row["assigned"] is None or profile.fiscal_year(row["assigned"]) != fiscal_year:
                continue
            unit = row["consultant"] or f"intake:{row['county']}"
            out[unit].append((row["id"], float((row["assigned"] - row["received"]).days)))
    return out


def dp_quantile(
    scope: Scope,
    analyst: str,
    statistic: str,
    fiscal_year: int,
    *,
    q: float = 0.5,
    epsilon: float = 0.5,
    per_unit: int = 10,
) -> dict[str, Any]:
    """A DP ``q`` quantile of ``statistic`` over one fiscal year, charged ``epsilon`` on the
    analyst's budget of that year; returns the value and what was spent."""
    if statistic not in STATISTICS:
        raise invalid("statistic", "unknown", f"must be one of {', '.join(STATISTICS)}")
    if not 0 < q < 1:
        raise invalid("q", "range", "must lie strictly between 0 and 1, e.g. 0.5 or 0.9")
    if not (isinstance(epsilon, int | float) and math.isfinite(epsilon) and epsilon > 0):
        raise invalid("epsilon", "range", "must be a positive finite number")
    if isinstance(per_unit, bool) or not isinstance(per_unit, int) or per_unit < 1:
        raise invalid("per_unit", "range", "must be a whole number of at least 1")
    grid = GRIDS[statistic]

    def make(scale: float) -> Any:
        return dp.m.make_private_quantile(
            *_SPACE, dp.max_divergence(), candidates=grid, alpha=q, scale=scale
        )

    # ε is inversely proportional to the scale: fit it to the charge at ``per_unit``
    scale = make(1.0).map(per_unit) / epsilon
    measurement = make(scale)
    spent = float(measurement.map(per_unit))
    policy = scope.profile.dp
    values = [
        v
        for rows in _values(scope, statistic, fiscal_year).values()
        for _, v in sorted(rows)[:per_unit]
    ]
    entry = {
        "quantile": q,
        "statistic": statistic,
        "fiscal_years": [fiscal_year],
        "epsilon": spent,
        "per_unit": per_unit,
        "mechanism": "private_quantile",
    }
    scope.store.charge(
        analyst,
        [partition(fiscal_year)],
        spent,
        allotment=policy.analyst_epsilon_per_fiscal_year,
        cap=policy.lifetime_epsilon_per_fiscal_year,
        entry=entry,
    )
    return {**entry, "value": float(measurement(values)), "candidates": _span(grid)}


def _span(grid: Sequence[float]) -> list[float]:
    return [grid[0], grid[-1]]
