"""Validation: valid records pass, any single corruption is caught and named, and nothing but
ValidationError ever comes out, whatever the input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import iecmhc_tracker as it
from iecmhc_tracker._validate import problems
from strategies import TODAY, activity_dicts

PROFILES = {name: it.load_profile(name) for name in ("illinois", "california", "montana")}


@pytest.mark.parametrize("name", PROFILES)
@given(data=st.data())
def test_generated_valid_activities_validate(name: str, data: st.DataObject) -> None:
    profile = PROFILES[name]
    record = data.draw(activity_dicts(profile))
    activity = it.validate(record, profile, today=TODAY)
    assert activity.consultant == record["consultant"]


# each corruption: field name -> values that must be rejected for that field
CORRUPTIONS: dict[str, list[Any]] = {
    "id": ["not-a-uuid", 12, None],
    "consultant": ["", "Jane Smith", "x" * 65, 7, None],
    "program": ["Sunshine Kids Center", "p" * 70, 3.5],
    "date": ["2026-13-01", "yesterday", dt.date(2030, 1, 1), dt.date(1999, 1, 1), 20240101],
    "county": ["atlantis", "", 5, None],
    "kind": ["therapy", None, ["consultation"]],
    "setting": ["moon_base", 1],
    "hours": [0, -1, 25, "1.3", "abc", True, float("nan")],
    "minutes": [-5, 0, 100000, "long", 2.5],
    "children_benefiting": [-1, 100000, "many", 1.5],
    "staff_influenced": [-2, 10**7],
    "participants": [-1, 10**6],
    "methods": [["dancing"], 5],
    "referrals": [{"astrology": 1}, {"housing": 0}, {"housing": -3}, "housing"],
    "note": ["Call me at (312) 555-0147", "DOB 04/12/2021", "x" * 5000, "nul\x00byte"],
    "extra": [{"unknown_field": 1}, "junk"],
}


def _base(profile: it.Profile) -> dict[str, Any]:
    return {
        "id": "6f1c8a8e-5b0b-4d6e-9d55-0b0d7c5a1e11",
        "consultant": "c-7f3a",
        "program": "p-0192",
        "date": "2025-03-04",
        "county": sorted(profile.code_set("county"))[0],
        "kind": "consultation",
        "setting": sorted(profile.code_set("setting"))[0],
        "consultation_type": "classroom",
        "tier": "intensive" if profile.code_set("tier") else None,
        "modality": "onsite",
        "hours": "1.5",
        "participants": 4,
    }


@pytest.mark.parametrize("name", PROFILES)
def test_base_record_is_valid(name: str) -> None:
    it.validate(_base(PROFILES[name]), PROFILES[name], today=TODAY)


@pytest.mark.parametrize("name", PROFILES)
@pytest.mark.parametrize(
    ("field", "value"), [(f, v) for f, values in CORRUPTIONS.items() for v in values]
)
def test_single_corruption_is_rejected_naming_the_field(name: str, field: str, value: Any) -> None:
    profile = PROFILES[name]
    record = _base(profile)
    record[field] = value
    with pytest.raises(it.ValidationError) as info:
        it.validate(record, profile, today=TODAY)
    named = {p.field.split(".")[0] for p in info.value.problems}
    assert field in named, info.value.problems


@given(data=st.data())
def test_any_single_field_corruption_of_a_valid_record_is_caught(data: st.DataObject) -> None:
    profile = PROFILES["illinois"]
    record = data.draw(activity_dicts(profile))
    field = data.draw(st.sampled_from(sorted(CORRUPTIONS)))
    record[field] = data.draw(st.sampled_from(CORRUPTIONS[field]))
    with pytest.raises(it.ValidationError) as info:
        it.validate(record, profile, today=TODAY)
    assert field in {p.field.split(".")[0] for p in info.value.problems}


anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.binary()
    | st.dates()
    | st.decimals(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(
    record=st.dictionaries(
        st.sampled_from([*CORRUPTIONS, "tier", "language", "rated_worthwhile", "bogus"])
        | st.text(),
        anything,
        max_size=12,
    )
)
def test_validation_raises_only_validation_error_whatever_the_input(record: Any) -> None:
    try:
        it.validate(record, PROFILES["california"], today=TODAY)
    except it.ValidationError as exc:
        assert exc.problems
        assert all(p.field and p.code and p.message for p in exc.problems)


@given(value=anything)
def test_non_mapping_input_is_a_validation_error(value: Any) -> None:
    with pytest.raises(it.ValidationError):
        it.validate(value, PROFILES["illinois"], today=TODAY)


def test_all_problems_are_reported_not_just_the_first() -> None:
    profile = PROFILES["illinois"]
    record = _base(profile) | {"county": "atlantis", "hours": "30", "note": "Dr. Lee said hi"}
    with pytest.raises(it.ValidationError) as info:
        it.validate(record, profile, today=TODAY)
    assert {"county", "hours", "note"} <= info.value.fields


def test_per_kind_required_fields() -> None:
    ca = PROFILES["california"]
    call = {
        "consultant": "c-1",
        "date": "2025-01-10",
        "county": "alameda",
        "kind": "helpline_call",
        "tier": "universal",
    }
    with pytest.raises(it.ValidationError) as info:
        it.validate(call, ca, today=TODAY)
    assert {"minutes", "recommended_consultation"} <= info.value.fields
    it.validate(call | {"minutes": 12, "recommended_consultation": True}, ca, today=TODAY)


def test_pii_problem_never_echoes_the_value() -> None:
    profile = PROFILES["illinois"]
    secret = "jane.doe@example.org"
    with pytest.raises(it.ValidationError) as info:
        it.validate(_base(profile) | {"note": f"write to {secret}"}, profile, today=TODAY)
    assert secret not in str(info.value)
    assert any(p.code == "pii_email" for p in info.value.problems)


def test_validation_is_pure_and_repeatable() -> None:
    profile = PROFILES["montana"]
    rec = _base(profile) | {"hours": "0.3"}
    first = problems(it.Activity.from_dict(rec), profile, TODAY)
    second = problems(it.Activity.from_dict(rec), profile, TODAY)
    assert first == second and first


def test_an_unreadable_field_does_not_hide_the_others_problems() -> None:
    profile = PROFILES["illinois"]
    record = _base(profile) | {"date": "2025-02-30", "county": "atlantis", "hours": "30"}
    with pytest.raises(it.ValidationError) as info:
        it.validate(record, profile, today=TODAY)
    assert {"date", "county", "hours"} <= info.value.fields
    # placeholders used to check around the bad date never show up as problems
    assert all(p.field != "consultant" for p in info.value.problems)
