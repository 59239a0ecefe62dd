"""The budget ledger and the release cache across processes, on SQLite and PostgreSQL.

PostgreSQL runs in a fresh database per test session, dropped at the end; when the server is
unreachable these tests skip with the reason, unless IECMHC_REQUIRE_SERVICES=1 (then they fail).
"""

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

TODAY = "2026-11-01"

CHILD = textwrap.dedent(
    """
    import datetime as dt, json, sys, time
    from pathlib import Path
    import iecmhc_tracker as it

    url, profile, cache_dir, analyst, measure, eps, go, today = sys.argv[1:9]
    day = dt.date.fromisoformat(today)
    # "-": the default cache location for the store
    t = it.Tracker.open(url, profile, today=lambda: day,
                        cache_dir=None if cache_dir == "-" else cache_dir)
    lab = t.as_researcher(analyst)
    q = it.Query(measures=[measure], by=["region"])
    if go != "-":
        # wait for the signal so that every child asks at the same moment
        Path(go + ".ready." + measure).touch()
        while not Path(go).exists():
            time.sleep(0.002)
    try:
        rel = lab.release(q, epsilon=float(eps))
        out = {"ok": True, "values": [e.value for e in rel.estimates],
               "cached": rel.metadata["cached"]}
    except it.BudgetExceeded as exc:
        out = {"ok": False, "error": str(exc)}
    out["spent"] = max(lab.budget.spent.values())
    print(json.dumps(out))
    t.close()
    """
)


def _profile(tmp_path: Path, budget: float, cap: float = 4.0) -> Path:
    """Illinois with ``budget`` per analyst and ``cap`` for everyone per fiscal year."""
    from importlib import resources

    text = (resources.files("iecmhc_tracker") / "profiles" / "illinois.toml").read_text()
    for key, value in (
        ("analyst_epsilon_per_fiscal_year = 2.0", f"analyst_epsilon_per_fiscal_year = {budget}"),
        ("lifetime_epsilon_per_fiscal_year = 4.0", f"lifetime_epsilon_per_fiscal_year = {cap}"),
    ):
        assert key in text
        text = text.replace(key, value)
    path = tmp_path / "profile.toml"
    path.write_text(text)
    return path


def _fill(url: str, profile: Path, table_prefix: str = "") -> None:

    today = dt.date.fromisoformat(TODAY)
    with it.Tracker.open(url, str(profile), today=lambda: today) as t:
        prof = t.profile
        acts = it.generate_activities(prof, 600, consultants=15, seed=3, today=today, notes=False)
        assert t.record_many(acts).ok


def _spawn(
    url: str,
    profile: Path,
    cache: Path | str,
    analyst: str,
    measure: str,
    eps: float,
    go: str = "-",
) -> subprocess.Popen[str]:
    """A child process asking ``measure`` by region over every fiscal year for ``eps``."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            url,
            str(profile),
            str(cache),
            analyst,
            measure,
            str(eps),
            go,
            TODAY,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(proc: subprocess.Popen[str]) -> dict[str, object]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def _fresh(url: str, tmp_path: Path) -> str:
    """SQLite: a new file per test. PostgreSQL: the session database, emptied by dropping the
    tables the previous test created (one store per database)."""
    if url.startswith("postgresql"):
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    return url


@pytest.mark.slow
@pytest.mark.services
def test_two_processes_racing_for_the_last_budget(sql_url: str, tmp_path: Path) -> None:
    url = _fresh(sql_url, tmp_path)
    profile = _profile(tmp_path, budget=1.0)
    _fill(url, profile)
    go = str(tmp_path / "go")
    # one analyst, two different questions (the cache cannot serve one to the other), 0.6 each
    procs = [
        _spawn(url, profile, tmp_path / "cache", "analyst-1", m, 0.6, go)
        for m in ("hours", "activities")
    ]
    deadline = time.monotonic() + 60
    while not all(Path(f"{go}.ready.{m}").exists() for m in ("hours", "activities")):
        assert time.monotonic() < deadline, "children did not start"
        time.sleep(0.01)
    Path(go).touch()
    results = [_result(p) for p in procs]
    assert sorted(r["ok"] for r in results) == [False, True]
    refused = next(r for r in results if not r["ok"])
    assert "0.4 epsilon left" in str(refused["error"])
    with it.Tracker.open(url, str(profile)) as t:
        log = t.store.ledger("analyst-1")
        assert [e["amount"] for e in log] == [pytest.approx(0.6)]


@pytest.mark.slow
@pytest.mark.services
def test_two_analysts_racing_for_the_last_of_the_lifetime_cap(sql_url: str, tmp_path: Path) -> None:
    url = _fresh(sql_url, tmp_path)
    # each analyst may spend 1 on a fiscal year, and so may everyone together: the cap decides
    profile = _profile(tmp_path, budget=1.0, cap=1.0)
    _fill(url, profile)
    go = str(tmp_path / "go")
    procs = [
        _spawn(url, profile, tmp_path / "cache", analyst, m, 0.6, go)
        for analyst, m in (("analyst-1", "hours"), ("analyst-2", "activities"))
    ]
    deadline = time.monotonic() + 60
    while not all(Path(f"{go}.ready.{m}").exists() for m in ("hours", "activities")):
        assert time.monotonic() < deadline, "children did not start"
        time.sleep(0.01)
    Path(go).touch()
    results = [_result(p) for p in procs]
    assert sorted(r["ok"] for r in results) == [False, True]
    refused = next(r for r in results if not r["ok"])
    assert "everyone together has 0.4 epsilon left" in str(refused["error"])
    with it.Tracker.open(url, str(profile)) as t:
        amounts = [e["amount"] for a in ("analyst-1", "analyst-2") for e in t.store.ledger(a)]
        assert amounts == [pytest.approx(0.6)]
        years = t.profile.fiscal_years(dt.date.fromisoformat(TODAY))
        assert all(t.store.spent(None, f"FY{y}") == pytest.approx(0.6) for y in years)


@pytest.mark.slow
@pytest.mark.services
def test_a_new_process_sees_the_ledger_and_the_cached_release(sql_url: str, tmp_path: Path) -> None:
    url = _fresh(sql_url, tmp_path)
    profile = _profile(tmp_path, budget=2.0)
    _fill(url, profile)
    # SQLite: the default cache beside the database file; PostgreSQL: one under tmp_path
    # (the default would be the user's cache directory)
    cache = tmp_path / "cache" if url.startswith("postgresql") else "-"
    first = _result(_spawn(url, profile, cache, "analyst-1", "hours", 0.5))
    assert first["ok"] and first["cached"] is False and first["spent"] == pytest.approx(0.5)
    # a new process: same ledger, same numbers from the cache, nothing more spent
    again = _result(_spawn(url, profile, cache, "analyst-1", "hours", 0.5))
    assert again["cached"] is True
    assert again["values"] == first["values"]
    assert again["spent"] == pytest.approx(0.5)
    # and in this process
    with it.Tracker.open(url, str(profile), cache_dir=None if cache == "-" else cache) as t:
        lab = t.as_researcher("analyst-1")
        assert max(lab.budget.spent.values()) == pytest.approx(0.5)
        assert [e["entry"]["cached"] for e in lab.history()] == [False, True]


def test_default_cache_lives_beside_the_sqlite_file(tmp_path: Path) -> None:
    from iecmhc_tracker._cache import default_directory

    db = tmp_path / "x.db"
    assert default_directory(f"sqlite:///{db}") == (tmp_path / "x.db.release-cache", False)
    where, temporary = default_directory("postgresql+psycopg://u:secret@h/db")
    assert not temporary and "secret" not in str(where)
    assert where != default_directory("postgresql+psycopg://u@other/db")[0]
    assert default_directory("memory://")[1] is True
