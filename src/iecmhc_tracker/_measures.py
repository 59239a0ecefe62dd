"""The measures a query may ask for, described in plain primitives the stores understand.

A measure is a sum over activity rows of one column (``column=None`` counts rows), optionally
restricted to some activity kinds. ``consultants`` and ``programs`` are distinct counts (of
consultants, of programs with at least one activity in the cell), which stores compute from
their partial sums per unit (``unit``: whose distinct count it is).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs


@attrs.frozen(slots=True)
class Measure:
    name: str
    label: str
    column: str | None  # None: count rows
    kinds: tuple[str, ...] = ()  # empty: every kind
    distinct_units: bool = False
    #: a distinct count's unit: ``"consultant"`` or ``"program"`` (a store's ``unit``)
    unit: str = "consultant"
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
        # activities without a program are not counted; published statewide per fiscal year
        # only (``_tablespec``), since counts of programs add up over places almost exactly
        Measure(
            "programs",
            "Programs reached",
            None,
            distinct_units=True,
            unit="program",
            default_bound=1,
        ),
        # engagements and requests: sums over their fact rows (``_engagement_facts``)
        Measure("engagements", "Engagements opened", "engagements", default_bound=20),
        Measure("engagements_closed", "Engagements closed", "engagements_closed", default_bound=20),
        Measure(
            "children_engaged",
            "Children in child-and-family engagements",
            "children_engaged",
            default_bound=20,
        ),
        Measure(
            "placed_at_close",
            "Children with a known placement at close",
            "placed_at_close",
            default_bound=20,
        ),
        Measure(
            "kept_at_close",
            "Children kept in their setting at close",
            "kept_at_close",
            default_bound=20,
        ),
        Measure(
            "placed_at_follow_up",
            "Children with a known placement at follow-up",
            "placed_at_follow_up",
            default_bound=20,
        ),
        Measure(
            "kept_at_follow_up",
            "Children kept in their setting at follow-up",
            "kept_at_follow_up",
            default_bound=20,
        ),
        Measure("suspensions", "Children suspended", "suspensions", default_bound=5),
        Measure("expulsions", "Children expelled", "expulsions", default_bound=5),
        Measure(
            "engagement_hours",
            "Hours in closed engagements",
            "engagement_hours",
            default_bound=400,
            integer=False,
        ),
        Measure("requests", "Requests for consultation", "requests", default_bound=40),
        Measure("assignments", "Requests assigned", "assignments", default_bound=40),
        Measure(
            "days_to_assignment",
            "Days to assignment (sum)",
            "days_to_assignment",
            default_bound=600,
        ),
        Measure("waitlist", "Requests waiting at month end", "waitlist", default_bound=40),
    )
}

#: the measures of engagements and requests, by the kind of fact row they sum over
#: (``_engagement_facts``): never over activities. A table's records are its fact rows, so
#: each table sums one kind of them: a kept-in-setting share's records are the children.
FACT_KINDS: dict[str, tuple[str, ...]] = {
    "engagement": ("engagements", "engagements_closed", "children_engaged", "engagement_hours"),
    "child_outcome": ("placed_at_close", "kept_at_close", "suspensions", "expulsions"),
    "child_follow_up": ("placed_at_follow_up", "kept_at_follow_up"),
    "request": ("requests", "assignments", "days_to_assignment", "waitlist"),
}
FACT_KIND_OF: dict[str, str] = {m: kind for kind, ms in FACT_KINDS.items() for m in ms}
FACT_MEASURES: dict[str, str] = {m: MEASURES[m].column or m for m in FACT_KIND_OF}
FACT_COLUMNS = frozenset(FACT_MEASURES.values())


def mixed_sources(measures: Iterable[str]) -> bool:
    """Whether ``measures`` span more than one kind of row (activities, or one kind of fact
    row): one release or table reads one (a count of consultants goes with any)."""
    kinds = {
        FACT_KIND_OF.get(m) for m in measures if m in MEASURES and not MEASURES[m].distinct_units
    }
    return len(kinds) > 1
