"""Bulk import throughput: records/s through ``Tracker.record_many`` and ``SQLStore.insert``
on SQLite and PostgreSQL, against raw ``sqlite3.executemany`` of the same tuples, in one run.

    .venv/bin/python benchmarks/import_bench.py --rows 1000000

Generating the synthetic activities is timed apart and not counted in any rate. Rates:
- ``raw sqlite3``: ``executemany`` of the very tuples the store writes, in input order, into
  the same table (same indexes; WAL, synchronous=NORMAL and the 64 MiB page cache every store
  connection has), one transaction; and the same into a table with the same columns but no
  key and no index at all, the most SQLite can take through ``sqlite3`` for rows this wide;
- ``raw COPY``: PostgreSQL's binary COPY of the same tuples through psycopg into a table like
  the store's (same key and indexes), one transaction: the server's own rate for these rows;
- ``store``: ``SQLStore.insert`` of already validated rows (one transaction, fast path; into an
  empty table, so it drops the secondary indexes and builds them after the rows);
- ``record_many``: the whole path from Activity objects: validation, row building and store
  (with the per-unit cell totals); on PostgreSQL the rows stream into COPY as they are validated.
PostgreSQL runs in a database made for the run and dropped afterwards (``--pg-url`` names the
server; ``--no-pg`` skips it).

Engagements and requests (``--engagements N``, default 100,000; 0 skips): on SQLite,
PostgreSQL and MariaDB, ``Tracker.record_many`` of N engagement and request records, against
``record_many`` of N activities into the same kind of store in the same run (the per-record
rates to compare), then the same engagements and requests again (all already stored: the
idempotent re-import). ``--engagements-only`` runs this part alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

import iecmhc_tracker as it
from iecmhc_tracker._columns import ROW_COLUMNS
from iecmhc_tracker._rows import to_row
from iecmhc_tracker._synthetic import generate
from iecmhc_tracker.stores import SQLStore

TODAY = dt.date(2026, 11, 1)


def timed(label: str, n: int, fn: object) -> float:
    t0 = time.perf_counter()
    fn()  # type: ignore[operator]
    secs = time.perf_counter() - t0
    rate = n / secs
    print(f"  {label:<44} {secs:8.2f} s  {rate:>12,.0f} records/s", flush=True)
    return rate


def raw_sqlite(path: Path, rows: list[dict[str, object]], *, bare: bool = False) -> float:
    store = SQLStore(f"sqlite:///{path}")  # the same schema and indexes as the store's
    store.close()
    table = "activities"
    if bare:  # the same columns with no key and no index: what SQLite costs per row at best
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE bare AS SELECT * FROM activities WHERE 0")
        con.close()
        table = "bare"
    stamp = dt.datetime.now(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    tuples = [
        (*(r[c] for c in ROW_COLUMNS[:3]), r["date"].isoformat(),  # type: ignore[attr-defined]
         *(r[c] for c in ROW_COLUMNS[4:]), stamp)
        for r in rows
    ]  # fmt: skip
    # the columns the store writes: a new row's other stamps (updated_*, deleted_*) stay NULL
    cols = (*ROW_COLUMNS, "recorded_at")
    names = ", ".join('"' + c + '"' for c in cols)
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(cols))})"
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA cache_size=-65536")  # the store's connections get the same 64 MiB

    def run() -> None:
        con.execute("BEGIN")
        con.executemany(sql, tuples)
        con.execute("COMMIT")

    label = "raw, no key or index" if bare else "raw sqlite3.executemany (same tuples)"
    rate = timed(label, len(tuples), run)
    con.close()
    return rate


def raw_pg_copy(url: str, rows: list[dict[str, object]]) -> float:
    import psycopg

    from iecmhc_tracker.stores.sql.dialects import copy_type as _pg_type

    store = SQLStore(url, table_prefix="raw_")  # the same table, key and indexes
    table = store.schema.activities
    store.close()
    stamp = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    cols = (*ROW_COLUMNS, "recorded_at")
    tuples = [(*(r[c] for c in ROW_COLUMNS), stamp) for r in rows]
    names = ", ".join('"' + c + '"' for c in cols)
    dsn = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as con:

        def run() -> None:
            with con.cursor() as cur:
                sql = f"COPY {table.name} ({names}) FROM STDIN (FORMAT BINARY)"
                with cur.copy(sql) as copy:
                    copy.set_types([_pg_type(table.c[c].type) for c in cols])
                    for t in tuples:
                        copy.write_row(t)
            con.commit()

        return timed("raw COPY (same tuples, same table)", len(tuples), run)


def _server_db(admin_url: str, label: str) -> tuple[sa.Engine, str] | None:
    """A database made for the run on the server at ``admin_url`` (None: unreachable)."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"iecmhc_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except sa.exc.OperationalError as exc:
        print(f"{label} skipped: cannot reach {admin_url}: {exc.orig}")
        admin.dispose()
        return None
    return admin, admin.url.set(database=name).render_as_string(hide_password=False)


def engagement_runs(profile: it.Profile, n: int, args: argparse.Namespace) -> dict[str, float]:
    """Per-record rates of engagements + requests against activities, on every backend."""
    print(f"generating {n:,} engagement and request records and {n:,} activities …", flush=True)
    t0 = time.perf_counter()
    data = it.generate_engagements(
        profile, int(n / 1.13) + 1, consultants=args.consultants, seed=2, today=TODAY, linked=False
    )
    records: list[object] = [*data.engagements, *data.requests][:n]
    activities = list(generate(profile, n, consultants=args.consultants, seed=3, today=TODAY))
    print(f"  generated in {time.perf_counter() - t0:.1f} s", flush=True)
    rates: dict[str, float] = {}

    def run(label: str, url: str) -> None:
        print(f"{label}, {n:,} records each:", flush=True)
        acts = it.Tracker.open(url, profile, today=lambda: TODAY, table_prefix="a_")
        got: list[it.ImportResult] = []
        rates[f"{label}_activities"] = timed(
            "record_many, activities", n, lambda: got.append(acts.record_many(activities))
        )
        acts.close()
        eng = it.Tracker.open(url, profile, today=lambda: TODAY, table_prefix="e_")
        rates[f"{label}_engagements"] = timed(
            "record_many, engagements + requests", n, lambda: got.append(eng.record_many(records))
        )
        rates[f"{label}_again"] = timed(
            "the same again (all already stored)", n, lambda: got.append(eng.record_many(records))
        )
        eng.close()
        assert [(r.inserted, r.duplicates) for r in got] == [(n, 0), (n, 0), (0, n)], got
        ratio = rates[f"{label}_engagements"] / rates[f"{label}_activities"]
        print(f"  engagements + requests / activities per record: {ratio:.2f}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{Path(tmp) / 'e.db'}")
    for label, admin_url, skip in (
        ("PostgreSQL", args.pg_url, args.no_pg),
        ("MariaDB", args.mysql_url, args.no_mysql),
    ):
        made = None if skip else _server_db(admin_url, label)
        if made is None:
            continue
        admin, url = made
        try:
            run(label, url)
        finally:
            db = sa.make_url(url).database
            with admin.connect() as conn:
                force = " WITH (FORCE)" if label == "PostgreSQL" else ""
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {db}{force}")
            admin.dispose()
    return rates


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="activities to import")
    ap.add_argument("--consultants", type=int, default=400)
    ap.add_argument(
        "--pg-url",
        default=os.environ.get(
            "IECMHC_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
        help="a PostgreSQL server (a database is created for the run and dropped)",
    )
    ap.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    ap.add_argument(
        "--mysql-url",
        default=os.environ.get("IECMHC_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
        help="a MariaDB/MySQL server, for the engagements part",
    )
    ap.add_argument("--no-mysql", action="store_true", help="skip MariaDB")
    ap.add_argument("--engagements", type=int, default=100_000, help="engagement + request records")
    ap.add_argument("--engagements-only", action="store_true", help="run that part alone")
    args = ap.parse_args()
    profile = it.load_profile("illinois")
    n = args.rows
    # rates are only comparable within one run: say how busy the machine was
    print(f"cpus: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.1f}")
    if args.engagements_only:
        engagement_runs(profile, args.engagements, args)
        print(f"load average at end: {os.getloadavg()[0]:.1f}")
        return 0

    print(f"generating {n:,} synthetic activities (not timed in any rate) …", flush=True)
    t0 = time.perf_counter()
    activities = list(generate(profile, n, consultants=args.consultants, seed=1, today=TODAY))
    print(f"  generated in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    rows = [to_row(a, profile) for a in activities]
    print(
        f"  rows built in {time.perf_counter() - t0:.1f} s (for the store-alone runs)", flush=True
    )

    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        print(f"SQLite ({sqlite3.sqlite_version}), {n:,} records:")
        rates["raw"] = raw_sqlite(d / "raw.db", rows)
        rates["bare"] = raw_sqlite(d / "bare.db", rows, bare=True)
        store = SQLStore(f"sqlite:///{d / 'store.db'}")
        rates["sqlite_store"] = timed(
            "SQLStore.insert (validated rows)", n, lambda: store.insert(rows)
        )
        assert store.insert(rows[:1000])[1] == [r["id"] for r in rows[:1000]]
        store.close()
        tracker = it.Tracker.open(f"sqlite:///{d / 'tracker.db'}", profile, today=lambda: TODAY)
        result = None

        def record_many() -> None:
            nonlocal result
            result = tracker.record_many(activities)

        rates["sqlite_tracker"] = timed("Tracker.record_many (validate + store)", n, record_many)
        assert result is not None and result.inserted == n, result
        tracker.close()

    if not args.no_pg:
        admin = sa.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        name = f"iecmhc_bench_{uuid.uuid4().hex[:10]}"
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"CREATE DATABASE {name}")
        except sa.exc.OperationalError as exc:
            print(f"PostgreSQL skipped: cannot reach {args.pg_url}: {exc.orig}")
        else:
            url = admin.url.set(database=name).render_as_string(hide_password=False)
            try:
                with admin.connect() as conn:
                    version = conn.exec_driver_sql("SHOW server_version").scalar()
                print(f"PostgreSQL ({version}), {n:,} records:")
                rates["pg_raw"] = raw_pg_copy(url, rows)
                store = SQLStore(url)
                rates["pg_store"] = timed(
                    "SQLStore.insert (validated rows, COPY)", n, lambda: store.insert(rows)
                )
                store.close()
                tracker = it.Tracker.open(url, profile, today=lambda: TODAY, table_prefix="t_")
                rates["pg_tracker"] = timed(
                    "Tracker.record_many (validate + store)", n, record_many
                )
                assert result is not None and result.inserted == n, result
                tracker.close()
            finally:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()

    if args.engagements:
        engagement_runs(profile, args.engagements, args)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    raw = rates["raw"]
    print("ratios (same run):")
    for key, label in (
        ("bare", "raw without key or index / raw sqlite3"),
        ("sqlite_store", "SQLite store / raw sqlite3"),
        ("sqlite_tracker", "SQLite record_many / raw sqlite3"),
        ("pg_raw", "PostgreSQL raw COPY / raw sqlite3"),
        ("pg_store", "PostgreSQL store / raw sqlite3"),
        ("pg_tracker", "PostgreSQL record_many / raw sqlite3"),
    ):
        if key in rates:
            print(f"  {label:<44} {rates[key] / raw:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
