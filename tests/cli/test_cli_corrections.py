"""``iecmhc amend``, ``delete`` and ``restore``: as the consultant, one-line errors, exit 2 for a
bad value or id, 1 for an activity she does not have."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

import iecmhc_tracker as it
from iecmhc_tracker.cli import app

runner = CliRunner()
ACTIVITY = {
    "consultant": "c-7f3a",
    "program": "p-1",
    "date": "2025-03-04",
    "county": "cook",
    "kind": "consultation",
    "setting": "head_start",
    "consultation_type": "classroom",
    "hours": "1.5",
    "note": "Talked about naps.",
}


@pytest.fixture()
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture()
def rid(db: str) -> str:
    rid = str(uuid.uuid4())
    done = runner.invoke(app, ["record", "--db", db, "--json", json.dumps({**ACTIVITY, "id": rid})])
    assert done.exit_code == 0, done.output
    return rid


def _mine(db: str, consultant: str = "c-7f3a") -> list[it.Activity]:
    with it.Tracker.open(db, "illinois") as t:
        return t.as_consultant(consultant).activities()


def _run(*args: str, input: str | None = None) -> tuple[int, str]:
    done = runner.invoke(app, list(args), input=input)
    assert "Traceback" not in done.output
    return done.exit_code, done.output


def test_amend_changes_only_the_options_given(db: str, rid: str) -> None:
    code, out = _run(
        "amend", rid, "--hours", "2", "--county", "Lake", "--consultant", "c-7f3a", "--db", db
    )
    assert code == 0, out
    assert "amended" in out and "hours 1.5 → 2" in out and "county Cook (cook) → Lake (lake)" in out
    [a] = _mine(db)
    assert (a.hours, a.county, a.note, a.setting) == (
        Decimal(2),
        "lake",
        "Talked about naps.",
        "head_start",
    )
    code, out = _run(
        "amend",
        rid,
        "--clear",
        "note",
        "--date",
        "03/05/2025",
        "--consultant",
        "c-7f3a",
        "--db",
        db,
    )
    assert code == 0, out
    [a] = _mine(db)
    assert (a.note, a.date.isoformat()) == (None, "2025-03-05")


def test_amend_asks_who_you_are_as_record_does(db: str, rid: str) -> None:
    code, out = _run("amend", rid, "--hours", "3", "--db", db, input="c-7f3a\n")
    assert code == 0, out
    assert _mine(db)[0].hours == 3


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--hours", "30"], "hours"),
        (["--county", "atlantis"], "county"),
        (["--date", "31/12/2025"], "is not a date"),
        (["--clear", "county"], "county"),  # a required field cannot be emptied
        (["--clear", "colour"], "not a field"),
        ([], "name at least one change"),
    ],
)
def test_a_bad_value_is_one_line_and_exit_2(db: str, rid: str, args: list[str], words: str) -> None:
    code, out = _run("amend", rid, *args, "--consultant", "c-7f3a", "--db", db)
    assert code == 2, out
    assert words in out
    assert len(out.strip().splitlines()) == 1
    assert _mine(db)[0].hours == Decimal("1.5")


def test_a_bad_id_is_exit_2(db: str) -> None:
    for command in (["amend", "x1", "--hours", "2"], ["delete", "x1"], ["restore", "x1"]):
        code, out = _run(*command, "--consultant", "c-7f3a", "--db", db)
        assert code == 2 and "is not an activity id" in out, out


def test_another_consultants_activity_is_not_found_exit_1(db: str, rid: str) -> None:
    for command in (["amend", rid, "--hours", "2"], ["delete", rid], ["restore", rid]):
        code, out = _run(*command, "--consultant", "c-other", "--db", db)
        assert code == 1 and f"no stored activity has id {rid}" in out, out
    assert len(_mine(db)) == 1


def test_delete_then_restore(db: str, rid: str) -> None:
    code, out = _run("delete", rid, "--consultant", "c-7f3a", "--db", db)
    assert code == 0 and f"iecmhc restore {rid}" in out
    assert _mine(db) == []
    code, out = _run("amend", rid, "--hours", "2", "--consultant", "c-7f3a", "--db", db)
    assert code == 1 and "restore it first" in out
    code, out = _run("restore", rid, "--consultant", "c-7f3a", "--db", db)
    assert code == 0, out
    assert "restored" in out and "Tuesday 4 March 2025" in out
    assert [str(a.id) for a in _mine(db)] == [rid]
    code, out = _run("restore", rid, "--consultant", "c-7f3a", "--db", db)
    assert code == 1 and "not deleted" in out
    code, out = _run("delete", str(uuid.uuid4()), "--consultant", "c-7f3a", "--db", db)
    assert code == 1 and "no stored activity" in out
