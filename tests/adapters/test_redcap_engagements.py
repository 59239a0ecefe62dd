"""The REDCap instruments of engagements and requests, and the CSV import of them."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from adapters.redcap import data_dictionary
from adapters.redcap.engagements import read_rows, to_row
from typer.testing import CliRunner

import iecmhc_tracker as it
from iecmhc_tracker.cli import app
from strategies import TODAY

SHIPPED = ("illinois", "california", "montana")


@pytest.mark.parametrize("name", SHIPPED)
def test_the_dictionary_holds_both_instruments_with_the_profiles_codes(name: str) -> None:
    profile = it.load_profile(name)
    rows = data_dictionary(profile)
    forms = {r["Form Name"] for r in rows}
    assert {"iecmhc_activity", "iecmhc_engagement", "iecmhc_request"} <= forms
    placement = next(r for r in rows if r["Variable / Field Name"] == "e_placement_close")
    labels = placement["Choices, Calculations, OR Slider Labels"].split(" | ")
    assert [c.split(", ", 1)[1] for c in labels] == [c.label for c in profile.codes["placement"]]
    # a child's placement shows only for a child-and-family engagement
    target = [c.code for c in profile.codes["target"]].index("child_family") + 1
    assert placement["Branching Logic (Show field only if...)"] == f"[e_target] = '{target}'"


@pytest.mark.parametrize("name", SHIPPED)
def test_export_rows_read_back_into_the_same_records(name: str) -> None:
    profile = it.load_profile(name)
    data = it.generate_engagements(profile, 40, consultants=6, seed=8, today=TODAY, linked=False)
    originals = [*data.engagements, *data.requests]
    rows = [to_row(profile, r) for r in originals]
    records = list(read_rows(profile, rows))
    t = it.Tracker.open("memory://", profile, today=lambda: TODAY)
    back = [t.check_record(r) for r in records]
    assert back == originals


def test_a_csv_of_engagements_and_requests_imports_idempotently(tmp_path: Path) -> None:
    path = tmp_path / "engagements.csv"
    fields = ["type", "id", "consultant", "county", "target", "opened", "reasons", "received"]
    fields += ["source", "assigned"]
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerow(
            {
                "type": "engagement",
                "id": "00000000-0000-4000-8000-000000000001",
                "consultant": "c-1",
                "county": "cook",
                "target": "classroom",
                "opened": "2025-02-03",
                "reasons": "trauma;transitions",
            }
        )
        w.writerow(
            {
                "type": "request",
                "id": "00000000-0000-4000-8000-000000000002",
                "county": "cook",
                "received": "2025-01-20",
                "source": "helpline",
                "assigned": "2025-02-03",
                "consultant": "c-1",
            }
        )
    db = f"sqlite:///{tmp_path / 't.db'}"
    runner = CliRunner()
    first = runner.invoke(app, ["import", str(path), "--db", db], terminal_width=200)
    assert first.exit_code == 0, first.output
    assert "2 imported" in first.output
    again = runner.invoke(app, ["import", str(path), "--db", db], terminal_width=200)
    assert again.exit_code == 0 and "2 already stored" in again.output
    with it.Tracker.open(db) as t:
        [e] = t.as_consultant("c-1").engagements()
        assert e.engagement.reasons == ("transitions", "trauma")
