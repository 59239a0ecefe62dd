"""Validation: valid records pass, any single corruption is caught and named, and nothing but
ValidationError ever comes out, whatever the input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import iecmhc_tracker as it
from iecmhc_tracker._validate import (
    DEFAULT_MAX_COUNTS,
    RULES,
    _compile_clean,
    _placeholders,
    examine,
    examiner,
    problems,
)
from strategies import TODAY, activity_dicts, any_activity

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


# -- the fast path reports exactly what the rules report, one by one ------------------------


def every_problem(a: it.Activity, profile: it.Profile, day: dt.date) -> list[it.Problem]:
    return [p for rule in RULES for p in rule(a, profile, day)]


def reference_examine(
    record: Any, profile: it.Profile, day: dt.date
) -> tuple[it.Activity | None, list[it.Problem]]:
    """``examine`` as first written: every rule, in order, on every record."""
    if isinstance(record, it.Activity):
        return record, every_problem(record, profile, day)
    try:
        activity = it.Activity.from_dict(record)
    except it.ValidationError as exc:
        unreadable = {p.field for p in exc.problems}
        if not isinstance(record, Mapping):
            return None, list(exc.problems)
        readable = {k: v for k, v in record.items() if isinstance(k, str) and k not in unreadable}
        patched = {**_placeholders(profile, day), **readable}
        partial = it.Activity.from_dict(patched)
        skip = unreadable | (set(patched) - set(readable))
        more = [
            p for p in every_problem(partial, profile, day) if p.field.split(".")[0] not in skip
        ]
        return None, [*exc.problems, *more]
    return activity, every_problem(activity, profile, day)


ALL_CODES = {
    field: sorted({c for p in PROFILES.values() for c in p.code_set(field)})
    for field in ("kind", "setting", "consultation_type", "tier", "modality", "format",
                  "language", "methods", "competencies", "resource_type", "county")
}  # fmt: skip


def _near_misses(profile: it.Profile, record: dict[str, Any]) -> dict[str, list[Any]]:
    """Values on and just past each rule's edge, and codes of the other profiles."""
    limit = lambda f: profile.max_counts.get(f, DEFAULT_MAX_COUNTS[f])  # noqa: E731
    start = profile.start_date
    out: dict[str, list[Any]] = {
        "consultant": ["c-1", "a b", "x" * 64, "x" * 65, "", "c@x", "Ünï"],
        "program": [None, "p 1", "p-1", "", " p-2 "],
        "date": [TODAY, TODAY + dt.timedelta(days=1), start, start - dt.timedelta(days=1)],
        "hours": [None, "0.25", "24", "24.25", "0", "0.3", "-0.25", "1.500", "1E+1", "96E-1"],
        "note": [None, "", "ok", "Dr. Smith came", "call 555-123-4567", "a\x00b", "x\ud800",
                 "DOB 1/2/20", "mail a@b.co", "٣٤٥-٦٧-٨٩٠١", "born in May", "Room 12 at 3"],
        "referrals": [{}, {"housing": 0}, {"housing": 1}, {"food": limit("referrals")},
                      {"food": limit("referrals") + 1}, {"astrology": 1}],
        "recommended_consultation": [None, True, False],
        "extra": [{}, {"series": "a"}, {"completed": True}, {"completed": 1},
                  {"new_assignment": None}, {"bogus": 1}, {"series": None}],
    }  # fmt: skip
    for f in ("minutes", "children_benefiting", "staff_influenced", "families", "participants",
              "rated_worthwhile"):  # fmt: skip
        out[f] = [None, -1, 0, 1, limit(f), limit(f) + 1]
    if record.get("participants") is not None:
        out["rated_worthwhile"] += [record["participants"], record["participants"] + 1]
    for f in ("kind", "setting", "consultation_type", "tier", "modality", "format", "language",
              "county"):  # fmt: skip
        out[f] = [None, "unknown", *ALL_CODES[f][:40]]
    for f in ("methods", "competencies"):
        out[f] = [[], ["unknown"], ALL_CODES[f][:2], ALL_CODES[f][-3:]]
    return out


@st.composite
def near_valid_records(draw: st.DrawFn, profile: it.Profile) -> dict[str, Any]:
    record = draw(activity_dicts(profile))
    menu = _near_misses(profile, record)
    for field in draw(st.lists(st.sampled_from(sorted(menu)), max_size=3)):
        value = draw(st.sampled_from(menu[field]))
        if value is None and draw(st.booleans()):
            record.pop(field, None)
        else:
            record[field] = value
    return record


@pytest.mark.parametrize("name", PROFILES)
@given(data=st.data())
@settings(max_examples=300)
def test_examine_reports_exactly_what_every_rule_reports(name: str, data: st.DataObject) -> None:
    profile = PROFILES[name]
    record = data.draw(near_valid_records(profile) | activity_dicts(profile))
    expected = reference_examine(record, profile, TODAY)
    assert examine(record, profile, TODAY) == expected
    assert examiner(profile)(record, TODAY) == expected
    if expected[0] is not None:
        activity = expected[0]
        assert examine(activity, profile, TODAY) == (activity, expected[1])
        assert examiner(profile)(activity, TODAY) == (activity, expected[1])
        assert problems(activity, profile, TODAY) == expected[1]


@given(data=st.data())
@settings(max_examples=300)
def test_fast_path_matches_the_rules_on_any_activity(data: st.DataObject) -> None:
    profile = PROFILES[data.draw(st.sampled_from(sorted(PROFILES)))]
    activity = data.draw(any_activity())
    day = data.draw(st.sampled_from([TODAY, dt.date(2000, 1, 1), dt.date(9999, 1, 1)]))
    expected = every_problem(activity, profile, day)
    assert problems(activity, profile, day) == expected
    assert examiner(profile)(activity, day) == (activity, expected)


@pytest.mark.parametrize("name", PROFILES)
def test_synthetic_activities_take_the_fast_path_and_pass(name: str) -> None:
    profile = PROFILES[name]
    clean = profile.derived("validate.clean", _compile_clean)
    for a in it.generate_activities(profile, 800, consultants=30, seed=11, today=TODAY):
        assert clean(a, TODAY)
        assert every_problem(a, profile, TODAY) == []


@pytest.mark.parametrize("name", PROFILES)
def test_each_near_miss_alone_is_reported_exactly_as_the_rules_do(name: str) -> None:
    """Every edge value of every field, one at a time, on a clean record of every kind."""
    profile = PROFILES[name]
    bases: dict[str, dict[str, Any]] = {}
    for a in it.generate_activities(profile, 400, consultants=20, seed=5, today=TODAY):
        record = a.to_dict()
        record["hours"] = a.hours
        bases.setdefault(a.kind, record)
    assert len(bases) >= 3
    checked = 0
    for base in bases.values():
        for field, values in _near_misses(profile, base).items():
            for value in values:
                record = {**base, field: value}
                expected = reference_examine(record, profile, TODAY)
                assert examine(record, profile, TODAY) == expected, (field, value)
                if expected[0] is not None:
                    got = examiner(profile)(expected[0], TODAY)
                    assert got == (expected[0], expected[1]), (field, value)
                checked += 1
    assert checked > 300
