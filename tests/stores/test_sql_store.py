"""What only the SQL stores have: migrations, table prefixes and embedding, crash atomicity of a
bulk import (SIGKILL), and concurrent writers."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

import iecmhc_tracker as it
from iecmhc_tracker._accounting import rho_to_epsilon
from iecmhc_tracker._rows import to_row
from iecmhc_tracker.stores.sql import SCHEMA_VERSION, SQLStore, build_schema
from iecmhc_tracker.stores.sql.dialects import PostgreSQLDialect
from iecmhc_tracker.stores.testing import make_rows

TABLES = {
    "activities",
    "activity_referrals",
    "budget_ledger",
    "budget_balance",
    "budget_partitions",
    "store_meta",
    "unit_cells",
    "publications",
    "store_profile",
    "engagements",
    "requests",
    "alembic_version",
}


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _sql(url: str, statement: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.exec_driver_sql(statement)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def test_a_fresh_database_is_migrated_to_head(sql_url: str) -> None:
    store = SQLStore(sql_url)
    assert store.migrated_from == ""
    store.close()
    assert _tables(sql_url) == TABLES
    assert _sql(sql_url, "SELECT version_num FROM alembic_version") == [(SCHEMA_VERSION,)]
    again = SQLStore(sql_url)  # opening again changes nothing
    assert again.migrated_from == SCHEMA_VERSION
    again.close()


def test_a_newer_schema_is_refused(sql_url: str) -> None:
    SQLStore(sql_url).close()
    _sql(sql_url, "UPDATE alembic_version SET version_num = '9001_from_the_future'")
    with pytest.raises(
        it.SchemaVersionError, match=r"9001_from_the_future.*upgrade iecmhc_tracker"
    ):
        it.Tracker.open(sql_url)
    assert _tables(sql_url) == TABLES  # nothing touched


def test_a_store_from_the_first_schema_is_migrated_with_its_data(sql_url: str) -> None:
    # a database as revision 0001 left it, holding activities (one of them deleted)
    store = SQLStore(sql_url, table_prefix="old_")
    rows = make_rows(n=40)
    store.insert(rows)
    store.delete(rows[0]["id"], by="c-x", at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    expected = sorted(store.partial_sums("consultant", ["county"], [("*", ()), ("hours", ())], {}))
    store.close()
    _to_0002(sql_url, "old_")
    _sql(sql_url, "DROP TABLE old_unit_cells")
    _sql(
        sql_url,
        "CREATE INDEX old_ix_activities_agg "
        "ON old_activities (deleted_at, fiscal_year, kind, consultant)",
    )
    _sql(sql_url, "UPDATE old_alembic_version SET version_num = '0001'")
    meta = build_schema("old_").meta
    engine = sa.create_engine(sql_url)
    with engine.begin() as conn:
        conn.execute(meta.update().where(meta.c.key == "schema_version").values(value=1))
    engine.dispose()

    store = SQLStore(sql_url, table_prefix="old_")
    assert store.migrated_from == "0001"
    got = sorted(store.partial_sums("consultant", ["county"], [("*", ()), ("hours", ())], {}))
    assert got == expected and sum(n for _, _, n, _ in got) == 39
    store.close()
    assert _sql(sql_url, "SELECT version_num FROM old_alembic_version") == [(SCHEMA_VERSION,)]
    engine = sa.create_engine(sql_url)
    with engine.begin() as conn:
        q = sa.select(meta.c.value).where(meta.c.key == "schema_version")
        assert conn.execute(q).scalar() == int(SCHEMA_VERSION)
    engine.dispose()
    _assert_cells_match_rows_prefixed(sql_url, "old_")


def _to_0004(url: str, prefix: str) -> None:
    """Undo revisions 0006 and 0005 by hand: no engagements, no requests, no activity's
    link, no profile stamp."""
    _sql(url, f"DROP TABLE {prefix}store_profile")
    _sql(url, f"DROP TABLE {prefix}engagements")
    _sql(url, f"DROP TABLE {prefix}requests")
    index = f"{prefix}ix_activities_engagement"
    _sql(url, f"DROP INDEX {index}" + (f" ON {prefix}activities" if "mysql" in url else ""))
    _sql(url, f"ALTER TABLE {prefix}activities DROP COLUMN engagement")


def test_a_database_from_before_engagements_is_migrated_and_keeps_its_rows(
    sql_url: str,
) -> None:
    store = SQLStore(sql_url, table_prefix="v4_")
    rows = make_rows(n=5)
    store.insert(rows)
    store.close()
    _to_0004(sql_url, "v4_")
    _sql(sql_url, "UPDATE v4_alembic_version SET version_num = '0004'")
    store = SQLStore(sql_url, table_prefix="v4_")
    assert store.migrated_from == "0004"
    assert [store.get(r["id"]) is not None for r in rows] == [True] * 5
    assert {store.get(r["id"])["engagement"] for r in rows} == {None}  # type: ignore[index]
    assert store.records("engagement") == []
    store.close()


def _to_0002(url: str, prefix: str) -> None:
    """Undo revisions 0006 to 0003 by hand: no engagements, no profile stamp, no publication
    ledger, no partition totals, no partitions in the ledger."""
    _to_0004(url, prefix)
    _sql(url, f"DROP TABLE {prefix}publications")
    _sql(url, f"DROP TABLE {prefix}budget_partitions")
    _sql(url, f"ALTER TABLE {prefix}budget_ledger DROP COLUMN partitions")


def test_a_store_from_before_the_profile_stamp_is_migrated_unstamped(sql_url: str) -> None:
    store = SQLStore(sql_url, table_prefix="v4_")
    store.insert(make_rows(n=3))
    store.close()
    _to_0004(sql_url, "v4_")
    _sql(sql_url, "UPDATE v4_alembic_version SET version_num = '0004'")
    # opened only to read, it is neither migrated nor changed
    with pytest.raises(it.NotInitialised, match=r"schema 0004.*iecmhc init"):
        SQLStore(sql_url, table_prefix="v4_", create=False)
    assert "v4_store_profile" not in _tables(sql_url)
    again = SQLStore(sql_url, table_prefix="v4_")
    assert again.migrated_from == "0004" and again.profile_stamp() is None
    assert len(again.rows(consultant=make_rows(n=3)[0]["consultant"])) >= 1
    again.close()


def test_a_ledger_from_before_data_partitions_is_carried_over(sql_url: str) -> None:
    # a database as revision 0002 left it: spending kept per (analyst, period of the release
    # date, currency), in a month and in two currencies
    SQLStore(sql_url, table_prefix="v2_").close()
    _to_0002(sql_url, "v2_")
    at = "2026-01-02 03:04:05"
    for analyst, period, currency, spent in (
        ("an-1", "FY2026", "epsilon", 0.5),
        ("an-1", "FY2026", "rho", 0.05),
        ("an-2", "FY2026", "epsilon", 1.0),
        ("an-2", "2026-01", "epsilon", 0.25),
    ):
        _sql(
            sql_url,
            "INSERT INTO v2_budget_balance (analyst, period, currency, spent) "
            f"VALUES ('{analyst}', '{period}', '{currency}', {spent})",
        )
        _sql(
            sql_url,
            "INSERT INTO v2_budget_ledger (analyst, period, currency, amount, at, entry) "
            f"VALUES ('{analyst}', '{period}', '{currency}', {spent}, '{at}', '{{}}')",
        )
    _sql(sql_url, "UPDATE v2_alembic_version SET version_num = '0002'")

    store = SQLStore(sql_url, table_prefix="v2_")
    assert store.migrated_from == "0002"
    converted = 0.5 + rho_to_epsilon(0.05, 1e-6)
    assert store.spent("an-1", "FY2026") == pytest.approx(converted)
    assert store.spent("an-2", "FY2026") == pytest.approx(1.0)
    assert store.spent(None, "FY2026") == pytest.approx(converted + 1.0)
    log = store.ledger("an-2")
    assert [e["partitions"] for e in log] == [["FY2026"], ["2026-01"]]
    # and the new accounting runs on top of it
    with pytest.raises(it.BudgetExceeded):
        store.charge("an-3", ["FY2026"], 1.0, allotment=2.0, cap=converted + 1.5, entry={})
    store.charge("an-3", ["FY2026", "FY2025"], 0.5, allotment=2.0, cap=4.0, entry={})
    assert store.spent(None, "FY2026") == pytest.approx(converted + 1.5)
    store.close()


def _assert_cells_match_rows_prefixed(url: str, prefix: str) -> None:
    n_rows = _sql(url, f"SELECT COUNT(*) FROM {prefix}activities WHERE deleted_at IS NULL")
    assert _sql(url, f"SELECT SUM(n) FROM {prefix}unit_cells") == n_rows


def test_two_prefixes_coexist_in_one_database(sql_url: str) -> None:
    a = SQLStore(sql_url, table_prefix="a_")
    b = SQLStore(sql_url, table_prefix="b_")
    rows = make_rows(n=5)
    a.insert(rows)
    b.insert(rows[:2])
    b.charge("x", ["FY2025"], 0.5, allotment=1.0, cap=1.0, entry={})
    assert a.get(rows[4]["id"]) is not None and b.get(rows[4]["id"]) is None
    assert a.spent("x", "FY2025") == 0.0 and b.spent(None, "FY2025") == 0.5
    assert a.data_version() != b.data_version() or a.data_version() == 1
    a.close()
    b.close()
    assert _tables(sql_url) == {f"{p}{t}" for p in ("a_", "b_") for t in TABLES}


def test_tables_made_by_the_application_are_adopted(sql_url: str) -> None:
    # an application creates our tables next to its own with its MetaData, then opens the store
    md = sa.MetaData()
    sa.Table("app_users", md, sa.Column("id", sa.Integer, primary_key=True))
    schema = build_schema("iecmhc_", md)
    if "sqlite" in sql_url:
        Path(sql_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(sql_url)
    md.create_all(engine)
    engine.dispose()
    store = SQLStore(sql_url, table_prefix="iecmhc_", metadata=sa.MetaData())
    assert store.migrated_from == ""  # stamped, not re-created
    store.insert(make_rows(n=3))
    assert store.data_version() == 1
    store.close()
    assert {"app_users", "iecmhc_activities", "iecmhc_alembic_version"} <= _tables(sql_url)
    assert schema.activities.name == "iecmhc_activities"


def test_store_exposes_metadata_and_engine(tmp_path: Path) -> None:
    md = sa.MetaData()
    store = SQLStore(f"sqlite:///{tmp_path / 's.db'}", table_prefix="x_", metadata=md)
    assert store.metadata is md and "x_activities" in md.tables
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close()


# -- crash atomicity ----------------------------------------------------------------------------
IMPORTER = textwrap.dedent(
    """
    import sys, uuid
    from iecmhc_tracker.stores import SQLStore
    from iecmhc_tracker.stores.testing import make_rows

    url, n = sys.argv[1], int(sys.argv[2])
    template = make_rows(n=50, seed=42)
    rows = []
    for i in range(n):
        row = dict(template[i % 50])
        row["id"] = str(uuid.UUID(int=i + 1, version=4))
        rows.append(row)
    store = SQLStore(url)
    print("start", flush=True)
    # one store.insert is one record_many batch: a single transaction
    ins, dup, conf = store.insert(rows)
    print("done", len(ins), len(dup), len(conf), flush=True)
    """
)
N_KILL = 200_000


def _count(url: str) -> int:
    return int(_sql(url, "SELECT COUNT(*) FROM activities")[0][0])  # type: ignore[call-overload]


def _wait_until_writing(url: str, timeout: float = 60) -> None:
    """Poll until the importer's write transaction is open in the database."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if url.startswith("sqlite"):
            con = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0)
            try:
                con.execute("BEGIN IMMEDIATE")  # refused while the importer holds the lock
                con.rollback()
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc):
                    return
            finally:
                con.close()
        else:
            active = _sql(
                url,
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'active' AND query LIKE 'COPY%%'",
            )
            if active[0][0]:
                return
        time.sleep(0.02)
    raise AssertionError("the importer never started writing")


@pytest.mark.slow
@pytest.mark.parametrize(
    "sql_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)], indirect=True
)
def test_a_killed_import_leaves_all_or_nothing_and_a_rerun_completes(sql_url: str) -> None:
    args = [sys.executable, "-c", IMPORTER, sql_url, str(N_KILL)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "start"
    _wait_until_writing(sql_url)
    time.sleep(0.3)  # some rows are written by now; all 200k take seconds
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL  # it was killed, not finished
    assert _count(sql_url) in (0, N_KILL)
    # the import dropped the secondary indexes to rebuild them at the end: they are back
    indexes = {"ix_activities_consultant", "ix_activities_program"}
    assert indexes <= _index_names(sql_url)
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert _count(sql_url) == N_KILL
    assert indexes <= _index_names(sql_url)
    assert _sql(sql_url, "SELECT COUNT(DISTINCT id) FROM activities") == [(N_KILL,)]
    _assert_cells_match_rows(sql_url)


def _assert_cells_match_rows(url: str) -> None:
    """The per-unit cell totals hold exactly what the live rows add up to."""
    store = SQLStore(url)
    try:
        dims = ["county", "consultation_type", "fiscal_year", "kind"]
        measures = [("*", ()), ("hours", ()), ("children_benefiting", ("consultation",))]
        for extra in ([], ["region"]):
            _assert_same_from_cells_and_rows(store, dims + extra, measures)
    finally:
        store.close()


def _assert_same_from_cells_and_rows(
    store: SQLStore, dims: list[str], measures: list[tuple[str, tuple[str, ...]]]
) -> None:
    store.use_cells = True
    try:
        from_cells = {
            (u, c): rest for u, c, *rest in store.partial_sums("consultant", dims, measures, {})
        }
        store.use_cells = False
        from_rows = {
            (u, c): rest for u, c, *rest in store.partial_sums("consultant", dims, measures, {})
        }
        assert from_cells == from_rows and from_cells
    finally:
        store.use_cells = True


# -- concurrent writers -------------------------------------------------------------------------
WRITER = textwrap.dedent(
    """
    import datetime as dt, sys
    import iecmhc_tracker as it
    from iecmhc_tracker._synthetic import generate

    url, seed = sys.argv[1], int(sys.argv[2])
    today = dt.date(2026, 11, 1)
    p = it.load_profile("illinois")
    own = list(generate(p, 10_000, consultants=50, seed=seed, today=today))
    shared = list(generate(p, 500, consultants=5, seed=999, today=today))
    with it.Tracker.open(url, p, today=lambda: today) as t:
        r = t.record_many(shared + own, batch_size=500)
    print(r.inserted, r.duplicates, len(r.rejected))
    """
)


@pytest.mark.slow
@pytest.mark.services
def test_two_processes_writing_at_once_lose_nothing(pg_url: str) -> None:
    from conftest import wipe_database

    wipe_database(pg_url)
    SQLStore(pg_url).close()  # schema first, so both writers start writing at once
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, pg_url, str(seed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    results = [tuple(int(x) for x in o[0].split()) for o in outs]
    # every record went in once: the 500 shared ones by exactly one of the two writers
    assert sum(r[0] for r in results) == 20_500 and all(r[2] == 0 for r in results)
    assert _count(pg_url) == 20_500
    _assert_cells_match_rows(pg_url)


@pytest.mark.services
def test_a_bulk_load_on_postgresql_refreshes_planner_statistics(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # without statistics after a bulk load, PostgreSQL plans the aggregation badly
    from conftest import wipe_database
    from iecmhc_tracker._rows import to_row

    wipe_database(pg_url)
    monkeypatch.setattr(PostgreSQLDialect, "analyze_after", 50)
    profile = it.load_profile("illinois")
    acts = it.generate_activities(profile, 60, consultants=5, today=dt.date(2026, 11, 1))
    store = SQLStore(pg_url)
    try:
        store.insert([to_row(a, profile) for a in acts])
        with store.engine.connect() as conn:
            analysed = (
                conn.exec_driver_sql(
                    "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL"
                )
                .scalars()
                .all()
            )
    finally:
        store.close()
    assert {"activities", "activity_referrals"} <= set(analysed)


def test_a_query_reads_the_totals_when_they_hold_it(tmp_path: Path) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 's.db'}")
    store.insert(make_rows(n=30))
    statements: list[str] = []
    sa.event.listen(
        store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]), named=False
    )
    asks = [
        ("unit_cells", ["county", "consultation_type", "fiscal_year"]),
        ("unit_cells", ["region"]),
        ("activities", ["setting", "fiscal_year"]),
        ("activities", ["quarter"]),
    ]
    for table, dims in asks:
        statements.clear()
        store.partial_sums("consultant", dims, [("*", ()), ("hours", ())], {})
        (select,) = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert f"FROM {table} " in select + " ", (table, select)
    store.close()


def test_big_batches_keep_the_cell_totals_exact(sql_url: str) -> None:
    # enough groups that PostgreSQL stages them through COPY instead of one upsert each
    from iecmhc_tracker._synthetic import generate
    from iecmhc_tracker.stores.sql import rollup

    profile = it.load_profile("illinois")
    acts = list(generate(profile, 6000, consultants=300, seed=5, today=dt.date(2026, 11, 1)))
    rows = [to_row(a, profile) for a in acts]
    assert len(rollup.groups(rows[:4000])) > PostgreSQLDialect.stage_from
    store = SQLStore(sql_url)
    store.insert(rows[:4000])
    store.insert(rows[2000:])  # half already stored: duplicates, the rest added to the totals
    store.delete(rows[0]["id"], by="c-x", at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    store.close()
    _assert_cells_match_rows(sql_url)
    assert _sql(sql_url, "SELECT SUM(n) FROM unit_cells") == [(5999,)]


# -- deferred secondary indexes -----------------------------------------------------------------
def _index_names(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return {ix["name"] for ix in sa.inspect(engine).get_indexes("activities")}
    finally:
        engine.dispose()


def _drops(store: SQLStore) -> list[str]:
    """Every DROP INDEX the store's engine sends from now on."""
    sent: list[str] = []

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def _seen(_c: object, _cur: object, statement: str, *_rest: object) -> None:
        if statement.lstrip().upper().startswith("DROP INDEX"):
            sent.append(statement)

    return sent


class _Stream:
    """Rows from a generator, with the length hint ``record_many``'s batches carry."""

    def __init__(self, rows: list[dict[str, object]], fail_at: int | None = None) -> None:
        self._rows, self._fail_at = rows, fail_at

    def __iter__(self):  # type: ignore[no-untyped-def]
        for i, row in enumerate(self._rows):
            if i == self._fail_at:
                raise RuntimeError("the source failed")
            yield row

    def __length_hint__(self) -> int:
        return len(self._rows)


def test_a_batch_as_big_as_the_table_rebuilds_its_indexes(
    sql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from iecmhc_tracker.stores.sql import bulk

    monkeypatch.setattr(bulk, "DEFER_FROM", 100)
    rows = make_rows(n=700)
    store = SQLStore(sql_url)
    wanted = _index_names(sql_url)
    assert {"ix_activities_consultant", "ix_activities_program"} <= wanted
    drops = _drops(store)
    deferring = store.dialect.transactional_ddl  # MariaDB would commit at DDL
    # by consultant, by program, by engagement
    assert len(store.schema.activities.indexes) == 3

    store.insert(_Stream(rows[:400]))  # an empty table: the indexes are built afresh
    assert len(drops) == (3 if deferring else 0)
    assert _index_names(sql_url) == wanted
    store.insert(rows[400:600])  # smaller than the table: kept up to date row by row
    assert len(drops) == (3 if deferring else 0)
    # a failing source rolls the drop back with the rows
    with pytest.raises(Exception, match="the source failed"):
        store.insert(_Stream(make_rows(n=900, seed=7), fail_at=800))
    assert _index_names(sql_url) == wanted
    assert _count(sql_url) == 600
    # a batch holding stored ids goes the careful way after the optimistic one rolled back
    assert store.insert(_Stream(rows))[0] == [r["id"] for r in rows[600:]]
    assert _index_names(sql_url) == wanted
    store.close()
    assert _count(sql_url) == 700
    _assert_cells_match_rows(sql_url)


def test_record_many_tells_the_store_how_big_a_batch_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from iecmhc_tracker._synthetic import generate
    from iecmhc_tracker.stores.sql import bulk

    monkeypatch.setattr(bulk, "DEFER_FROM", 100)
    profile = it.load_profile("illinois")
    today = dt.date(2026, 11, 1)
    acts = list(generate(profile, 500, consultants=20, seed=3, today=today))
    url = f"sqlite:///{tmp_path / 't.db'}"
    with it.Tracker.open(url, profile, today=lambda: today) as tracker:
        assert isinstance(tracker.store, SQLStore)
        drops = _drops(tracker.store)
        tracker.record_many(a for a in acts[:150])  # a generator: its length is unknown
        assert drops == []
        tracker.record_many(acts[150:], batch_size=200)  # batches of 200, 150 stored
        assert len(drops) == 3  # the first batch (200 >= 150) only, its three indexes
    assert _count(url) == 500
    assert {"ix_activities_consultant", "ix_activities_program"} <= _index_names(url)


OPENER = textwrap.dedent(
    """
    import pathlib, sys, time
    from iecmhc_tracker.stores import SQLStore
    url, go, me = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
    pathlib.Path(f"{go}.{me}.ready").touch()
    while not go.exists():  # both processes open the store at the same moment
        time.sleep(0.001)
    store = SQLStore(url)
    print(store.migrated_from or "new")
    store.close()
    """
)


@pytest.mark.services
@pytest.mark.parametrize("scheme", ["mariadb+pymysql", "mysql+pymysql"])
def test_two_processes_open_one_empty_mariadb_store_at_once(
    mariadb_url: str, scheme: str, tmp_path: Path
) -> None:
    # both names of the dialect take the migration lock: without it both create the tables
    from conftest import wipe_database

    wipe_database(mariadb_url)
    url = scheme + "://" + mariadb_url.split("://", 1)[1]
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, url, str(go), str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"go.{i}.ready").exists() for i in range(2)):
        assert time.monotonic() < deadline, "the openers did not start"
        time.sleep(0.01)
    go.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-1500:] for o in outs]
    # one created the schema, the other found it current
    assert sorted(o[0].strip() for o in outs) == sorted(["new", SCHEMA_VERSION])
    assert _sql(mariadb_url, "SELECT version_num FROM alembic_version") == [(SCHEMA_VERSION,)]
    assert _tables(mariadb_url) == TABLES


def test_store_urls_take_the_usual_aliases() -> None:
    # postgres:// is what hosting services hand out; every MySQL-family name gets utf8mb4
    from iecmhc_tracker.stores.sql.engine import normalise_url

    assert normalise_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgres+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    for url in ("mysql://u@h/db", "mariadb://u@h/db", "mariadb+pymysql://u@h/db"):
        u = normalise_url(url)
        assert u.get_backend_name() in ("mysql", "mariadb") and u.query["charset"] == "utf8mb4"
    with pytest.raises(it.StorageError, match="unknown store scheme"):
        it.Tracker.open("oracle://u@h/db")


def test_a_big_batch_of_engagements_rebuilds_their_indexes(
    sql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from iecmhc_tracker._record_rows import engagement_row
    from iecmhc_tracker.stores.sql import records

    monkeypatch.setattr(records, "DEFER_FROM", 100)
    profile = it.load_profile("illinois")
    data = it.generate_engagements(profile, 150, consultants=9, seed=1, linked=False)
    rows = [engagement_row(e, profile) for e in data.engagements]
    store = SQLStore(sql_url)
    wanted = {"ix_engagements_consultant", "ix_engagements_program"}
    store.insert_records({"engagement": rows})
    engine = sa.create_engine(sql_url)
    have = {ix["name"] for ix in sa.inspect(engine).get_indexes("engagements")}
    engine.dispose()
    assert wanted <= have
    assert len(store.records("engagement")) == 150
    assert store.insert_records({"engagement": rows}) == ([], [r["id"] for r in rows], [])
    store.close()
