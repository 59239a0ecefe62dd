"""The offline outbox: record while the database is down, deliver exactly once later, across a
real process restart."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import iecmhc_tracker as it
from iecmhc_tracker._rows import to_row
from iecmhc_tracker._synthetic import generate
from strategies import TODAY

IL = it.load_profile("illinois")


def _activities(n: int, seed: int = 5) -> list[it.Activity]:
    return list(generate(IL, n, consultants=4, seed=seed, today=TODAY))


def _count(url: str, activities: list[it.Activity]) -> int:
    with it.Tracker.open(url, IL, today=lambda: TODAY) as t:
        return sum(len(t.as_consultant(c).activities()) for c in {a.consultant for a in activities})


def test_records_while_the_database_is_unreachable(tmp_path: Path, sql_url: str) -> None:
    acts = _activities(30)
    down = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    box = it.Outbox(tmp_path / "outbox", down, IL, today=lambda: TODAY)
    for a in acts:
        box.record(a)
    with pytest.raises(it.ValidationError):
        box.record(acts[0].evolve(hours=99))
    with pytest.raises(it.ConflictError):
        box.record(acts[0].evolve(hours=acts[0].hours + 1 if acts[0].hours else 1))
    with pytest.raises(it.StorageError, match="cannot reach"):
        box.sync()
    assert len(box) == 30  # nothing lost while the database is down
    box.close()
    # the database is back (here: the application is reconfigured to reach it)
    with it.Outbox(tmp_path / "outbox", sql_url, IL, today=lambda: TODAY) as box:
        result = box.sync()
        assert (len(result.delivered), result.duplicates, result.conflicts) == (30, (), ())
        assert len(box) == 0
        assert box.sync() == it._outbox.SyncResult()
    assert _count(sql_url, acts) == 30


def test_a_record_delivered_before_a_crash_is_not_stored_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    acts = _activities(10)
    with it.Outbox(tmp_path / "outbox", url, IL, today=lambda: TODAY) as box:
        box.record_many(acts)
    # a crash after the commit and before the queue was emptied: the store has some already
    with it.Tracker.open(url, IL, today=lambda: TODAY) as t:
        t.store.insert([to_row(a, IL) for a in acts[:4]])
        # and one id the store holds with other content
        t.store.insert([to_row(acts[4].evolve(note="Changed elsewhere."), IL)])
    with it.Outbox(tmp_path / "outbox", url, IL, today=lambda: TODAY) as box:
        result = box.sync(batch_size=3)
        assert sorted(result.duplicates) == sorted(str(a.id) for a in acts[:4])
        assert len(result.delivered) == 5 and result.conflicts == (str(acts[4].id),)
        assert [a.id for a in box.conflicts()] == [acts[4].id] and len(box) == 0
    assert _count(url, acts) == 10


RECORDER = textwrap.dedent(
    """
    import datetime as dt, json, sys
    import iecmhc_tracker as it
    directory, url, path = sys.argv[1:4]
    today = dt.date(2026, 11, 1)
    box = it.Outbox(directory, url, "illinois", today=lambda: today)
    for d in json.load(open(path)):
        box.record(d)
    box.close()
    """
)
SYNCER = textwrap.dedent(
    """
    import datetime as dt, sys
    import iecmhc_tracker as it
    directory, url = sys.argv[1:3]
    today = dt.date(2026, 11, 1)
    with it.Outbox(directory, url, "illinois", today=lambda: today) as box:
        r = box.sync(batch_size=7)
    print(len(r.delivered), len(r.duplicates), len(r.conflicts))
    """
)


@pytest.mark.slow
@pytest.mark.parametrize(
    "sql_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)], indirect=True
)
def test_delivers_exactly_once_across_a_process_restart(tmp_path: Path, sql_url: str) -> None:
    acts = _activities(40, seed=9)
    data = tmp_path / "acts.json"
    data.write_text(json.dumps([a.to_dict() for a in acts]))
    box_dir = str(tmp_path / "outbox")

    def run(script: str, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", script, box_dir, sql_url, *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    run(RECORDER, str(data))  # process 1 records and exits
    assert run(SYNCER) == "40 0 0"  # process 2 delivers
    assert run(SYNCER) == "0 0 0"
    run(RECORDER, str(data))  # the same records queued again are recognised
    assert run(SYNCER) == "0 40 0"
    assert _count(sql_url, acts) == 40
