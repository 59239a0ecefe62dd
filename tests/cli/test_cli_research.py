"""``iecmhc query`` and ``iecmhc budget``: releases, the budget shown, refusals and exit codes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import iecmhc_tracker as it
from iecmhc_tracker.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('q') / 'q.db'}"
    with it.Tracker.open(url, "illinois") as t:
        t.record_many(
            it.generate_activities(t.profile, 1500, consultants=40, today=dt.date.today())
        )
    return url


def test_query_prints_values_intervals_and_the_budget(db: str) -> None:
    done = runner.invoke(
        app,
        [
            "query",
            "--db",
            db,
            "--analyst",
            "a-1",
            "-m",
            "hours",
            "--by",
            "consultation_type",
            "--where",
            "kind=consultation",
            "--epsilon",
            "0.5",
        ],
    )
    assert done.exit_code == 0, done.output
    assert "classroom" in done.output and "ci_low" in done.output
    assert "spent: epsilon=0.5 on each of FY2020" in done.output
    assert "0.5 spent of 2" in done.output
    again = runner.invoke(
        app,
        [
            "query",
            "--db",
            db,
            "--analyst",
            "a-1",
            "-m",
            "hours",
            "--by",
            "consultation_type",
            "--where",
            "kind=consultation",
            "--epsilon",
            "0.5",
        ],
    )
    assert "served from the release cache" in again.output


def test_query_writes_json(db: str, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    done = runner.invoke(
        app,
        [
            "query",
            "--db",
            db,
            "--analyst",
            "a-2",
            "-m",
            "activities",
            "--by",
            "setting",
            "--epsilon",
            "0.25",
            "--out",
            str(out),
        ],
    )
    assert done.exit_code == 0, done.output
    rel = json.loads(out.read_text())
    assert rel["metadata"]["epsilon"] == pytest.approx(0.25, rel=1e-6)
    assert {c["setting"] for c in rel["cells"]} == it.load_profile("illinois").code_set("setting")


def test_exhausted_budget_exits_1_with_what_is_left(db: str) -> None:
    args = ["query", "--db", db, "--analyst", "a-3", "-m", "hours", "--by", "county"]
    assert runner.invoke(app, [*args, "--epsilon", "1.5"]).exit_code == 0
    done = runner.invoke(app, [*args, "--by", "setting", "--epsilon", "1"])
    assert done.exit_code == 1
    assert "0.5 epsilon left" in " ".join(done.output.split())
    assert "Traceback" not in done.output
    shown = runner.invoke(app, ["budget", "--db", db, "--analyst", "A-3 "])
    assert shown.exit_code == 0, shown.output
    assert "Privacy budget of a-3" in shown.output and "FY2026" in shown.output
    row = next(ln for ln in shown.output.splitlines() if "FY2026" in ln)
    cells = [c.strip() for c in row.split("│")[1:-1]]
    # spent, allotment, remaining; then the lifetime cap's rest (other tests' analysts share
    # this database) and the cap
    assert cells[:4] == ["FY2026", "1.5", "2", "0.5"] and cells[5] == "4"
    assert 0 <= float(cells[4]) <= 4 - 1.5


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--by", "consultant"], 1, "never part of an aggregate"),
        (["--where", "county=atlantis"], 2, "atlantis"),
        (["--where", "fiscal_year=last"], 2, "whole numbers"),
        (["--where", "nonsense"], 2, "field=value"),
        (["--epsilon", "1", "--rho", "0.1"], 2, "not both"),
    ],
)
def test_bad_queries_are_refused_clearly(db: str, args: list[str], code: int, message: str) -> None:
    done = runner.invoke(app, ["query", "--db", db, "--analyst", "a-4", "-m", "hours", *args])
    assert done.exit_code == code, done.output
    assert message in done.output and "Traceback" not in done.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bounds", "hours"], "measure=positive number"),
        (["--bounds", "hours=-3"], "measure=positive number"),
        (["--norm-bounds", "hours=abc"], "measure=positive number"),
        (["--level", "1.5"], "level"),
        (["--auto-bounds", "--bounds", "hours=10"], "chooses the bounds"),
        (["--bounds", "minutes=10"], "does not release"),
    ],
)
def test_bad_bound_and_level_values_are_usage_errors(
    tmp_path: Path, args: list[str], message: str
) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    assert CliRunner().invoke(app, ["init", "--db", db]).exit_code == 0
    done = CliRunner().invoke(
        app, ["query", "--analyst", "a", "-m", "hours", "--by", "region", "--db", db, *args]
    )
    assert done.exit_code == 2, done.output
    assert message in done.output and "Traceback" not in done.output


def test_dry_run_spends_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    base = ["query", "--analyst", "a", "-m", "hours", "--by", "region", "--db", db]
    assert CliRunner().invoke(app, ["init", "--db", db]).exit_code == 0
    done = CliRunner().invoke(app, [*base, "--dry-run", "--epsilon", "0.5"])
    assert done.exit_code == 0, done.output
    assert "nothing read or spent" in done.output and "per cell" in done.output
    shown = CliRunner().invoke(app, ["budget", "--analyst", "a", "--db", db])
    assert " 0 " in shown.output or "│ 0 " in shown.output
