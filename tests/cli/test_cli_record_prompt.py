"""The ``iecmhc record`` prompt: the date forms people type, echoed back; a reason before every
re-prompt; the review screen; counties by name from the whole list."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from typer.testing import CliRunner

import iecmhc_tracker as it
from iecmhc_tracker.cli import app
from iecmhc_tracker.cli.answers import parse_date
from iecmhc_tracker.cli.record import _completer

runner = CliRunner()
IL = it.load_profile("illinois")
#: a consultation's answers after the date, and the 13 optional fields Illinois asks left empty
REST = ["cook", "consultation", "head_start", "classroom", "1.5"] + [""] * 13


@pytest.fixture()
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def _run(db: str, answers: list[str]) -> tuple[int, str, list[it.Activity]]:
    done = runner.invoke(app, ["record", "--db", db], input="\n".join(answers) + "\n")
    with it.Tracker.open(db, "illinois") as t:
        stored = t.as_consultant("c-7f3a").activities()
    return done.exit_code, done.output, stored


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("12/01/2026", dt.date(2026, 12, 1)),
        ("2026-12-01", dt.date(2026, 12, 1)),
        ("12/1/26", dt.date(2026, 12, 1)),
        (" Today ", dt.date(2026, 12, 1)),
        ("yesterday", dt.date(2026, 11, 30)),
        ("13/01/2026", None),
        ("2026-02-30", None),
        ("next week", None),
    ],
)
def test_the_usual_date_forms_are_read(typed: str, day: dt.date | None) -> None:
    assert parse_date(typed, dt.date(2026, 12, 1)) == day


def test_a_us_date_is_echoed_spelled_out_and_a_bad_one_says_why(db: str) -> None:
    code, out, stored = _run(db, ["c-7f3a", "11/31/2025", "11/03/2025", *REST, "s"])
    assert code == 0, out
    assert "'11/31/2025' is not a date: type it as 12/01/2026 (month/day/year)" in out
    assert "→ Monday 3 November 2025" in out
    assert [a.date for a in stored] == [dt.date(2025, 11, 3)]


def test_a_date_the_rules_refuse_is_explained_before_asking_again(db: str) -> None:
    far = (dt.date.today() + dt.timedelta(days=30)).strftime("%m/%d/%Y")
    code, out, stored = _run(db, ["c-7f3a", far, "2025-03-04", *REST, "s"])
    assert code == 0, out
    assert "future" in out  # the reason, not a silent re-prompt
    assert [a.date for a in stored] == [dt.date(2025, 3, 4)]


def test_an_empty_required_answer_says_it_is_required(db: str) -> None:
    code, out, _ = _run(db, ["c-7f3a", "2025-03-04", "", *REST, "s"])
    assert code == 0, out
    assert "county is required" in out


def test_the_review_changes_a_field_by_number_then_saves(db: str) -> None:
    code, out, stored = _run(db, ["c-7f3a", "2025-03-04", *REST, "3", "Lake", "7", "2", "s"])
    assert code == 0, out
    assert "Review" in out and "Cook (cook)" in out and "Lake (lake)" in out
    [a] = stored
    assert (a.county, a.hours) == ("lake", 2)


def test_a_change_of_kind_asks_its_fields_and_drops_the_others(db: str) -> None:
    # a training takes no consultation type: it is left out, and said so
    code, out, stored = _run(db, ["c-7f3a", "2025-03-04", *REST, "4", "training", "s"])
    assert code == 0, out
    assert "consultation_type left out" in out
    [a] = stored
    assert (a.kind, a.consultation_type) == ("training", None)


def test_cancel_at_the_review_records_nothing(db: str) -> None:
    code, out, stored = _run(db, ["c-7f3a", "2025-03-04", *REST, "c"])
    assert code == 1 and "cancelled; nothing was recorded" in out
    assert stored == []


def test_a_wrong_review_choice_says_what_to_type(db: str) -> None:
    code, out, _ = _run(db, ["c-7f3a", "2025-03-04", *REST, "99", "s"])
    assert code == 0 and "'99' is none of those: type 1-20, s or c" in out


def test_counties_by_name_in_any_case_and_all_of_them_listed(db: str) -> None:
    answers = ["c-7f3a", "2025-03-04", "?", "st clair", *REST[1:], "s"]
    code, out, stored = _run(db, answers)
    assert code == 0, out
    assert "Adams (adams)" in out and "Woodford (woodford)" in out  # the whole list, A to W
    assert "of 102" not in out and "…" not in out.split("Review")[0]
    assert [a.county for a in stored] == ["st_clair"]


def test_codes_complete_from_the_whole_list() -> None:
    completer = _completer(IL, "county")

    def words(text: str) -> set[str]:
        return {c.text for c in completer.get_completions(Document(text), CompleteEvent())}

    assert words("woodf") == {"Woodford"}  # once, so one Tab completes it
    assert "St. Clair" in words("st")
    assert "Will" in words("WI")  # case-insensitive
    labels, codes = {c.label for c in IL.counties}, {c.code for c in IL.counties}
    assert labels <= words("") <= labels | codes  # every one of the 102
    assert "de_witt" in words("de_")  # a code that reads otherwise than its label
    assert _completer(IL, "hours") is None
