"""The outcomes block of the state dashboard and the funding page: the share of children kept
in their setting, requests, assignments and the mean time to assignment, worked out from the
published (suppressed) totals only: a share shows only when both its numerator and its
denominator were published."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._table import Table

_ROWS = (
    ("kept_share", "Children kept in their setting at close (%)"),
    ("kept_share_follow_up", "Children kept in their setting at follow-up (%)"),
    ("requests", "Requests for consultation"),
    ("assignments", "Requests assigned to a consultant"),
    ("mean_days", "Mean days from request to assignment"),
    ("waitlist", "Requests waiting at a month's end (mean over the year)"),
)


def _total(tables: Sequence[Table], measure: str, year: int) -> float | None:
    for t in tables:
        if measure in t.measures and "fiscal_year" in t.dims:
            coords = tuple(year if d == "fiscal_year" else None for d in t.dims)
            try:
                return t.cell(*coords).values[measure]
            except KeyError:
                return None
    return None


def _ratio(top: float | None, bottom: float | None, scale: float = 1.0) -> float | None:
    if top is None or not bottom:
        return None
    return round(top / bottom * scale, 1)


def year_outcomes(tables: Sequence[Table], year: int) -> dict[str, float | None]:
    """The outcome figures of one fiscal year (None where not published)."""

    def t(measure: str) -> float | None:
        return _total(tables, measure, year)

    return {
        "kept_share": _ratio(t("kept_at_close"), t("placed_at_close"), 100),
        "kept_share_follow_up": _ratio(t("kept_at_follow_up"), t("placed_at_follow_up"), 100),
        "requests": t("requests"),
        "assignments": t("assignments"),
        "mean_days": _ratio(t("days_to_assignment"), t("assignments")),
        "waitlist": _last_month_waitlist(tables, year),
    }


def _last_month_waitlist(tables: Sequence[Table], year: int) -> float | None:
    # a year's waitlist cell sums its twelve month ends: shown as their mean
    total = _total(tables, "waitlist", year)
    return None if total is None else round(total / 12, 1)


def outcomes(tables: Sequence[Table], year: int) -> list[dict[str, Any]]:
    """The dashboard's outcome tiles for ``year`` (empty when no table publishes them)."""
    figures = year_outcomes(tables, year)
    if not any(m in t.measures for t in tables for m in ("placed_at_close", "requests")):
        return []
    return [{"label": label, "value": figures[key]} for key, label in _ROWS]


def outcome_rows(tables: Sequence[Table], years: Sequence[int]) -> list[dict[str, Any]]:
    """The funding page's outcome rows, one value per year."""
    if not any(m in t.measures for t in tables for m in ("placed_at_close", "requests")):
        return []
    per_year = [year_outcomes(tables, y) for y in years]
    return [{"label": label, "values": [f[key] for f in per_year]} for key, label in _ROWS]
