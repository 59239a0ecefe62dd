"""Bad input through the command line: one clear line naming the place, the right exit code."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from iecmhc_tracker.cli import app

runner = CliRunner()
FIELDS = ["consultant", "date", "county", "kind", "setting", "consultation_type", "hours"]


def _row(i: int) -> list[str]:
    return [f"c-{i % 7}", "2025-03-04", "cook", "consultation", "head_start", "classroom", "1.5"]


def test_a_broken_csv_line_37_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "activity.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FIELDS)
        for i in range(2, 60):  # file line i holds data row i - 1
            row = _row(i)
            if i == 37:
                row.append("a stray cell")  # more cells than the header names
            w.writerow(row)
    db = f"sqlite:///{tmp_path / 'x.db'}"
    done = runner.invoke(app, ["import", str(path), "--db", db], terminal_width=200)
    assert done.exit_code == 1, done.output
    assert "Traceback" not in done.output
    reported = [ln for ln in done.output.splitlines() if "│" in ln and " 37 " in ln]
    assert reported, done.output
    # all-or-nothing: the valid lines of that batch were not written either
    report = runner.invoke(
        app, ["report", "portfolio", "--db", db, "--consultant", "c-1", "--format", "json"]
    )
    assert report.exit_code == 1 and "no activities are recorded" in report.output


def test_a_missing_file_is_exit_2(tmp_path: Path) -> None:
    done = runner.invoke(app, ["import", str(tmp_path / "nope.csv"), "--db", "memory://"])
    assert done.exit_code == 2 and "Traceback" not in done.output
