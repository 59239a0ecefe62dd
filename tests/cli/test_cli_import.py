"""``iecmhc import``, ``iecmhc init`` and the demo's embedded default, through typer's runner."""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import iecmhc_tracker as it
from iecmhc_tracker.cli import app

runner = CliRunner()
IL = it.load_profile("illinois")
FIELDS = ["id", "consultant", "program", "date", "county", "kind", "setting", "hours",
          "consultation_type", "methods", "referrals", "note"]  # fmt: skip


def _row(**kw: str) -> dict[str, str]:
    base = {
        "id": str(uuid.uuid4()),
        "consultant": "c-7f3a",
        "program": "p-1",
        "date": "2025-03-04",
        "county": "cook",
        "kind": "consultation",
        "setting": "head_start",
        "hours": "1.5",
        "consultation_type": "classroom",
        "methods": "reflecting;modeling",
        "referrals": "",
        "note": "",
    }
    base.update(kw)
    return base


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, FIELDS)
        w.writeheader()
        w.writerows(rows)
    return path


def _count(db: str) -> int:
    with it.Tracker.open(db, IL) as t:
        return len(t.as_consultant("c-7f3a").activities())


@pytest.fixture()
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'nested' / 'cli.db'}"


def test_import_csv_then_again_is_idempotent(tmp_path: Path, db: str) -> None:
    rows = [_row() for _ in range(25)]
    rows[3]["referrals"] = "housing:2; food"
    rows[4]["note"] = 'She said "it\'s fine", then left.'
    path = _csv(tmp_path / "in.csv", rows)
    done = runner.invoke(app, ["import", str(path), "--db", db])
    assert done.exit_code == 0, done.output
    assert "25 imported" in done.output
    again = runner.invoke(app, ["import", str(path), "--db", db])
    assert again.exit_code == 0 and "0 imported, 25 already stored" in again.output
    with it.Tracker.open(db, IL) as t:
        acts = {str(a.id): a for a in t.as_consultant("c-7f3a").activities()}
    assert len(acts) == 25
    assert acts[rows[3]["id"]].referral_counts == {"housing": 2, "food": 1}
    assert acts[rows[4]["id"]].note == rows[4]["note"]
    assert acts[rows[0]["id"]].methods == ("modeling", "reflecting")


def test_rejected_rows_are_reported_with_line_field_and_problem(tmp_path: Path, db: str) -> None:
    rows = [_row() for _ in range(6)]
    rows[1]["hours"] = "99"
    rows[4]["county"] = "atlantis"
    rows[2]["note"] = "line one\nline two"  # a quoted multi-line cell moves later line numbers
    path = _csv(tmp_path / "bad.csv", rows)
    done = runner.invoke(
        app, ["import", str(path), "--db", db, "--batch-size", "3"], terminal_width=200
    )
    assert done.exit_code == 1, done.output
    assert "Traceback" not in done.output
    lines = {ln.split("│")[1].strip(): ln for ln in done.output.splitlines() if ln.count("│") >= 3}
    assert "hours" in lines["3"] and "county" in lines["7"]  # header is line 1, row 3 spans 2
    assert "0 imported" in done.output and "6 not written" in done.output
    assert _count(db) == 0  # both batches held a bad row: all-or-nothing
    rows[4]["county"] = "cook"
    _csv(path, rows)
    done = runner.invoke(app, ["import", str(path), "--db", db, "--batch-size", "3"])
    assert done.exit_code == 1 and "3 imported" in done.output  # the good batch went in
    assert _count(db) == 3


def test_import_json_and_jsonl(tmp_path: Path, db: str) -> None:
    rows = [dict(_row(), methods=["reflecting"], referrals={"housing": 1}) for _ in range(4)]
    for r in rows:
        del r["note"]
    (tmp_path / "a.json").write_text(json.dumps(rows))
    assert runner.invoke(app, ["import", str(tmp_path / "a.json"), "--db", db]).exit_code == 0
    more = [dict(_row(), methods=["reflecting"], referrals={}) for _ in range(3)]
    more[1]["hours"] = "-1"
    for r in more:
        del r["note"]
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r) for r in more) + "\n")
    done = runner.invoke(app, ["import", str(tmp_path / "b.jsonl"), "--db", db], terminal_width=200)
    assert done.exit_code == 1 and "hours" in done.output
    assert _count(db) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "missing.csv"], "no such file"),
        (["import", "{tmp}/notes.txt"], "use a .csv, .json or .jsonl"),
        (["import", "{tmp}/broken.json"], "cannot read"),
        (["import", "{tmp}/ok.csv", "--profile", "atlantis"], "atlantis"),
        (["import", "{tmp}/ok.csv", "--db", "postgresql+psycopg://x@127.0.0.1:1/db"], "reach"),
    ],
)
def test_bad_usage_exits_2_with_one_line(
    tmp_path: Path, db: str, args: list[str], message: str
) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.json").write_text("[{")
    _csv(tmp_path / "ok.csv", [_row()])
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--db" not in argv:
        argv += ["--db", db]
    done = runner.invoke(app, argv, terminal_width=300)
    assert done.exit_code == 2, done.output
    assert message in done.output and "Traceback" not in done.output


def test_init_creates_and_then_finds_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'deep' / 'er' / 'store.db'}"
    first = runner.invoke(app, ["init", "--db", url, "--table-prefix", "app_"])
    assert first.exit_code == 0 and "created" in first.output
    again = runner.invoke(app, ["init", "--db", url, "--table-prefix", "app_"])
    assert again.exit_code == 0 and "up to date" in again.output
    engine = sa.create_engine(url)
    assert "app_activities" in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_demo_runs_on_embedded_sqlite_and_reruns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IECMHC_DB", raising=False)
    args = ["demo", "--activities", "300", "--consultants", "12"]
    first = runner.invoke(app, args, terminal_width=200)
    assert first.exit_code == 0, first.output
    assert (tmp_path / "demo-output" / "demo.db").is_file()
    second = runner.invoke(app, args, terminal_width=200)
    assert second.exit_code == 0
    assert "0 new activities stored" in second.output
    assert "(300 were already there)" in second.output
    # the demo ends with the path of the dashboard it wrote
    last = second.output.strip().splitlines()[-1]
    dashboard = tmp_path / "demo-output" / "dashboard.html"
    assert last == f"dashboard: {dashboard.resolve()}"
    assert "state dashboard" in dashboard.read_text()
