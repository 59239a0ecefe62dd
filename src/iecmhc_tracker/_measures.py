"""The measures a query may ask for, described in plain primitives the stores understand.

A measure is a sum over activity rows of one column (``column=None`` counts rows), optionally
restricted to some activity kinds. ``consultants`` is the distinct count of privacy units, which
stores compute from their per-unit partial sums.
"""

from __future__ import annotations

import attrs


@attrs.frozen(slots=True)
class Measure:
    name: str
    label: str
    column: str | None  # None: count rows
    kinds: tuple[str, ...] = ()  # empty: every kind
    distinct_units: bool = False
    #: default most one unit may add to one cell (DP clipping)
    default_bound: float = 1.0
    #: the value is a whole number (counts), so releases may round it
    integer: bool = True


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure("activities", "Activities", None, default_bound=40),
        Measure("hours", "Hours of consultation", "hours", default_bound=80, integer=False),
        Measure(
            "training_hours",
            "Hours of training",
            "hours",
            ("training",),
            default_bound=40,
            integer=False,
        ),
        Measure("minutes", "Call minutes", "minutes", default_bound=600),
        Measure(
            "children_benefiting", "Children benefiting", "children_benefiting", default_bound=200
        ),
        Measure("staff_influenced", "Staff influenced", "staff_influenced", default_bound=100),
        Measure("families", "Families", "families", default_bound=50),
        Measure("participants", "Participants", "participants", default_bound=200),
        Measure("rated_worthwhile", "Rated worthwhile", "rated_worthwhile", default_bound=200),
        Measure(
            "referrals", "Referrals to community resources", "referral_total", default_bound=40
        ),
        Measure(
            "recommended_consultation",
            "Calls recommending consultation",
            "recommended_consultation",
            ("helpline_call",),
            default_bound=40,
        ),
        Measure("consultants", "Consultants", None, distinct_units=True, default_bound=1),
    )
}
