"""Every difference between the databases the SQL store runs on, one object per database.

The rest of ``stores/sql`` asks its :class:`Dialect` instead of testing a dialect's name:
how a writer begins, whether rows can be locked, insert-or-ignore, the random key of
``max_cells`` bounding, the bulk writer, the cell-totals upsert, the migration lock, the
statistics refresh and the engine's options. SQLAlchemy names a ``mysql://`` URL's dialect
``"mysql"`` and a ``mariadb://`` URL's ``"mariadb"``: both get :class:`MySQLDialect`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import StaticPool

from ..._errors import StorageError

Tuples = Iterable[tuple[Any, ...]]

_CACHE_KIB = 64 * 1024  # SQLite page cache (the default is 2 MiB)
_BIG_BATCH = 10_000  # rows from which a SQLite insert sorts by id and widens the cache
_BIG_CACHE_KIB = 512 * 1024
_MIGRATION_LOCK = "iecmhc_tracker_migrate"


class Dialect:
    """What the store needs to know of one database; subclasses fill in the differences."""

    #: the SQLAlchemy dialect names this object serves
    names: ClassVar[tuple[str, ...]] = ()
    #: ``SELECT … FOR UPDATE`` locks rows (SQLite locks the whole database at BEGIN instead)
    row_locks: ClassVar[bool] = True
    #: DDL joins the transaction, so indexes may be dropped and rebuilt inside a batch
    transactional_ddl: ClassVar[bool] = True
    #: the driver's positional parameter mark
    mark: ClassVar[str] = "%s"
    #: rows from which a bulk insert refreshes the planner's statistics (0: never)
    analyze_after: ClassVar[int] = 0
    #: cell-total groups from which the upsert is staged through a temporary table (0: never)
    stage_from: ClassVar[int] = 0

    def __init__(self, sa_dialect: sa.Dialect) -> None:
        self._quote = sa_dialect.identifier_preparer.quote

    def quote(self, name: str) -> str:
        return str(self._quote(name))

    # -- engine ------------------------------------------------------------------------
    @classmethod
    def engine_options(cls, url: URL) -> dict[str, Any]:
        return {"connect_args": {"connect_timeout": 10}, "pool_pre_ping": True}

    @classmethod
    def set_up(cls, engine: Engine) -> None:
        """Hooks on a new engine (SQLite's pragmas and BEGIN)."""

    # -- transactions ------------------------------------------------------------------
    def begin_options(self, *, write: bool) -> dict[str, Any]:
        """Execution options for a transaction (SQLite: a writer locks at BEGIN)."""
        return {}

    @contextlib.contextmanager
    def migration_lock(self, conn: Connection) -> Iterator[None]:
        """Hold a lock no other opener of the database gets meanwhile; ``conn`` has no
        transaction yet, and this begins the one the migration runs in."""
        with conn.begin():
            yield

    def lock_rows(self, q: sa.Select[Any]) -> sa.Select[Any]:
        return q.with_for_update() if self.row_locks else q

    # -- writes ------------------------------------------------------------------------
    def insert_ignore(self, table: sa.Table, values: Mapping[str, Any]) -> sa.Executable:
        raise NotImplementedError

    def date(self, value: dt.date) -> Any:
        """A date as the raw driver takes it."""
        return value

    def stamp(self, value: dt.datetime) -> Any:
        """A naive UTC timestamp as the raw driver takes it."""
        return value

    #: whether ``bulk_insert`` reads its tuples while the database works on the ones sent
    streams: ClassVar[bool] = False

    def bulk_insert(
        self, conn: Connection, table: sa.Table, cols: Sequence[str], tuples: Tuples
    ) -> None:
        """Write many rows given as tuples in ``cols`` order, by the fastest path."""
        q = self.quote
        sql = (
            f"INSERT INTO {q(table.name)} ({', '.join(q(c) for c in cols)}) "
            f"VALUES ({', '.join([self.mark] * len(cols))})"
        )
        batch = list(tuples)
        if batch:
            # executemany: multi-row INSERTs with pymysql, one prepared statement on SQLite
            conn.exec_driver_sql(sql, batch)

    def upsert_sql(
        self, table: str, cols: Sequence[str], summed: Sequence[str], source: str
    ) -> str:
        """``INSERT … source`` adding ``summed`` onto an existing row with the same key ``k``."""
        q = self.quote
        sets = ", ".join(f"{q(c)} = {q(table)}.{q(c)} + excluded.{q(c)}" for c in summed)
        return (
            self._insert_head(table, cols, source) + f"ON CONFLICT ({q('k')}) DO UPDATE SET {sets}"
        )

    def _insert_head(self, table: str, cols: Sequence[str], source: str) -> str:
        q = self.quote
        if not source:
            source = f"VALUES ({', '.join([self.mark] * len(cols))})"
        return f"INSERT INTO {q(table)} ({', '.join(q(c) for c in cols)}) {source} "

    def upsert(
        self,
        conn: Connection,
        table: sa.Table,
        cols: Sequence[str],
        summed: Sequence[str],
        params: list[tuple[Any, ...]],
    ) -> None:
        """Add ``params`` (tuples in ``cols`` order) onto the table by key."""
        # executemany: one prepared statement on SQLite, multi-row statements with pymysql,
        # a pipeline with psycopg
        conn.exec_driver_sql(self.upsert_sql(table.name, cols, summed, ""), params)

    def random_key(self) -> sa.ColumnElement[Any]:
        """A per-row random number from an OS-seeded generator in the database."""
        return sa.func.random()

    def refresh_statistics(self, conn: Connection, tables: Sequence[sa.Table]) -> None:
        """Bring the planner's statistics up to date after a bulk load."""


class SQLiteDialect(Dialect):
    names = ("sqlite",)
    row_locks = False
    mark = "?"

    @classmethod
    def engine_options(cls, url: URL) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        path = url.database
        if path and path != ":memory:" and not path.startswith("file:"):
            try:
                Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the folder for {path}: {exc}") from None
        else:
            kwargs["poolclass"] = StaticPool
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        return kwargs

    @classmethod
    def set_up(cls, engine: Engine) -> None:
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

    def begin_options(self, *, write: bool) -> dict[str, Any]:
        return {"sqlite_begin": "IMMEDIATE"} if write else {}

    @contextlib.contextmanager
    def migration_lock(self, conn: Connection) -> Iterator[None]:
        # BEGIN IMMEDIATE: the database lock from the start, so two openers migrate in turn
        with conn.execution_options(sqlite_begin="IMMEDIATE").begin():
            yield

    def insert_ignore(self, table: sa.Table, values: Mapping[str, Any]) -> sa.Executable:
        return sqlite_insert(table).values(**values).on_conflict_do_nothing()

    def date(self, value: dt.date) -> Any:
        return value.isoformat()  # what SQLAlchemy's SQLite Date type reads back

    def stamp(self, value: dt.datetime) -> Any:
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")

    def bulk_insert(
        self, conn: Connection, table: sa.Table, cols: Sequence[str], tuples: Tuples
    ) -> None:
        batch = list(tuples)
        big = len(batch) > _BIG_BATCH
        if big:
            # a big batch in key order touches the primary-key index page by page instead of
            # at random, and a larger page cache for its duration keeps the indexes in memory
            batch.sort(key=lambda t: t[0])
            conn.exec_driver_sql(f"PRAGMA cache_size=-{_BIG_CACHE_KIB}")
        try:
            super().bulk_insert(conn, table, cols, batch)
        finally:
            if big:
                conn.exec_driver_sql(f"PRAGMA cache_size=-{_CACHE_KIB}")


class PostgreSQLDialect(Dialect):
    names = ("postgresql",)
    analyze_after = 50_000  # without statistics the aggregation picked a 3.7x slower plan
    stage_from = 1000  # a statement per group cost ~60 µs a group; COPY far less
    streams = True

    def insert_ignore(self, table: sa.Table, values: Mapping[str, Any]) -> sa.Executable:
        return pg_insert(table).values(**values).on_conflict_do_nothing()

    @contextlib.contextmanager
    def migration_lock(self, conn: Connection) -> Iterator[None]:
        with conn.begin():
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(74110203)")
            yield

    def bulk_insert(
        self, conn: Connection, table: sa.Table, cols: Sequence[str], tuples: Tuples
    ) -> None:
        # binary COPY: no text formatting on our side nor parsing on the server's; the tuples
        # may be a generator, read while the server inserts the rows already sent
        q = self.quote
        raw = conn.connection.driver_connection
        sql = f"COPY {q(table.name)} ({', '.join(q(c) for c in cols)}) FROM STDIN (FORMAT BINARY)"
        with raw.cursor() as cur, cur.copy(sql) as copy:  # type: ignore[union-attr]
            copy.set_types([copy_type(table.c[c].type) for c in cols])
            for t in tuples:
                copy.write_row(t)

    def upsert(
        self,
        conn: Connection,
        table: sa.Table,
        cols: Sequence[str],
        summed: Sequence[str],
        params: list[tuple[Any, ...]],
    ) -> None:
        if len(params) <= self.stage_from:
            super().upsert(conn, table, cols, summed, params)
            return
        q = self.quote
        names = ", ".join(q(c) for c in cols)
        stage = q(f"{table.name}_in")
        cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            # session-local and emptied after use; a rolled-back savepoint may take it away
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {q(table.name)})")
            with cur.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
                for p in params:
                    copy.write_row(p)
            source = f"SELECT * FROM {stage} ORDER BY k"
            cur.execute(self.upsert_sql(table.name, cols, summed, source))
            cur.execute(f"DELETE FROM {stage}")
        finally:
            cur.close()

    def refresh_statistics(self, conn: Connection, tables: Sequence[sa.Table]) -> None:
        conn.exec_driver_sql(f"ANALYZE {', '.join(self.quote(t.name) for t in tables)}")


class MySQLDialect(Dialect):
    """MySQL and MariaDB (SQLAlchemy's ``mysql`` and ``mariadb`` dialects alike)."""

    names = ("mysql", "mariadb")
    transactional_ddl = False  # any DDL commits the transaction

    @classmethod
    def engine_options(cls, url: URL) -> dict[str, Any]:
        return {**super().engine_options(url), "pool_recycle": 3600}

    @contextlib.contextmanager
    def migration_lock(self, conn: Connection) -> Iterator[None]:
        # DDL commits implicitly: a named lock keeps two openers apart instead
        got = conn.exec_driver_sql(f"SELECT GET_LOCK('{_MIGRATION_LOCK}', 60)").scalar()
        conn.commit()  # the lock belongs to the session and outlives this transaction
        if got != 1:
            raise StorageError(
                "another process has been migrating this database for 60 s; try again when "
                "it has finished"
            )
        try:
            with conn.begin():
                yield
        finally:
            conn.exec_driver_sql(f"SELECT RELEASE_LOCK('{_MIGRATION_LOCK}')")
            conn.commit()

    def insert_ignore(self, table: sa.Table, values: Mapping[str, Any]) -> sa.Executable:
        return table.insert().values(**values).prefix_with("IGNORE")

    def upsert_sql(
        self, table: str, cols: Sequence[str], summed: Sequence[str], source: str
    ) -> str:
        q = self.quote
        sets = ", ".join(f"{q(c)} = {q(c)} + VALUES({q(c)})" for c in summed)
        return self._insert_head(table, cols, source) + f"ON DUPLICATE KEY UPDATE {sets}"

    def random_key(self) -> sa.ColumnElement[Any]:
        # RAND() alone is seeded per connection from the clock; seed it from the OS instead
        return sa.func.rand(secrets.randbits(31))


_DIALECTS: tuple[type[Dialect], ...] = (SQLiteDialect, PostgreSQLDialect, MySQLDialect)
BY_NAME: dict[str, type[Dialect]] = {n: d for d in _DIALECTS for n in d.names}


def dialect_class(name: str) -> type[Dialect]:
    """The dialect class for a SQLAlchemy dialect or backend name."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise StorageError(
            f"the SQL store does not support {name!r} databases; use sqlite, postgresql, "
            "mysql or mariadb"
        ) from None


def dialect_for(engine: Engine | Connection) -> Dialect:
    return dialect_class(engine.dialect.name)(engine.dialect)


def copy_type(t: sa.types.TypeEngine[Any]) -> str:
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
