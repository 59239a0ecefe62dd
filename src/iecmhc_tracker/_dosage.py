"""Dosage: how much consultation an engagement got, derived from the activities linked to
it (``Activity.engagement``) and never entered twice.

``hours`` and ``sessions`` (entries) sum the live linked activities; ``weeks`` is the
engagement's span, from the day it opened to the day it closed (while open: to its last
linked activity), at least one week once it has any; ``hours_per_week`` divides the two.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import attrs

from ._engagement import Engagement
from ._record_rows import from_engagement_row
from .stores import Store


@attrs.frozen(slots=True)
class Dosage:
    hours: float = 0.0
    sessions: int = 0
    weeks: float = 0.0

    @property
    def hours_per_week(self) -> float | None:
        return None if not self.weeks else self.hours / self.weeks


def dosage_of(e: Engagement, totals: tuple[float, int, Any, Any] | None) -> Dosage:
    """The dosage of ``e`` from its linked activities' totals (hours, entries, first, last)."""
    if totals is None:
        return Dosage()
    hours, sessions, _first, last = totals
    end: dt.date = e.closed or max(last, e.opened)
    return Dosage(round(hours, 2), sessions, max(1.0, ((end - e.opened).days + 1) / 7))


@attrs.frozen(slots=True)
class EngagementDosage:
    """An engagement and the dosage its linked activities give it."""

    engagement: Engagement
    dosage: Dosage


def with_dosage(store: Store, rows: Sequence[dict[str, Any]]) -> list[EngagementDosage]:
    """The engagements of ``rows`` with their dosage, in order of opening."""
    totals = store.dosage([r["id"] for r in rows]) if rows else {}
    out = [
        EngagementDosage(e, dosage_of(e, totals.get(str(e.id))))
        for e in map(from_engagement_row, rows)
    ]
    out.sort(key=lambda x: (x.engagement.opened, str(x.engagement.id)))
    return out
