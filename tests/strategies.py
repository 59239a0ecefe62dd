"""Hypothesis strategies that build valid activities from a profile's own code lists."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

import iecmhc_tracker as it

TODAY = dt.date(2026, 11, 1)
pseudonyms = st.from_regex(r"\A[a-z][a-z0-9-]{0,11}\Z")


def _codes(profile: it.Profile, field: str) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(profile.code_set(field)))


@st.composite
def activity_dicts(draw: st.DrawFn, profile: it.Profile) -> dict[str, Any]:
    """A mapping that validates under ``profile`` (every kind, optional fields at random)."""
    kind = draw(st.sampled_from(sorted(profile.kinds)))
    spec = profile.kinds[kind]
    days = (TODAY - profile.start_date).days
    d: dict[str, Any] = {
        "id": str(draw(st.uuids(version=4))),
        "consultant": draw(pseudonyms),
        "date": profile.start_date + dt.timedelta(days=draw(st.integers(0, days))),
        "county": draw(_codes(profile, "county")),
        "kind": kind,
    }
    allowed = lambda f: f not in spec.forbidden  # noqa: E731
    maybe = lambda f: f in spec.required or (allowed(f) and draw(st.booleans()))  # noqa: E731
    if maybe("program"):
        d["program"] = draw(pseudonyms)
    for f in ("setting", "consultation_type", "tier", "modality", "format", "language"):
        if profile.code_set(f) and maybe(f):
            d[f] = draw(_codes(profile, f))
    for f in ("methods", "competencies"):
        if profile.code_set(f) and maybe(f):
            d[f] = draw(st.lists(_codes(profile, f), min_size=1, max_size=3))
    if maybe("hours"):
        d["hours"] = Decimal(draw(st.integers(1, 96))) / 4
    if maybe("minutes"):
        d["minutes"] = draw(st.integers(1, profile.max_counts.get("minutes", 600)))
    if maybe("recommended_consultation"):
        d["recommended_consultation"] = draw(st.booleans())
    for f in ("children_benefiting", "staff_influenced", "families"):
        if maybe(f):
            d[f] = draw(st.integers(0, 50))
    if maybe("participants"):
        d["participants"] = draw(st.integers(0, 100))
        if draw(st.booleans()):
            d["rated_worthwhile"] = draw(st.integers(0, d["participants"]))
    if profile.code_set("resource_type") and maybe("referrals"):
        d["referrals"] = draw(
            st.dictionaries(_codes(profile, "resource_type"), st.integers(1, 5), min_size=1)
        )
    extra: dict[str, Any] = {}
    for name, f in profile.fields.items():
        if f.kinds and kind not in f.kinds:
            continue
        if name in spec.required or draw(st.booleans()):
            extra[name] = (
                draw(st.sampled_from([c.code for c in f.codes]))
                if f.type == "code"
                else draw(st.booleans())
            )
    if extra:
        d["extra"] = extra
    if draw(st.booleans()):
        d["engagement"] = draw(st.uuids())
    if draw(st.booleans()):
        d["note"] = draw(
            st.sampled_from(
                [
                    "Reflected on transitions with the lead teacher.",
                    "Met with the 3 classroom teachers in Room 12.",
                    "Head Start director asked about the expulsion policy.",
                ]
            )
        )
    return d


def activities(profile: it.Profile) -> st.SearchStrategy[it.Activity]:
    return activity_dicts(profile).map(it.Activity.from_dict)


# -- any activity the model can hold (unvalidated: any text, number, code or extra) ---------
texts = st.text(
    st.characters(codec=None, exclude_categories=())
    | st.sampled_from('"\\/\x00\x1f\x7fé€😀\ud800'),
    max_size=12,
)
codes = st.sampled_from(["kane", "cook", "consultation", "training", "x"]) | texts
counts = st.none() | st.integers(-(10**20), 10**20)
hours = (
    st.none()
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.sampled_from(
        [Decimal("-0"), Decimal("0.00"), Decimal("1.50"), Decimal("1E+1"), Decimal("24.000")]
    )
)
extra_values = (
    st.none() | st.booleans() | st.integers() | st.floats() | texts | st.sampled_from([-0.0])
)


@st.composite
def any_activity(draw: st.DrawFn) -> it.Activity:
    """An Activity with any content its converters accept, valid or not."""
    maybe = lambda s: draw(st.none() | s)  # noqa: E731
    return it.Activity(
        id=draw(st.uuids()),
        consultant=draw(texts),
        program=maybe(texts),
        date=draw(st.dates()),
        county=draw(codes),
        kind=draw(codes),
        setting=maybe(codes),
        consultation_type=maybe(codes),
        tier=maybe(codes),
        modality=maybe(codes),
        format=maybe(codes),
        methods=draw(st.lists(codes, max_size=3)),
        competencies=draw(st.lists(codes, max_size=3)),
        hours=draw(hours),
        minutes=draw(counts),
        children_benefiting=draw(counts),
        staff_influenced=draw(counts),
        families=draw(counts),
        participants=draw(counts),
        rated_worthwhile=draw(counts),
        referrals=draw(st.lists(st.tuples(codes, st.integers(-5, 10**12)), max_size=3)),
        recommended_consultation=maybe(st.booleans()),
        language=maybe(codes),
        note=maybe(texts),
        extra=draw(
            st.lists(
                st.tuples(
                    st.sampled_from(["series", "completed", "new_assignment"]) | texts, extra_values
                ),
                max_size=3,
                unique_by=lambda pair: pair[0],
            )
        ),
        engagement=maybe(st.uuids()),
    )
