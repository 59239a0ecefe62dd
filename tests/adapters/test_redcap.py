"""The REDCap adapter: generated data dictionaries, and raw CSV exports ⇄ Activity."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from adapters.redcap import RedcapMapping, data_dictionary, read_csv, write_csv
from adapters.redcap.dictionary import render
from hypothesis import given

import iecmhc_tracker as it
from strategies import TODAY, activities

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("illinois", "california", "montana")
PROFILES = {name: it.load_profile(name) for name in SHIPPED}


@pytest.mark.parametrize("name", SHIPPED)
def test_round_trip_is_identity_for_valid_activities(name: str) -> None:
    profile = PROFILES[name]
    mapping = RedcapMapping.generated(profile)

    @given(activities(profile))
    def check(activity: it.Activity) -> None:
        row = mapping.to_row(activity)
        assert all(isinstance(v, str) for v in row.values())
        assert mapping.to_activity(row) == activity

    check()


@pytest.mark.parametrize("name", SHIPPED)
def test_csv_export_round_trip_through_the_committed_dictionary(name: str) -> None:
    profile = PROFILES[name]
    written = RedcapMapping.generated(profile)
    read = RedcapMapping.from_dictionary_csv(
        profile, ROOT / f"adapters/redcap/dictionaries/{name}.csv"
    )

    @given(activities(profile))
    def check(activity: it.Activity) -> None:
        buf = io.StringIO()
        write_csv(written, [activity], buf)
        buf.seek(0)
        [record] = read_csv(read, buf)
        assert it.Activity.from_dict(record) == activity

    check()


@pytest.mark.parametrize("name", SHIPPED)
def test_committed_dictionaries_are_up_to_date(name: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "adapters.redcap.dictionary", name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stderr == ""
    committed = (ROOT / f"adapters/redcap/dictionaries/{name}.csv").read_text(encoding="utf-8")
    assert out.stdout == committed == render(PROFILES[name]), (
        f"regenerate: python -m adapters.redcap.dictionary {name} > "
        f"adapters/redcap/dictionaries/{name}.csv"
    )


def test_dictionary_command_reports_a_bad_profile(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[profile]\nname = 'x'\n")
    out = subprocess.run(
        [sys.executable, "-m", "adapters.redcap.dictionary", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert "error:" in out.stderr and "bad.toml" in out.stderr


@pytest.mark.parametrize("name", SHIPPED)
def test_generated_dictionary_is_a_valid_redcap_instrument(name: str) -> None:
    profile = PROFILES[name]
    rows = data_dictionary(profile)
    names = [r["Variable / Field Name"] for r in rows]
    assert names[0] == "record_id"
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]{0,99}", n) and "___" not in n for n in names)
    kind = next(r for r in rows if r["Variable / Field Name"] == "kind")
    kind_codes = {
        c.split(",")[0].strip() for c in kind["Choices, Calculations, OR Slider Labels"].split("|")
    }
    assert len(kind_codes) == len(profile.codes["kind"])
    for r in rows:
        for ref in re.findall(r"\[kind\] = '(\w+)'", r["Branching Logic (Show field only if...)"]):
            assert ref in kind_codes
        if r["Field Type"] in ("radio", "dropdown", "checkbox"):
            choices = r["Choices, Calculations, OR Slider Labels"].split(" | ")
            assert all(re.fullmatch(r"\d+, [^|]+", c) for c in choices)
    note = next(r for r in rows if r["Variable / Field Name"] == "note")
    assert note["Identifier?"] == "y"  # de-identified exports leave the note out


def test_a_hand_made_project_maps_by_label_and_rename(illinois: it.Profile) -> None:
    # the project's own numbering, names and label case differ from the generated dictionary
    rows = [
        {"Variable / Field Name": "record_id", "Field Type": "text"},
        {"Variable / Field Name": "consultant", "Field Type": "text"},
        {"Variable / Field Name": "visit_date", "Field Type": "text"},
        {
            "Variable / Field Name": "county",
            "Field Type": "dropdown",
            "Choices, Calculations, OR Slider Labels": "17, COOK | 3, DuPage",
        },
        {
            "Variable / Field Name": "kind",
            "Field Type": "radio",
            "Choices, Calculations, OR Slider Labels": "9, Training | 4, Consultation",
        },
        {
            "Variable / Field Name": "setting",
            "Field Type": "dropdown",
            "Choices, Calculations, OR Slider Labels": "a, Head Start | head_start_x, Preschool",
        },
        {
            "Variable / Field Name": "consultation_type",
            "Field Type": "radio",
            "Choices, Calculations, OR Slider Labels": "1, Classroom",
        },
        {
            "Variable / Field Name": "methods",
            "Field Type": "checkbox",
            "Choices, Calculations, OR Slider Labels": "5, Reflecting | 6, Modeling",
        },
        {"Variable / Field Name": "hours", "Field Type": "text"},
        {"Variable / Field Name": "staff_notes_internal", "Field Type": "text"},
    ]
    mapping = RedcapMapping.from_dictionary(illinois, rows, rename={"visit_date": "activity_date"})
    export = io.StringIO(
        "record_id,consultant,visit_date,county,kind,setting,consultation_type,"
        "methods___5,methods___6,hours,redcap_event_name,iecmhc_activity_complete\n"
        "7b0c4b38-9f61-4c9d-9d0e-6a1f6c2f8f11,c-7f3a,2025-03-04,17,4,a,1,1,0,1.5,visit_1,2\n"
        "0d3a5b36-0b8a-4a0a-8a51-5a4a3f1d2e7c,c-7f3a,2025-03-05,3,9,Preschool,,Checked,Checked,2,visit_1,2\n"
    )
    tracker = it.Tracker.open("memory://", illinois, today=lambda: TODAY)
    result = tracker.record_many(read_csv(mapping, export))
    assert (result.inserted, result.ok) == (2, True)
    first, second = tracker.as_consultant("c-7f3a").activities()
    assert (first.county, first.kind, first.setting, first.methods) == (
        "cook",
        "consultation",
        "head_start",
        ("reflecting",),
    )
    assert (second.county, second.kind, second.setting, second.methods) == (
        "dupage",
        "training",
        "preschool",
        ("modeling", "reflecting"),
    )


def test_a_choice_matching_no_profile_code_is_refused(illinois: it.Profile) -> None:
    rows = [
        {"Variable / Field Name": "record_id"},
        {
            "Variable / Field Name": "county",
            "Choices, Calculations, OR Slider Labels": "1, Cook | 2, Atlantis",
        },
    ]
    with pytest.raises(ValueError, match="county: choice '2, Atlantis' matches no code"):
        RedcapMapping.from_dictionary(illinois, rows)


def test_bad_values_are_reported_by_row_and_nothing_is_written(illinois: it.Profile) -> None:
    mapping = RedcapMapping.generated(illinois)
    good = it.Activity.from_dict(
        {
            "consultant": "c-1",
            "date": "2025-03-04",
            "county": "cook",
            "kind": "consultation",
            "setting": "head_start",
            "consultation_type": "classroom",
            "hours": "1.5",
        }
    )
    buf = io.StringIO()
    write_csv(mapping, [good, *(good.evolve(id=uuid.uuid4()) for _ in range(2))], buf)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    rows[1]["county"] = "999"  # a code the dictionary does not have
    rows[1]["methods___1"] = "maybe"  # neither checked nor unchecked
    rows[2]["shoe_size"] = "42"  # a column that carries no Activity field
    tracker = it.Tracker.open("memory://", illinois, today=lambda: TODAY)
    result = tracker.record_many(mapping.to_record(r) for r in rows)
    assert result.inserted == 0
    found = {(p.row, p.field, p.code) for p in result.rejected}
    assert {
        (2, "county", "unknown_code"),
        (2, "methods", "unknown_code"),
        (3, "shoe_size", "unknown_field"),
    } <= found
    assert {p.row for p in result.rejected} == {2, 3}
