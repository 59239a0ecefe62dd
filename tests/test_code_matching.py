"""Codes are matched ignoring case and accents, to the code or its label, in records,
imports and queries; a near miss gets "did you mean"; a long list says where the whole is."""

from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

import iecmhc_tracker as it

TODAY = dt.date(2026, 11, 1)
IL_TEXT = (resources.files("iecmhc_tracker") / "profiles" / "illinois.toml").read_text("utf-8")
RECORD: dict[str, Any] = {
    "consultant": "c-1",
    "date": "2025-03-04",
    "county": "cook",
    "kind": "consultation",
    "setting": "head_start",
    "consultation_type": "classroom",
    "modality": "onsite",
    "hours": "1",
}


@pytest.fixture()
def tracker() -> it.Tracker:
    return it.Tracker.open("memory://", "illinois", today=lambda: TODAY)


@pytest.mark.parametrize("typed", ["Cook", "COOK", " cook ", "cOoK"])
def test_a_county_is_matched_ignoring_case(tracker: it.Tracker, typed: str) -> None:
    assert tracker.record({**RECORD, "county": typed}).county == "cook"


def test_codes_are_matched_to_their_labels(tracker: it.Tracker) -> None:
    stored = tracker.record(
        {**RECORD, "setting": "Head Start", "methods": ["Problem-solving", "reflecting"]}
    )
    assert stored.setting == "head_start"
    assert stored.methods == ("problem_solving", "reflecting")


def test_accents_and_spaces_are_ignored(tmp_path: Path) -> None:
    text = IL_TEXT.replace(
        "counties = [\n",
        'counties = [\n  { code = "la_paz", label = "La Paz", region = '
        '"cook" },\n  { code = "dona_ana", label = "Doña Ana", region = "cook" },\n',
        1,
    )
    regions = [r["code"] for r in tomllib.loads(IL_TEXT)["regions"]]
    text = text.replace('region = "cook" }', f'region = "{regions[0]}" }}')
    path = tmp_path / "state.toml"
    path.write_text(text, encoding="utf-8")
    t = it.Tracker.open("memory://", str(path), today=lambda: TODAY)
    assert t.record({**RECORD, "county": "La Paz"}).county == "la_paz"
    assert t.record({**RECORD, "county": "DOÑA ANA", "consultant": "c-2"}).county == "dona_ana"
    assert t.record({**RECORD, "county": "Dona Ana", "consultant": "c-3"}).county == "dona_ana"


def test_the_same_activity_typed_two_ways_is_one_activity(tracker: it.Tracker) -> None:
    first = tracker.record({**RECORD, "id": "2f1c8a8e-0000-4000-8000-000000000001"})
    again = tracker.record(
        {**RECORD, "id": "2f1c8a8e-0000-4000-8000-000000000001", "county": "COOK"}
    )
    assert again == first  # the same content: a no-op, not a conflict


def test_a_near_miss_gets_did_you_mean_and_a_list_saying_where_the_rest_is(
    tracker: it.Tracker,
) -> None:
    with pytest.raises(it.ValidationError) as info:
        tracker.record({**RECORD, "county": "Cok"})
    (problem,) = [p for p in info.value.problems if p.field == "county"]
    assert "did you mean cook" in problem.message
    counties = len(tomllib.loads(IL_TEXT)["counties"])
    assert f"and {counties - 12} more: `iecmhc profile codes county`" in problem.message


def test_a_short_list_is_given_whole(tracker: it.Tracker) -> None:
    with pytest.raises(it.ValidationError) as info:
        tracker.record({**RECORD, "modality": "by pigeon"})
    (problem,) = [p for p in info.value.problems if p.field == "modality"]
    modalities = [c["code"] for c in tomllib.loads(IL_TEXT)["codes"]["modality"]]
    assert all(m in problem.message for m in modalities) and "more" not in problem.message


def test_an_import_matches_codes_too(tracker: it.Tracker) -> None:
    result = tracker.record_many([{**RECORD, "county": "Cook", "kind": "Consultation"}])
    assert result.inserted == 1 and not result.rejected
    (row,) = tracker.store.rows(consultant="c-1")
    assert (row["county"], row["kind"]) == ("cook", "consultation")


def test_a_query_filter_matches_codes(tracker: it.Tracker) -> None:
    from iecmhc_tracker._query import compile_query  # the query's own check, as releases run it

    compiled = compile_query(
        it.Query(measures=["hours"], by=["region"], where={"county": ["Cook", "DuPage"]}),
        tracker.profile,
    )
    assert compiled.filters["county"] == ["cook", "dupage"]
    with pytest.raises(it.ValidationError, match="did you mean cook"):
        compile_query(
            it.Query(measures=["hours"], by=["region"], where={"county": "Cookk"}),
            tracker.profile,
        )


@pytest.mark.parametrize("typed", ["\x00cook", "cook\u200b", "cook;", "c%ook"])
def test_a_control_character_or_stray_punctuation_is_never_a_spelling(
    tracker: it.Tracker, typed: str
) -> None:
    with pytest.raises(it.ValidationError) as info:
        tracker.record({**RECORD, "county": typed})
    assert "county" in info.value.fields
