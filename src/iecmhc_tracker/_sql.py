"""The SQL store: SQLite (embedded default), PostgreSQL and MariaDB/MySQL through SQLAlchemy Core.

One schema (``_schema``) for every dialect, migrated by the alembic environment shipped in
``migrations/`` when the store opens. Writes take each dialect's fast path; aggregates are
computed in the database (rows never come to Python for them); every driver or SQLAlchemy
failure leaves this module as a :class:`StorageError`.

Randomness of ``bounded_sums(norm="max_cells")``: each (unit, cell) partial sum gets a key
from the database's own generator — SQLite ``random()`` (seeded by SQLite from the operating
system's entropy), PostgreSQL ``random()`` (seeded per session from ``pg_strong_random``),
MariaDB/MySQL ``RAND(seed)`` with a seed drawn per call from :mod:`secrets` — and a unit keeps
the ``max_cells`` cells with the smallest keys (``ROW_NUMBER() OVER (PARTITION BY unit ORDER
BY key)``). Keys are independent draws, so a unit's choice is uniform over its cells and does
not depend on any other unit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import operator
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from . import _rollup
from ._errors import BudgetExceeded, NotFound, SchemaVersionError, StorageError, TrackerError
from ._rows import ROW_COLUMNS, Row
from ._schema import SCHEMA_VERSION, Schema, build_schema
from ._store import (
    Cell,
    CellStat,
    Filters,
    InsertOutcome,
    InsertScreen,
    MeasureSpec,
    PartialSum,
)

EPS = 1e-9
T = TypeVar("T")
MIGRATIONS = Path(__file__).with_name("migrations")
#: the columns a write sets beside ``ROW_COLUMNS``
STAMP_COLUMNS = ("recorded_at", "updated_at", "updated_by", "deleted_at", "deleted_by")
#: row columns in bulk-insert order: every column but ``date``, which is converted per dialect
_NO_DATE = tuple(c for c in ROW_COLUMNS if c != "date")
_CHUNK = 5000  # ids per IN list when looking up stored rows
_CACHE_KIB = 64 * 1024  # SQLite page cache (the default is 2 MiB)
_BIG_BATCH = 10_000  # rows from which a SQLite insert sorts by id and widens the cache
_BIG_CACHE_KIB = 512 * 1024
_DEFER_FROM = 50_000  # rows from which a batch may drop and rebuild the secondary indexes
_ANALYZE_AFTER = 50_000  # rows from which a PostgreSQL insert refreshes planner statistics
_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


def _driver_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [sa.exc.SQLAlchemyError, sqlite3.Error, CommandError]
    with contextlib.suppress(ImportError):
        import psycopg

        errors.append(psycopg.Error)
    with contextlib.suppress(ImportError):
        import pymysql

        errors.append(pymysql.Error)
    return tuple(errors)


_DRIVER_ERRORS = _driver_errors()


def _integrity_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [sa.exc.IntegrityError]
    with contextlib.suppress(ImportError):
        import psycopg  # COPY runs on the raw connection, so its errors come unwrapped

        errors.append(psycopg.IntegrityError)
    return tuple(errors)


_INTEGRITY_ERRORS = _integrity_errors()


@contextlib.contextmanager
def map_errors(url: str) -> Iterator[None]:
    """Translate every SQLAlchemy or driver failure into :class:`StorageError`."""
    try:
        yield
    except TrackerError:
        raise
    except _DRIVER_ERRORS as exc:
        orig = getattr(exc, "orig", None) or exc
        text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError) and _unreachable(text):
            raise StorageError(
                f"cannot reach the database at {url}: {text}; check that the server runs "
                "and the URL is right"
            ) from exc
        raise StorageError(f"the database at {url} failed: {text}") from exc


def _unreachable(text: str) -> bool:
    t = text.lower()
    return any(
        s in t
        for s in (
            "connection refused",
            "could not connect",
            "can't connect",
            "unable to open database",
            "connection failed",
            "timeout",
            "name or service not known",
            "unknown database",
            "does not exist",
        )
    )


def normalise_url(url: str) -> URL:
    """The SQLAlchemy URL for a store URL: default drivers, utf8mb4 on MySQL."""
    try:
        u = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StorageError(f"{url!r} is not a valid database URL: {exc}") from None
    if u.drivername in _DRIVERS:
        u = u.set(drivername=_DRIVERS[u.drivername])
    if u.get_backend_name() in ("mysql", "mariadb") and "charset" not in u.query:
        u = u.update_query_dict({"charset": "utf8mb4"})
    return u


def create_engine(url: str) -> Engine:
    """An engine for ``url`` set up for the store (SQLite: parent dirs, WAL, FKs, timeout)."""
    u = normalise_url(url)
    backend = u.get_backend_name()
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        path = u.database
        if path and path != ":memory:" and not path.startswith("file:"):
            try:
                Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the folder for {path}: {exc}") from None
        else:
            kwargs["poolclass"] = StaticPool
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    elif backend == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": 10}
        kwargs["pool_pre_ping"] = True
    elif backend in ("mysql", "mariadb"):
        kwargs["connect_args"] = {"connect_timeout": 10}
        kwargs["pool_pre_ping"] = True
        kwargs["pool_recycle"] = 3600
    try:
        engine = sa.create_engine(u, **kwargs)
    except (sa.exc.ArgumentError, ImportError, sa.exc.NoSuchModuleError) as exc:
        raise StorageError(f"cannot use {url!r}: {exc}") from None
    if backend == "sqlite":
        _sqlite_setup(engine)
    return engine


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # we issue BEGIN ourselves (see _on_begin): pysqlite's implicit one cannot IMMEDIATE
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL survives a killed process (not a power cut) and is much faster
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # 64 MiB page cache (default 2 MiB): a bulk import's index pages stay in memory
        cur.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # writers take the database lock at BEGIN, so two writers never deadlock on upgrade
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


def alembic_config(conn: Connection, prefix: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    cfg.attributes["table_prefix"] = prefix
    return cfg


def migrate(engine: Engine, schema: Schema, url: str) -> str:
    """Bring the database to the library's schema; returns the revision it was at ("" if new).

    Refuses (``SchemaVersionError``) a database stamped with a revision this library does not
    know, which is what a newer library leaves behind.
    """
    with map_errors(url), _migration_lock(engine) as conn:
        cfg = alembic_config(conn, schema.prefix)
        ctx = MigrationContext.configure(conn, opts={"version_table": schema.version_table})
        current = ctx.get_current_revision()
        if current == SCHEMA_VERSION:
            return current
        script = ScriptDirectory.from_config(cfg)
        if current is not None:
            try:
                script.get_revision(current)
            except CommandError:
                raise SchemaVersionError(
                    f"the database at {url} has schema revision {current!r}, which this "
                    f"version of iecmhc_tracker does not know (it understands up to "
                    f"{SCHEMA_VERSION!r}); upgrade iecmhc_tracker to open it"
                ) from None
        elif sa.inspect(conn).has_table(schema.activities.name):
            # tables made by metadata.create_all() in an embedding application: adopt them
            _ensure_meta(conn, schema)
            if sa.inspect(conn).has_table(schema.cells.name):
                command.stamp(cfg, "head")
                _rollup.rebuild(conn, schema.activities, schema.cells)
                return ""
            # made by a release before the cell totals: take it from there
            command.stamp(cfg, "0001")
            command.upgrade(cfg, "head")
            return ""
        command.upgrade(cfg, "head")
        return current or ""


def _ensure_meta(conn: Connection, schema: Schema) -> None:
    have = {r[0] for r in conn.execute(sa.select(schema.meta.c.key))}
    for key, value in (("data_version", 0), ("schema_version", int(SCHEMA_VERSION))):
        if key not in have:
            conn.execute(schema.meta.insert().values(key=key, value=value))


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """One connection in one transaction, holding a lock no other opener gets meanwhile."""
    name = engine.dialect.name
    opts = {"sqlite_begin": "IMMEDIATE"} if name == "sqlite" else {}
    with engine.connect().execution_options(**opts) as conn:
        if name == "mysql":
            # DDL commits implicitly in MySQL: a named lock keeps two openers apart instead
            conn.exec_driver_sql("SELECT GET_LOCK('iecmhc_tracker_migrate', 60)")
            conn.commit()  # the lock belongs to the session and outlives this transaction
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.exec_driver_sql("SELECT RELEASE_LOCK('iecmhc_tracker_migrate')")
                conn.commit()
            return
        with conn.begin():
            if name == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(74110203)")
            yield conn


class SQLStore:
    """A :class:`~iecmhc_tracker._store.Store` in a SQL database.

    ``SQLStore("sqlite:///tracker.db")``, ``"postgresql+psycopg://user@host/db"`` or
    ``"mysql+pymysql://user@host/db"``. ``table_prefix`` names every table (``"iecmhc_"`` →
    ``iecmhc_activities`` …) so the store can live in an application's own database;
    ``metadata`` (a SQLAlchemy ``MetaData``) receives the tables instead of a new one. The
    schema is created or migrated on open. ``.engine`` and ``.metadata`` are public.
    Aggregates come from the per-unit cell totals (``_rollup``) whenever those hold the query;
    ``use_cells = False`` makes them read the activity rows instead (the same answer, slower).
    """

    def __init__(
        self,
        url: str,
        *,
        table_prefix: str = "",
        metadata: sa.MetaData | None = None,
        migrate_on_open: bool = True,
    ) -> None:
        self.url = url
        self._shown = normalise_url(url).render_as_string(hide_password=True)
        self.schema = build_schema(table_prefix, metadata)
        self.metadata = self.schema.metadata
        self.engine = create_engine(url)
        self.dialect = self.engine.dialect.name
        self._closed = False
        self._lock = threading.RLock()
        self._columns = (*ROW_COLUMNS, *STAMP_COLUMNS)
        #: answer aggregates from the per-unit cell totals where they cover the query
        self.use_cells = True
        #: the schema revision this library brings the database to
        self.revision = SCHEMA_VERSION
        #: the revision the database had when opened ("" when it was new)
        self.migrated_from = SCHEMA_VERSION
        try:
            if migrate_on_open:
                self.migrated_from = migrate(self.engine, self.schema, self._shown)
        except BaseException:
            self.engine.dispose()
            raise

    # -- plumbing --------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("this store is closed; open the tracker again")

    @contextlib.contextmanager
    def _tx(self, *, write: bool = False) -> Iterator[Connection]:
        """One transaction; on SQLite a writer takes the lock at BEGIN (IMMEDIATE)."""
        self._check_open()
        with map_errors(self._shown):
            opts = {"sqlite_begin": "IMMEDIATE"} if write and self.dialect == "sqlite" else {}
            with self.engine.connect().execution_options(**opts) as conn, conn.begin():
                yield conn

    def _bump(self, conn: Connection) -> None:
        m = self.schema.meta
        conn.execute(m.update().where(m.c.key == "data_version").values(value=m.c.value + 1))

    # -- writes ----------------------------------------------------------------------
    def insert(self, rows: Iterable[Row], *, atomic: bool = True) -> InsertOutcome:
        # rows may be a generator: PostgreSQL's COPY then streams them while they are still
        # being produced (the server inserts on its own core meanwhile); a retry replays them
        # a list's length, or the hint of a stream that knows it (record_many's batches)
        expected = operator.length_hint(rows)
        source = _Replay(rows)
        outcome = _retry(lambda: self._insert_once(source, atomic, expected))
        if self.dialect == "postgresql" and len(outcome[0]) >= _ANALYZE_AFTER:
            self._analyze()
        return outcome

    def _analyze(self) -> None:
        # a bulk load leaves the planner without statistics until autovacuum comes round;
        # without them the aggregation picks an index scan and an on-disk sort (3.7x slower)
        names = ", ".join(
            self._quote(t.name) for t in (self.schema.activities, self.schema.referrals)
        )
        with map_errors(self._shown), self.engine.connect() as conn:
            conn.exec_driver_sql(f"ANALYZE {names}")
            conn.commit()

    def _insert_once(self, source: _Replay, atomic: bool, expected: int) -> InsertOutcome:
        with self._tx(write=True) as conn:
            # optimistic: nothing of the batch stored yet is the common case of an import; a
            # stored id makes the insert fail, a repeated id with other content undoes it,
            # and then the batch is looked up
            screen = InsertScreen()
            try:
                with conn.begin_nested():
                    rebuild = self._defer_indexes(conn, expected)
                    written = self._bulk_insert(conn, screen.first_seen(source))
                    for index in rebuild:
                        index.create(conn)
                    if screen.conflicts:
                        raise _Undo
            except _CAREFUL_AFTER:
                pass
            else:
                if written:
                    self._bump(conn)
                return screen.inserted, screen.duplicates, []
            rows = source.all()
            stored = self._stored_hashes(conn, list({r["id"] for r in rows}))
            screen = InsertScreen(stored.get)
            pending = list(screen.first_seen(rows))
            inserted, duplicates, conflicts = screen.inserted, screen.duplicates, screen.conflicts
            if conflicts and atomic:
                return [], duplicates, conflicts
            if pending:
                self._bulk_insert(conn, pending)
                self._bump(conn)
            return inserted, duplicates, conflicts

    def _defer_indexes(self, conn: Connection, expected: int) -> list[sa.Index]:
        """Drop the activity table's secondary indexes ahead of a batch of ``expected`` rows
        when building them afresh afterwards costs less than keeping them up to date row by
        row; returns the indexes to build once the rows are in.

        Building an index sorts once; keeping one costs a descent per row (on 1M rows about
        5 µs a row and index on PostgreSQL, against about 2.5 µs a table row to build). So the
        indexes go when the batch is at least as big as the table already is: an initial load
        or a store's first big import. The drop is part of the transaction, so a failed or
        killed import leaves them in place. On PostgreSQL the drop locks the table against
        readers until the batch commits. MariaDB/MySQL commit at any DDL, so never there."""
        if expected < _DEFER_FROM or self.dialect not in ("sqlite", "postgresql"):
            return []
        if expected < _rollup.live_rows(conn, self.schema.cells):
            return []
        table = self.schema.activities
        present = {ix["name"] for ix in sa.inspect(conn).get_indexes(table.name)}
        dropped = [ix for ix in table.indexes if ix.name in present]
        for ix in dropped:
            ix.drop(conn)
        return dropped

    def _stored_hashes(self, conn: Connection, ids: list[str]) -> dict[str, str]:
        a = self.schema.activities
        out: dict[str, str] = {}
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            q = sa.select(a.c.id, a.c.content_hash).where(a.c.id.in_(chunk))
            out.update({r[0]: r[1] for r in conn.execute(q)})
        return out

    def _bulk_insert(self, conn: Connection, rows: Iterable[Row]) -> int:
        """Write the rows (and their referrals and cell totals); returns how many."""
        now = _now().astimezone(dt.UTC).replace(tzinfo=None)
        act_name = self.schema.activities.name
        ref_name = self.schema.referrals.name
        # the other stamp columns are NULL on a new row: left out, they cost nothing to bind
        cols = (*_NO_DATE, "date", "recorded_at")
        # itemgetter builds each tuple in C: these loops run once per imported row
        get = operator.itemgetter(*_NO_DATE)
        if self.dialect == "postgresql":
            refs: list[tuple[str, str, int]] = []
            tally = _rollup.Tally()
            count = 0
            tail: tuple[Any, ...] = (now,)

            def streamed() -> Iterator[tuple[Any, ...]]:
                # the referrals and the cell totals are gathered here, while the server is
                # busy with the rows already sent, rather than in a pass after the COPY
                nonlocal count
                for r in rows:
                    count += 1
                    tally.add(r)
                    if r["referrals"]:
                        refs.extend(_referrals((r,)))
                    yield (*get(r), r["date"], *tail)

            self._pg_copy(conn, self.schema.activities, cols, streamed())
            if refs:
                ref_cols = ("activity_id", "resource_type", "count")
                self._pg_copy(conn, self.schema.referrals, ref_cols, refs)
            _rollup.add(conn, self.schema.cells, tally.groups())
            return count
        rows = list(rows)
        if not rows:
            return 0
        if self.dialect == "sqlite":
            # dates as ISO text (what SQLAlchemy's SQLite Date type reads back)
            tail = (now.strftime("%Y-%m-%d %H:%M:%S.%f"),)
            tuples = [(*get(r), r["date"].isoformat(), *tail) for r in rows]
        else:
            tail = (now,)
            tuples = [(*get(r), r["date"], *tail) for r in rows]
        mark = "?" if self.dialect == "sqlite" else "%s"
        q = self._quote
        sql = (
            f"INSERT INTO {q(act_name)} ({', '.join(q(c) for c in cols)}) "
            f"VALUES ({', '.join([mark] * len(cols))})"
        )
        big = self.dialect == "sqlite" and len(tuples) > _BIG_BATCH
        if big:
            # a big batch in id order touches the primary-key index page by page instead of
            # at random, and a larger page cache for its duration keeps the indexes in memory
            tuples.sort(key=lambda t: t[0])
            conn.exec_driver_sql(f"PRAGMA cache_size=-{_BIG_CACHE_KIB}")
        try:
            # executemany: one prepared statement on SQLite, multi-row INSERTs with pymysql
            conn.exec_driver_sql(sql, tuples)
        finally:
            if big:
                conn.exec_driver_sql(f"PRAGMA cache_size=-{_CACHE_KIB}")
        refs = _referrals(rows)
        if refs:
            conn.exec_driver_sql(
                f"INSERT INTO {q(ref_name)} (activity_id, resource_type, {q('count')}) "
                f"VALUES ({mark}, {mark}, {mark})",
                refs,
            )
        _rollup.add(conn, self.schema.cells, _rollup.groups(rows))
        return len(rows)

    def _quote(self, name: str) -> str:
        return str(self.engine.dialect.identifier_preparer.quote(name))

    def _pg_copy(
        self,
        conn: Connection,
        table: sa.Table,
        cols: Sequence[str],
        tuples: Iterable[tuple[Any, ...]],
    ) -> None:
        q = self._quote
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:  # type: ignore[union-attr]
            # binary: no text formatting on our side nor parsing on the server's
            sql = (
                f"COPY {q(table.name)} ({', '.join(q(c) for c in cols)}) FROM STDIN (FORMAT BINARY)"
            )
            with cur.copy(sql) as copy:
                copy.set_types([_pg_type(table.c[c].type) for c in cols])
                for t in tuples:
                    copy.write_row(t)

    def amend(self, id: str, row: Row, *, by: str, at: Any) -> None:
        a, r = self.schema.activities, self.schema.referrals
        with self._tx(write=True) as conn:
            old = self._live_for_update(conn, id)
            moved = _rollup.merge(_rollup.groups([old], -1), _rollup.groups([row]))
            _rollup.add(conn, self.schema.cells, moved)
            values = {c: row[c] for c in ROW_COLUMNS if c != "id"}
            values.update(
                updated_at=_utc_naive(at), updated_by=by, deleted_at=None, deleted_by=None
            )
            conn.execute(a.update().where(a.c.id == id).values(**values))
            conn.execute(r.delete().where(r.c.activity_id == id))
            refs = [
                {"activity_id": id, "resource_type": k, "count": n}
                for k, n in row["referrals"].items()
            ]
            if refs:
                conn.execute(r.insert(), refs)
            self._bump(conn)

    def delete(self, id: str, *, by: str, at: Any) -> None:
        a = self.schema.activities
        with self._tx(write=True) as conn:
            old = self._live_for_update(conn, id)
            _rollup.add(conn, self.schema.cells, _rollup.groups([old], -1))
            conn.execute(
                a.update().where(a.c.id == id).values(deleted_at=_utc_naive(at), deleted_by=by)
            )
            self._bump(conn)

    def _live_for_update(self, conn: Connection, id: str) -> Row:
        """The live row's grain and measures (locked until the transaction ends)."""
        a = self.schema.activities
        names = (*_rollup.GRAIN, *_rollup.MEASURES)
        q = sa.select(*(a.c[c] for c in names)).where(a.c.id == str(id), a.c.deleted_at.is_(None))
        if self.dialect != "sqlite":
            q = q.with_for_update()
        found = conn.execute(q).first()
        if found is None:
            raise NotFound(f"no stored activity has id {id}")
        return dict(zip(names, found, strict=True))

    def rebuild_cells(self) -> int:
        """Recompute the per-unit cell totals from the activity rows; returns their number.

        Only needed after rows were written into the activity table by other means than this
        store (every write of the store keeps the totals in step itself)."""
        with self._tx(write=True) as conn:
            return _rollup.rebuild(conn, self.schema.activities, self.schema.cells)

    # -- reads -----------------------------------------------------------------------
    def get(self, id: str) -> Row | None:
        a = self.schema.activities
        with self._tx() as conn:
            rows = self._read(conn, a.c.id == str(id), include_deleted=True)
        return rows[0] if rows else None

    def rows(
        self,
        *,
        consultant: str | None = None,
        program: str | None = None,
        include_deleted: bool = False,
    ) -> list[Row]:
        if (consultant is None) == (program is None):
            raise ValueError("give exactly one of consultant= or program=")
        a = self.schema.activities
        cond = a.c.consultant == consultant if consultant is not None else a.c.program == program
        with self._tx() as conn:
            out = self._read(conn, cond, include_deleted=include_deleted)
        out.sort(key=lambda r: (r["date"], r["id"]))
        return out

    def _read(
        self, conn: Connection, cond: sa.ColumnElement[bool], *, include_deleted: bool
    ) -> list[Row]:
        a, r = self.schema.activities, self.schema.referrals
        if not include_deleted:
            cond = sa.and_(cond, a.c.deleted_at.is_(None))
        rows: dict[str, Row] = {}
        for rec in conn.execute(sa.select(*(a.c[c] for c in self._columns)).where(cond)):
            row = dict(zip(self._columns, rec, strict=True))
            row["referrals"] = {}
            row["hours"] = None if row["hours"] is None else float(row["hours"])
            for c in ("recorded_at", "updated_at", "deleted_at"):
                row[c] = _aware(row[c])
            rows[row["id"]] = row
        if rows:
            q = (
                sa.select(r.c.activity_id, r.c.resource_type, r.c["count"])
                .join(a, a.c.id == r.c.activity_id)
                .where(cond)
                .order_by(r.c.activity_id, r.c.resource_type)
            )
            for aid, code, n in conn.execute(q):
                if aid in rows:
                    rows[aid]["referrals"][code] = int(n)
        return list(rows.values())

    # -- aggregation -----------------------------------------------------------------
    def _partials(
        self,
        unit: str,
        dims: Sequence[str],
        measures: Sequence[MeasureSpec],
        filters: Filters,
    ) -> sa.Subquery:
        """Per (unit, cell): ``u``, ``d0..``, ``n`` and ``s0..`` — the partial sums, in SQL."""
        if unit not in ("consultant", "program"):
            raise ValueError(f"unit must be 'consultant' or 'program', not {unit!r}")
        if self.use_cells and _rollup.covers(unit, dims, filters, [c for c, _ in measures]):
            return self._partials_from_cells(unit, dims, measures, filters)
        a, r = self.schema.activities, self.schema.referrals
        by_referral = "resource_type" in dims or "resource_type" in filters
        src: sa.FromClause = a.join(r, r.c.activity_id == a.c.id) if by_referral else a
        conds: list[sa.ColumnElement[bool]] = [a.c.deleted_at.is_(None), a.c[unit].is_not(None)]
        for key, allowed in filters.items():
            if key == "date_from":
                conds.append(a.c.date >= dt.date.fromisoformat(str(allowed)))
            elif key == "date_to":
                conds.append(a.c.date <= dt.date.fromisoformat(str(allowed)))
            elif key.startswith("extra."):
                name = key[len("extra.") :]
                conds.append(
                    sa.or_(
                        sa.false(),
                        *(
                            a.c.tags.like(f"%|{_like(name)}={_like(str(v))}|%", escape="\\")
                            for v in _values(allowed)
                        ),
                    )
                )
            else:
                col = r.c.resource_type if key == "resource_type" else a.c[key]
                conds.append(_in(col, _values(allowed)))
        cols: list[sa.ColumnElement[Any]] = [a.c[unit].label("u")]
        dim_cols = [
            (r.c.resource_type if d == "resource_type" else a.c[d]).label(f"d{i}")
            for i, d in enumerate(dims)
        ]
        cols.extend(dim_cols)
        cols.append(sa.func.count().label("n"))
        for j, (column, kinds) in enumerate(measures):
            ok = a.c.kind.in_(list(kinds)) if kinds else None
            if column in ("*", "#units"):
                value: sa.ColumnElement[Any] = sa.literal(1)
            elif column == "referral_total" and by_referral:
                value = sa.func.coalesce(r.c["count"], 0)
            else:
                value = sa.func.coalesce(a.c[column], 0)
            if ok is not None:
                value = sa.case((ok, value), else_=0)
            agg = sa.func.max(value) if column == "#units" else sa.func.sum(value)
            cols.append(agg.label(f"s{j}"))
        return (
            sa.select(*cols)
            .select_from(src)
            .where(*conds)
            .group_by(a.c[unit], *(c.element for c in dim_cols))
            .subquery("p")
        )

    def _partials_from_cells(
        self,
        unit: str,
        dims: Sequence[str],
        measures: Sequence[MeasureSpec],
        filters: Filters,
    ) -> sa.Subquery:
        """``_partials`` from the per-unit cell totals: the same columns, far fewer rows read."""
        t = self.schema.cells
        conds = [t.c.n > 0, t.c[unit].is_not(None)]
        conds.extend(_in(t.c[key], _values(allowed)) for key, allowed in filters.items())
        dim_cols = [t.c[d].label(f"d{i}") for i, d in enumerate(dims)]
        cols: list[sa.ColumnElement[Any]] = [t.c[unit].label("u"), *dim_cols]
        cols.append(sa.func.sum(t.c.n).label("n"))
        for j, (column, kinds) in enumerate(measures):
            value: sa.ColumnElement[Any] = (
                sa.literal(1) if column == "#units" else t.c.n if column == "*" else t.c[column]
            )
            if kinds:
                value = sa.case((t.c.kind.in_(list(kinds)), value), else_=0)
            agg = sa.func.max(value) if column == "#units" else sa.func.sum(value)
            cols.append(agg.label(f"s{j}"))
        return (
            sa.select(*cols)
            .where(*conds)
            .group_by(t.c[unit], *(c.element for c in dim_cols))
            .subquery("p")
        )

    def partial_sums(
        self, unit: str, dims: Sequence[str], measures: Sequence[MeasureSpec], filters: Filters
    ) -> list[PartialSum]:
        p = self._partials(unit, dims, measures, filters)
        m = len(measures)
        with self._tx() as conn:
            out = [
                (
                    rec[0],
                    _cell(rec[1 : 1 + len(dims)]),
                    int(rec[1 + len(dims)]),
                    tuple(float(v or 0) for v in rec[2 + len(dims) : 2 + len(dims) + m]),
                )
                for rec in conn.execute(sa.select(p))
            ]
        return out

    def cell_stats(
        self, unit: str, dims: Sequence[str], measures: Sequence[MeasureSpec], filters: Filters
    ) -> list[CellStat]:
        p = self._partials(unit, dims, measures, filters)
        k, m = len(dims), len(measures)
        d = [p.c[f"d{i}"] for i in range(k)]
        s = [p.c[f"s{j}"] for j in range(m)]
        q = sa.select(
            *d,
            sa.func.sum(p.c.n),
            sa.func.count(),
            *(sa.func.sum(c) for c in s),
            *(sa.func.max(c) for c in s),
        ).group_by(*d)
        with self._tx() as conn:
            out = [
                (
                    _cell(rec[:k]),
                    int(rec[k] or 0),
                    int(rec[k + 1]),
                    tuple(float(v or 0) for v in rec[k + 2 : k + 2 + m]),
                    tuple(float(v or 0) for v in rec[k + 2 + m : k + 2 + 2 * m]),
                )
                for rec in conn.execute(q)
                if rec[k + 1]
            ]
        return out

    def bounded_sums(
        self,
        unit: str,
        dims: Sequence[str],
        measures: Sequence[MeasureSpec],
        filters: Filters,
        *,
        clip: Sequence[float],
        norm: str | None,
        norm_bounds: Sequence[float],
        max_cells: int | None,
    ) -> list[tuple[Cell, tuple[float, ...]]]:
        if norm not in (None, "l1", "l2", "max_cells"):
            raise ValueError(f"norm must be None, 'l1', 'l2' or 'max_cells', not {norm!r}")
        k, m = len(dims), len(measures)
        p = self._partials(unit, dims, measures, filters)
        d = [p.c[f"d{i}"] for i in range(k)]
        # 1. clip every (unit, cell) partial sum to [0, clip_j]
        clipped = [
            sa.case(
                (p.c[f"s{j}"] < 0, sa.literal(0.0)),
                (p.c[f"s{j}"] > float(clip[j]), sa.literal(float(clip[j]))),
                else_=p.c[f"s{j}"],
            ).label(f"c{j}")
            for j in range(m)
        ]
        extra: list[sa.ColumnElement[Any]] = []
        if norm == "max_cells" and max_cells is not None:
            extra.append(
                sa.func.row_number()
                .over(partition_by=p.c.u, order_by=self._random_key())
                .label("rk")
            )
        c1 = sa.select(p.c.u, *d, *clipped, *extra).subquery("c1")
        dd = [c1.c[f"d{i}"] for i in range(k)]
        cs = [c1.c[f"c{j}"] for j in range(m)]
        conds: list[sa.ColumnElement[bool]] = []
        if norm == "max_cells" and max_cells is not None:
            conds.append(c1.c.rk <= int(max_cells))
        # 2. scale each unit's vector of measure j to norm_bounds[j] (window over the unit)
        scaled: list[sa.ColumnElement[Any]] = []
        for j, c in enumerate(cs):
            if norm in ("l1", "l2") and norm_bounds[j] > 0:
                bound = float(norm_bounds[j])
                if norm == "l1":
                    size: sa.ColumnElement[Any] = sa.func.sum(c).over(partition_by=c1.c.u)
                else:
                    size = sa.func.sqrt(sa.func.sum(c * c).over(partition_by=c1.c.u))
                scaled.append(sa.case((size > bound, c * bound / size), else_=c).label(f"v{j}"))
            else:
                scaled.append(c.label(f"v{j}"))
        c2 = sa.select(*dd, *scaled).where(*conds).subquery("c2")
        d2 = [c2.c[f"d{i}"] for i in range(k)]
        q = sa.select(
            *d2, sa.func.count(), *(sa.func.sum(c2.c[f"v{j}"]) for j in range(m))
        ).group_by(*d2)
        with self._tx() as conn:
            out = [
                (_cell(rec[:k]), tuple(float(v or 0) for v in rec[k + 1 : k + 1 + m]))
                for rec in conn.execute(q)
                if rec[k]
            ]
        return out

    def _random_key(self) -> sa.ColumnElement[Any]:
        if self.dialect in ("mysql", "mariadb"):
            # RAND() alone is seeded per connection from the clock; seed it from the OS instead
            return sa.func.rand(secrets.randbits(31))
        return sa.func.random()

    # -- ledger ----------------------------------------------------------------------
    def charge(
        self,
        analyst: str,
        period: str,
        currency: str,
        amount: float,
        limit: float,
        entry: Mapping[str, Any],
    ) -> float:
        return _retry(lambda: self._charge_once(analyst, period, currency, amount, limit, entry))

    def _charge_once(
        self,
        analyst: str,
        period: str,
        currency: str,
        amount: float,
        limit: float,
        entry: Mapping[str, Any],
    ) -> float:
        b, led = self.schema.balances, self.schema.ledger
        key = {"analyst": analyst, "period": period, "currency": currency}
        text = json.dumps(dict(entry), sort_keys=True, default=str)
        with self._tx(write=True) as conn:
            # the balance row is what concurrent charges serialise on (row lock / BEGIN IMMEDIATE)
            conn.execute(self._insert_ignore(b, {**key, "spent": 0.0}))
            q = sa.select(b.c.spent).where(*(b.c[k] == v for k, v in key.items()))
            if self.dialect != "sqlite":
                q = q.with_for_update()
            spent = float(conn.execute(q).scalar_one())
            if spent + amount > limit + EPS:
                raise BudgetExceeded(
                    f"analyst {analyst!r} has {max(limit - spent, 0):.4g} {currency} left in "
                    f"period {period}; this release needs {amount:.4g}",
                    requested=amount,
                    remaining=max(limit - spent, 0.0),
                )
            conn.execute(
                b.update()
                .where(*(b.c[k] == v for k, v in key.items()))
                .values(spent=b.c.spent + float(amount))
            )
            conn.execute(
                led.insert().values(**key, amount=float(amount), at=_utc_naive(_now()), entry=text)
            )
            return spent + amount

    def _insert_ignore(self, table: sa.Table, values: Mapping[str, Any]) -> sa.Executable:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).values(**values).on_conflict_do_nothing()
        if self.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table).values(**values).on_conflict_do_nothing()
        return table.insert().values(**values).prefix_with("IGNORE")

    def spent(self, analyst: str, period: str, currency: str) -> float:
        b = self.schema.balances
        with self._tx() as conn:
            value = conn.execute(
                sa.select(b.c.spent).where(
                    b.c.analyst == analyst, b.c.period == period, b.c.currency == currency
                )
            ).scalar()
        return float(value or 0.0)

    def ledger(self, analyst: str) -> list[dict[str, Any]]:
        led = self.schema.ledger
        q = (
            sa.select(
                led.c.analyst, led.c.period, led.c.currency, led.c.amount, led.c.at, led.c.entry
            )
            .where(led.c.analyst == analyst)
            .order_by(led.c.id)
        )
        with self._tx() as conn:
            return [
                {
                    "analyst": rec[0],
                    "period": rec[1],
                    "currency": rec[2],
                    "amount": float(rec[3]),
                    "at": _aware(rec[4]),
                    "entry": json.loads(rec[5]),
                }
                for rec in conn.execute(q)
            ]

    def data_version(self) -> int:
        m = self.schema.meta
        with self._tx() as conn:
            value = conn.execute(sa.select(m.c.value).where(m.c.key == "data_version")).scalar()
        return int(value or 0)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self.engine.dispose()

    def __repr__(self) -> str:
        return f"SQLStore({self._shown!r}, table_prefix={self.schema.prefix!r})"


# -- helpers -----------------------------------------------------------------------------
class _Undo(Exception):
    """Roll back an optimistic insert (a repeated id in the batch carried other content)."""


#: what sends an optimistic insert down the careful path: a stored id, or an in-batch conflict
_CAREFUL_AFTER: tuple[type[BaseException], ...] = (*_INTEGRITY_ERRORS, _Undo)


class _Replay:
    """The rows of one insert, read once from their source and kept, so that a retried
    transaction (or the careful path after an optimistic one) sees every row again."""

    def __init__(self, rows: Iterable[Row]) -> None:
        self._source = iter(rows)
        self._kept: list[Row] = []

    def __iter__(self) -> Iterator[Row]:
        yield from self._kept
        keep = self._kept.append
        for row in self._source:
            keep(row)
            yield row

    def all(self) -> list[Row]:
        for _ in self:  # read whatever the source still holds
            pass
        return self._kept


def _pg_type(t: sa.types.TypeEngine[Any]) -> str:
    """The PostgreSQL type a binary COPY sends a column's values as."""
    if isinstance(t, sa.BigInteger):
        return "int8"
    if isinstance(t, sa.Integer):
        return "int4"
    if isinstance(t, sa.DateTime):
        return "timestamp"
    if isinstance(t, sa.Date):
        return "date"
    if isinstance(t, sa.Float):
        return "float8"
    return "text"  # String and Text: varchar takes text's binary form


def _referrals(rows: Iterable[Row]) -> list[tuple[str, str, int]]:
    return [(r["id"], code, n) for r in rows for code, n in r["referrals"].items()]


_RETRIES = 5
_RETRY_SQLSTATES = frozenset({"40001", "40P01", "23505"})  # serialization, deadlock, duplicate
_RETRY_MYSQL = frozenset({1062, 1205, 1213})  # duplicate key, lock wait timeout, deadlock


def _retry(fn: Callable[[], T]) -> T:
    """Run one write transaction, again when it lost a race (the same id stored meanwhile by
    another writer, a deadlock): the database rolled all of it back, so redoing it is safe."""
    for attempt in range(_RETRIES):
        try:
            return fn()
        except StorageError as exc:
            if attempt == _RETRIES - 1 or not _retryable(exc.__cause__):
                raise
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _retryable(exc: BaseException | None) -> bool:
    orig = getattr(exc, "orig", None) or exc
    if orig is None:
        return False
    if getattr(orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in _RETRY_MYSQL:
        return True
    return isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig)


def _values(allowed: Sequence[Any] | str) -> list[Any]:
    return [allowed] if isinstance(allowed, str) else list(allowed)


def _in(col: sa.ColumnElement[Any], values: list[Any]) -> sa.ColumnElement[bool]:
    present = [v for v in values if v is not None]
    cond: sa.ColumnElement[bool] = col.in_(present) if present else sa.false()
    if len(present) != len(values):
        cond = sa.or_(cond, col.is_(None))
    return cond


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _cell(values: Sequence[Any]) -> Cell:
    return tuple(values)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc_naive(value: Any) -> dt.datetime | None:
    """Timestamps are stored as naive UTC (portable across dialects)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        raise StorageError(f"a timestamp must be a datetime, not {type(value).__name__}")
    stamp: dt.datetime = value
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC).replace(tzinfo=None)
    return stamp


def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # pragma: no cover - SQLAlchemy parses SQLite's text
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    stamp: dt.datetime = value
    return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)
