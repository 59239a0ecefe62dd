"""The to-date DP table (``to_date = true``): released anew, and charged, only when its
cutoff moves to a new month; the recorded release served otherwise, and once the state's
budget is spent, with a note; two processes publishing at once charge the state once."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import iecmhc_tracker as it
from iecmhc_tracker._accounting import STATE_ACCOUNT
from todate_profile import TABLE, TO_DATE_TABLE, todate_path


class Clock:
    """A tracker's today, moved by the test."""

    def __init__(self, day: str) -> None:
        self.day = dt.date.fromisoformat(day)

    def __call__(self) -> dt.date:
        return self.day

    def set(self, day: str) -> None:
        self.day = dt.date.fromisoformat(day)


def _tracker(profile: it.Profile | Path | str, clock: Clock, url: str = "memory://") -> it.Tracker:
    t = it.Tracker.open(url, profile, today=clock)
    acts = it.generate_activities(
        t.profile, 1500, consultants=20, seed=3, today=clock.day, notes=False
    )
    assert t.record_many(acts).ok
    return t


def _charges(t: it.Tracker) -> list[dict[str, object]]:
    return [
        e
        for e in t.store.ledger(STATE_ACCOUNT)
        if e["amount"] > 0 and e["entry"]["table"] == TABLE  # type: ignore[index]
    ]


def _one(t: it.Tracker, day: str, consultant: str = "c-new") -> None:
    """One more consultation on ``day`` (the data changes)."""
    t.record(
        {
            "consultant": consultant,
            "program": "p-new",
            "date": day,
            "county": "cook",
            "kind": "consultation",
            "setting": "head_start",
            "consultation_type": "classroom",
            "modality": "onsite",
            "hours": "3",
        }
    )


def test_one_charge_a_month_whatever_the_data_does(tmp_path: Path) -> None:
    clock = Clock("2026-12-01")
    t = _tracker(todate_path(tmp_path), clock)
    state = t.as_state()
    first = state.table(TABLE)
    (charge,) = _charges(t)
    # charged on the two fiscal years it reads, no other
    assert charge["partitions"] == ["FY2026", "FY2027"]
    assert charge["amount"] == pytest.approx(0.1, rel=1e-6)
    assert first.metadata()["to_date"]["through"] == "2026-11-30"
    # new data in the month, the dashboard rendered again, later days of December: no charge
    for day in ("2026-12-02", "2026-12-15", "2026-12-31"):
        clock.set(day)
        _one(t, "2026-11-20")
        state.dashboard_html(2026)
        again = state.table(TABLE)
        assert again.to_records() == first.to_records()
    assert len(_charges(t)) == 1
    # a new month: released anew, charged once, through the end of December
    clock.set("2027-01-04")
    _one(t, "2026-12-20")
    january = state.table(TABLE)
    state.dashboard_html(2026)
    assert len(_charges(t)) == 2
    assert january.metadata()["to_date"]["through"] == "2026-12-31"
    assert january.to_records() != first.to_records()
    for part in ("FY2026", "FY2027"):
        assert t.store.spent(STATE_ACCOUNT, part) == pytest.approx(0.2, rel=1e-6)
    assert t.store.spent(STATE_ACCOUNT, "FY2025") == 0.0


def test_a_spent_allotment_serves_the_last_release_with_the_note(tmp_path: Path) -> None:
    # room for two releases of 0.1 on each fiscal year
    profile = todate_path(tmp_path, TO_DATE_TABLE, state_epsilon_per_fiscal_year=0.25)
    clock = Clock("2026-12-01")
    t = _tracker(profile, clock)
    state = t.as_state()
    state.table(TABLE)
    clock.set("2027-01-01")
    second = state.table(TABLE)
    clock.set("2027-02-01")
    stale = state.table(TABLE)
    assert len(_charges(t)) == 2
    meta = stale.metadata()
    assert meta["stale"] is True and "Not updated" in meta["note"] and "FY20" in meta["note"]
    assert stale.to_records() == second.to_records()
    assert meta["to_date"]["through"] == "2026-12-31"  # the months it really counts
    data = state.dashboard_data(2026)
    assert data["trend"][-1][0] == "FY2027 to date (through 31 December 2026)"
    assert "Not updated" in data["trend_note"]
    # asked again in February: nothing more is charged, the same release is served
    assert state.table(TABLE).to_records() == second.to_records()
    assert len(_charges(t)) == 2


def test_an_attacker_who_writes_data_cannot_make_the_state_spend(tmp_path: Path) -> None:
    # a consultant (or anyone who can record) changes the data again and again within a
    # month, hoping to get a fresh noisy release after each change: differencing two
    # releases around one change would isolate it, and each release would spend budget
    clock = Clock("2026-12-01")
    t = _tracker(todate_path(tmp_path), clock)
    state = t.as_state()
    before = state.table(TABLE).to_records()
    seen = set()
    for i in range(20):
        _one(t, "2026-11-25", consultant=f"c-attacker-{i % 3}")
        seen.add(json.dumps(state.table(TABLE).to_records()))
    assert seen == {json.dumps(before)}  # one release: nothing to difference
    assert len(_charges(t)) == 1
    assert t.store.spent(STATE_ACCOUNT, "FY2027") == pytest.approx(0.1, rel=1e-6)


def test_the_first_month_is_published_empty_and_costs_nothing(tmp_path: Path) -> None:
    clock = Clock("2026-07-15")
    t = _tracker(todate_path(tmp_path), clock)
    table = t.as_state().table(TABLE)
    assert table.cells == () and table.margins == ()
    assert "once its first month is complete" in table.metadata()["note"]
    assert _charges(t) == []
    clock.set("2026-08-01")
    assert t.as_state().table(TABLE).metadata()["to_date"]["through"] == "2026-07-31"
    assert len(_charges(t)) == 1


CHILD = textwrap.dedent(
    """
    import datetime as dt, json, sys, time
    from pathlib import Path
    import iecmhc_tracker as it

    url, cache_dir, go, me, today, profile = sys.argv[1:7]
    day = dt.date.fromisoformat(today)
    t = it.Tracker.open(url, profile, today=lambda: day, cache_dir=cache_dir)
    state = t.as_state()
    Path(go + ".ready." + me).touch()
    while not Path(go).exists():
        time.sleep(0.002)
    table = state.tables()["hours_to_date"]
    print(json.dumps(table.to_records()))
    t.close()
    """
)


@pytest.mark.slow
def test_two_processes_publishing_at_once_charge_once(sql_url: str, tmp_path: Path) -> None:
    url = sql_url
    today = "2026-12-01"
    clock = Clock(today)
    profile = str(todate_path(tmp_path))
    _tracker(profile, clock, url).close()
    go = str(tmp_path / "go")
    cache = tmp_path / "cache"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, url, str(cache), go, me, today, profile],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me in ("a", "b")
    ]
    deadline = time.monotonic() + 60
    while not all(Path(f"{go}.ready.{me}").exists() for me in ("a", "b")):
        assert time.monotonic() < deadline, "children did not start"
        time.sleep(0.01)
    Path(go).touch()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        outs.append(out.strip().splitlines()[-1])
    assert outs[0] == outs[1]  # one draw, served to both
    with it.Tracker.open(url, profile, today=clock) as t:
        assert len(_charges(t)) == 1
