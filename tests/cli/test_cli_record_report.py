"""``iecmhc record`` and ``iecmhc report`` through typer's runner: exit codes and messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iecmhc_tracker.cli import app

runner = CliRunner()


@pytest.fixture()
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


ACTIVITY = {
    "consultant": "c-7f3a",
    "program": "p-1",
    "date": "2025-03-04",
    "county": "cook",
    "kind": "consultation",
    "setting": "head_start",
    "consultation_type": "classroom",
    "hours": "1.5",
}


def test_record_from_json_then_portfolio_shows_it(db: str, tmp_path: Path) -> None:
    done = runner.invoke(app, ["record", "--db", db, "--json", json.dumps(ACTIVITY)])
    assert done.exit_code == 0, done.output
    assert "recorded" in done.output
    out = tmp_path / "p.json"
    done = runner.invoke(
        app,
        [
            "report",
            "portfolio",
            "--db",
            db,
            "--consultant",
            "c-7f3a",
            "--format",
            "json",
            "--out",
            str(out),
        ],
    )
    assert done.exit_code == 0, done.output
    data = json.loads(out.read_text())
    assert (data["activities"], data["hours"]) == (1, 1.5)


def test_record_prompts_and_revalidates_bad_answers(db: str) -> None:
    answers = [
        "c-7f3a",  # consultant
        "2025-03-04",  # date
        "atlantis",  # county: unknown, asked again
        "cook",
        "therapy",  # kind: unknown, asked again
        "consultation",
        "head_start",  # setting (required)
        "classroom",  # consultation_type (required)
        "30",  # hours: too many, asked again
        "1.5",
    ] + [""] * 20  # every optional field left empty
    done = runner.invoke(app, ["record", "--db", db], input="\n".join(answers) + "\n")
    assert done.exit_code == 0, done.output
    assert "unknown county code 'atlantis'" in done.output
    assert "unknown kind code 'therapy'" in done.output
    assert "at most 24" in done.output
    assert "recorded" in done.output


def test_record_rejects_bad_input_with_exit_1_and_no_traceback(db: str) -> None:
    bad = dict(ACTIVITY, county="atlantis", date="2025-02-30")
    done = runner.invoke(app, ["record", "--db", db, "--json", json.dumps(bad)])
    assert done.exit_code == 1
    assert "county" in done.output and "date" in done.output
    assert "Traceback" not in done.output
    done = runner.invoke(app, ["record", "--db", db, "--json", "{not json"])
    assert done.exit_code == 1 and "not valid JSON" in done.output


def test_report_bad_usage_exits_2(db: str, tmp_path: Path) -> None:
    done = runner.invoke(
        app, ["report", "portfolio", "--db", db, "--consultant", "c-1", "--format", "pdf"]
    )
    assert done.exit_code == 2 and "unknown format" in done.output
    done = runner.invoke(
        app, ["report", "program", "--db", db, "--program", "p-1", "--profile", "atlantis"]
    )
    assert done.exit_code == 2 and "unknown profile" in done.output


def test_program_report_html(db: str, tmp_path: Path) -> None:
    runner.invoke(app, ["record", "--db", db, "--json", json.dumps(ACTIVITY)])
    out = tmp_path / "program.html"
    done = runner.invoke(
        app, ["report", "program", "--db", db, "--program", "p-1", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert "1 contacts with consultants" in " ".join(out.read_text().split()).replace(
        '<div class="num">1</div><div class="lbl">', "1 "
    )


def test_profile_check(tmp_path: Path) -> None:
    done = runner.invoke(app, ["profile", "check", "montana"])
    assert done.exit_code == 0 and "56 counties" in done.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[profile]\nname = 'x'\nfiscal_year_start_month = 13\n")
    done = runner.invoke(app, ["profile", "check", str(bad)])
    assert done.exit_code == 1 and "fiscal_year_start_month" in done.output
    done = runner.invoke(app, ["profile", "check", str(tmp_path / "missing.toml")])
    assert done.exit_code == 2
