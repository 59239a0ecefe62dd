"""Rows: the fast row builder and content hash give exactly what the plain definitions give.

Stored databases keep ``content_hash``; it must stay byte-identical for every activity, so
each test compares against the straightforward definition written out here.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import iecmhc_tracker as it
from iecmhc_tracker._rows import content_hash, row_builder, to_row
from strategies import TODAY, activities, any_activity

PROFILES = {name: it.load_profile(name) for name in ("illinois", "california", "montana")}


def reference_hash(a: it.Activity) -> str:
    payload = json.dumps(a.to_dict(), sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def reference_row(a: it.Activity, profile: it.Profile) -> dict[str, Any]:
    """The row as first written: field by field from the activity and the profile."""
    extra = a.extra_fields
    tags = "".join(
        f"|{k}={('true' if v else 'false') if isinstance(v, bool) else str(v)}"
        for k, v in sorted(extra.items())
        if k in profile.fields and profile.fields[k].type in ("code", "bool") and v is not None
    )
    return {
        "id": str(a.id),
        "consultant": a.consultant,
        "program": a.program,
        "date": a.date,
        "fiscal_year": profile.fiscal_year(a.date),
        "quarter": profile.fiscal_quarter(a.date),
        "county": a.county,
        "region": profile.region_of(a.county),
        "setting": a.setting,
        "kind": a.kind,
        "consultation_type": a.consultation_type,
        "tier": a.tier,
        "modality": a.modality,
        "format": a.format,
        "methods": ",".join(a.methods),
        "competencies": ",".join(a.competencies),
        "hours": float(a.hours) if a.hours is not None else None,
        "minutes": a.minutes,
        "children_benefiting": a.children_benefiting,
        "staff_influenced": a.staff_influenced,
        "families": a.families,
        "participants": a.participants,
        "rated_worthwhile": a.rated_worthwhile,
        "referral_total": a.referral_total,
        "recommended_consultation": (
            None if a.recommended_consultation is None else int(a.recommended_consultation)
        ),
        "language": a.language,
        "note": a.note,
        "extra": json.dumps(extra, sort_keys=True) if extra else "",
        "tags": tags + "|" if tags else "",
        "referrals": dict(a.referrals),
        "content_hash": reference_hash(a),
        "engagement": None if a.engagement is None else str(a.engagement),
    }


def assert_same_row(a: it.Activity, profile: it.Profile) -> None:
    row, expected = to_row(a, profile), reference_row(a, profile)
    assert list(row) == list(expected)
    for key, value in expected.items():
        assert type(row[key]) is type(value), key
        if isinstance(value, float):  # nan != nan, and 0.0 == -0.0: compare the text
            assert repr(row[key]) == repr(value), key
        else:
            assert row[key] == value, key


# -- activities of every shipped profile --------------------------------------------------------


@pytest.mark.parametrize("name", PROFILES)
@given(data=st.data())
@settings(max_examples=150)
def test_hash_and_row_match_the_definition_for_valid_activities(
    name: str, data: st.DataObject
) -> None:
    profile = PROFILES[name]
    a = data.draw(activities(profile))
    assert content_hash(a) == reference_hash(a)
    assert_same_row(a, profile)


@pytest.mark.parametrize("name", PROFILES)
def test_synthetic_activities_hash_as_defined(name: str) -> None:
    profile = PROFILES[name]
    for a in it.generate_activities(profile, 1500, consultants=40, seed=7, today=TODAY):
        assert to_row(a, profile)["content_hash"] == reference_hash(a)
        assert content_hash(a) == reference_hash(a)


# -- any activity the model can hold: the hash covers unvalidated content too ---------------


@given(a=any_activity(), name=st.sampled_from(sorted(PROFILES)))
@settings(max_examples=300)
def test_hash_and_row_match_the_definition_for_any_activity(a: it.Activity, name: str) -> None:
    assert content_hash(a) == reference_hash(a)
    assert_same_row(a, PROFILES[name])


def test_hours_spelled_differently_hash_alike_and_as_defined() -> None:
    profile = PROFILES["illinois"]
    base = next(iter(it.generate_activities(profile, 1, seed=3, today=TODAY)))
    for text in ("1.5", "1.50", "1.500000000000000000000000000000000", "15E-1"):
        a = base.evolve(hours=Decimal(text))
        assert to_row(a, profile)["content_hash"] == reference_hash(a)
    assert (
        len(
            {
                to_row(base.evolve(hours=Decimal(t)), profile)["content_hash"]
                for t in ("1.5", "1.50", "15E-1")
            }
        )
        == 1
    )


def test_a_narrow_decimal_context_is_honoured() -> None:
    """Normalising hours depends on the decimal context: the hash follows it as json.dumps."""
    profile = PROFILES["illinois"]
    a = next(iter(it.generate_activities(profile, 1, seed=3, today=TODAY))).evolve(
        hours=Decimal("23.75")
    )
    with decimal.localcontext(decimal.Context(prec=2)):
        assert to_row(a, profile)["content_hash"] == reference_hash(a)
        assert content_hash(a) == reference_hash(a)


def test_uuid_subclass_and_extra_duplicates_hash_as_defined() -> None:
    class Id(uuid.UUID):
        pass

    profile = PROFILES["california"]
    base = next(iter(it.generate_activities(profile, 1, seed=5, today=TODAY)))
    a = base.evolve(id=Id(str(base.id)), extra=[("completed", True), ("completed", False)])
    assert content_hash(a) == reference_hash(a)
    assert_same_row(a, profile)


def test_row_builder_is_built_once_per_profile() -> None:
    profile = it.load_profile("montana")
    assert row_builder(profile) is row_builder(profile)
    assert row_builder(profile) is not row_builder(it.load_profile("montana"))


def test_date_before_fiscal_start_month_counts_to_that_fiscal_year() -> None:
    profile = PROFILES["illinois"]
    a = next(iter(it.generate_activities(profile, 1, seed=3, today=TODAY)))
    for day in (dt.date(2025, 6, 30), dt.date(2025, 7, 1), dt.date(2024, 12, 31)):
        assert_same_row(a.evolve(date=day), profile)
