"""The SQL store: SQLite (embedded default), PostgreSQL and MariaDB/MySQL through SQLAlchemy
Core.

One schema (``schema``) for every dialect, migrated by the alembic environment in
``migrations/`` when the store opens (``migrate``). Writes take the dialect's fast path
(``bulk``); aggregates are computed in the database (``aggregate``); every driver or
SQLAlchemy failure leaves this package as a :class:`StorageError` (``errors``); every
difference between databases is asked of the store's dialect object (``dialects``).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import operator
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..._columns import ROW_COLUMNS, Row
from ..._errors import ConflictError, NotFound, StorageError
from ..contract import (
    STAMP_KEYS,
    Cell,
    CellStat,
    Dosage,
    Filters,
    InsertOutcome,
    MeasureSpec,
    PartialSum,
    check_partitions,
    refusal,
)
from . import aggregate, bulk, records, rollup
from .dialects import dialect_for
from .engine import create_engine, shown
from .errors import map_errors, retry
from .migrate import check_current, migrate
from .schema import SCHEMA_VERSION, build_schema
from .timestamps import aware, utc_naive, utc_now

#: the ledger's one currency, and the accounting basis of its rows (partitions of data)
LEDGER_CURRENCY = "epsilon"
LEDGER_BASIS = "data"
#: the columns a write sets beside ``ROW_COLUMNS``
STAMP_COLUMNS = ("recorded_at", "updated_at", "updated_by", "deleted_at", "deleted_by")


class SQLStore:
    """A :class:`~iecmhc_tracker.stores.Store` in a SQL database.

    ``SQLStore("sqlite:///tracker.db")``, ``"postgresql+psycopg://user@host/db"`` (or
    ``postgres://…``) or ``"mysql+pymysql://user@host/db"`` / ``"mariadb+pymysql://…"``.
    ``table_prefix`` names every table (``"iecmhc_"`` → ``iecmhc_activities`` …) so the store
    can live in an application's own database; ``metadata`` (a SQLAlchemy ``MetaData``)
    receives the tables instead of a new one. The schema is created or migrated on open;
    with ``create=False`` nothing is created or migrated, and a database without tracker
    tables under the prefix (or at an older schema) is refused with :class:`NotInitialised`.
    ``.engine`` and ``.metadata`` are public; :meth:`joined` runs the store's work inside a
    transaction the application holds. Aggregates come from the per-unit cell totals
    (``rollup``) whenever those hold the query; ``use_cells = False`` makes them read the
    activity rows instead (the same answer, slower).
    """

    def __init__(
        self,
        url: str,
        *,
        table_prefix: str = "",
        metadata: sa.MetaData | None = None,
        migrate_on_open: bool = True,
        create: bool = True,
    ) -> None:
        self.url = url
        self._shown = shown(url)
        self.schema = build_schema(table_prefix, metadata)
        self.metadata = self.schema.metadata
        self.engine = create_engine(url)
        self.dialect = dialect_for(self.engine)
        self._closed = False
        self._lock = threading.RLock()
        self._columns = (*ROW_COLUMNS, *STAMP_COLUMNS)
        self._joined: contextvars.ContextVar[Connection | None] = contextvars.ContextVar(
            f"iecmhc_joined_{id(self)}", default=None
        )
        #: answer aggregates from the per-unit cell totals where they cover the query
        self.use_cells = True
        #: the schema revision this library brings the database to
        self.revision = SCHEMA_VERSION
        #: the revision the database had when opened ("" when it was new)
        self.migrated_from = SCHEMA_VERSION
        try:
            if not create:
                check_current(self.engine, self.schema, self._shown)
            elif migrate_on_open:
                self.migrated_from = migrate(self.engine, self.schema, self._shown)
        except BaseException:
            self.engine.dispose()
            raise

    @property
    def table_prefix(self) -> str:
        return self.schema.prefix

    # -- transactions ----------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("this store is closed; open the tracker again")

    @contextlib.contextmanager
    def joined(self, connection: Connection) -> Iterator[None]:
        """Within this block, the store's reads and writes run inside ``connection``'s
        transaction (each in a SAVEPOINT: a refused write undoes only itself), so that the
        application's own rows and the tracker's commit or roll back together."""
        token = self._joined.set(connection)
        try:
            yield
        finally:
            self._joined.reset(token)

    @contextlib.contextmanager
    def _tx(self, *, write: bool = False) -> Iterator[Connection]:
        """One transaction; on SQLite a writer takes the lock at BEGIN (IMMEDIATE)."""
        self._check_open()
        joined = self._joined.get()
        with map_errors(self._shown):
            if joined is not None:
                with joined.begin_nested():
                    yield joined
                return
            opts = self.dialect.begin_options(write=write)
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
        source = bulk.Replay(rows)
        outcome = retry(lambda: self._insert_once(source, atomic, expected))
        after = self.dialect.analyze_after
        if after and len(outcome[0]) >= after:
            with map_errors(self._shown), self.engine.connect() as conn:
                self.dialect.refresh_statistics(
                    conn, (self.schema.activities, self.schema.referrals)
                )
                conn.commit()
        return outcome

    def _insert_once(self, source: bulk.Replay, atomic: bool, expected: int) -> InsertOutcome:
        with self._tx(write=True) as conn:
            outcome, written = bulk.insert_batch(
                conn,
                self.dialect,
                self.schema,
                source,
                atomic=atomic,
                expected=expected,
                now=utc_naive(utc_now()) or dt.datetime.min,
            )
            if written:
                self._bump(conn)
            return outcome

    def insert_records(
        self, batch: Mapping[str, Iterable[Row]], *, atomic: bool = True
    ) -> InsertOutcome:
        kinds = {kind: list(rows) for kind, rows in batch.items()}
        for kind in kinds:
            if kind != "activity":
                records.table_of(self.schema, kind)  # refuses an unknown type first
        return retry(lambda: self._insert_records_once(kinds, atomic))

    def _insert_records_once(self, kinds: Mapping[str, list[Row]], atomic: bool) -> InsertOutcome:
        ins: list[str] = []
        dup: list[str] = []
        conf: list[str] = []
        now = utc_naive(utc_now()) or dt.datetime.min
        try:
            with self._tx(write=True) as conn:
                for kind, rows in kinds.items():
                    if kind == "activity":
                        (i, d, c), _ = bulk.insert_batch(
                            conn,
                            self.dialect,
                            self.schema,
                            bulk.Replay(rows),
                            atomic=atomic,
                            expected=len(rows),
                            now=now,
                        )
                    else:
                        table = records.table_of(self.schema, kind)
                        i, d, c = records.insert(conn, self.dialect, table, rows, now)
                    ins += i
                    dup += d
                    conf += c
                if conf and atomic:
                    raise _Rollback
                if ins:
                    self._bump(conn)
        except _Rollback:
            return [], dup, conf
        return ins, dup, conf

    def records(
        self,
        kind: str,
        *,
        consultant: str | None = None,
        program: str | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[Row]:
        t = records.table_of(self.schema, kind)
        conds = []
        if consultant is not None:
            conds.append(t.c.consultant == consultant)
        if program is not None:
            conds.append(t.c.program == program)
        if ids is not None:
            conds.append(t.c.id.in_([str(i) for i in ids]))
        with self._tx() as conn:
            out = records.read(conn, t, sa.and_(*conds) if conds else None)
        out.sort(key=lambda r: r["id"])
        return out

    def dosage(self, ids: Sequence[str] | None = None) -> Dosage:
        with self._tx() as conn:
            return dict(records.dosage(conn, self.schema, ids))

    def amend(self, id: str, row: Row, *, by: str, at: Any) -> None:
        a, r = self.schema.activities, self.schema.referrals
        with self._tx(write=True) as conn:
            old = self._live_for_update(conn, id)
            moved = rollup.merge(rollup.groups([old], -1), rollup.groups([row]))
            rollup.add(conn, self.schema.cells, moved)
            values = {c: row[c] for c in ROW_COLUMNS if c != "id"}
            values.update(updated_at=utc_naive(at), updated_by=by, deleted_at=None, deleted_by=None)
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
            rollup.add(conn, self.schema.cells, rollup.groups([old], -1))
            conn.execute(
                a.update().where(a.c.id == id).values(deleted_at=utc_naive(at), deleted_by=by)
            )
            self._bump(conn)

    def restore(self, id: str, *, by: str, at: Any) -> None:
        a = self.schema.activities
        names = (*rollup.GRAIN, *rollup.MEASURES, "deleted_at")
        with self._tx(write=True) as conn:
            q = sa.select(*(a.c[c] for c in names)).where(a.c.id == str(id))
            found = conn.execute(self.dialect.lock_rows(q)).first()
            if found is None:
                raise NotFound(f"no stored activity has id {id}")
            old = dict(zip(names, found, strict=True))
            if old.pop("deleted_at") is None:
                raise ConflictError(f"activity {id} is not deleted; there is nothing to restore")
            rollup.add(conn, self.schema.cells, rollup.groups([old]))
            conn.execute(
                a.update()
                .where(a.c.id == id)
                .values(deleted_at=None, deleted_by=None, updated_at=utc_naive(at), updated_by=by)
            )
            self._bump(conn)

    def _live_for_update(self, conn: Connection, id: str) -> Row:
        """The live row's grain and measures (locked until the transaction ends)."""
        a = self.schema.activities
        names = (*rollup.GRAIN, *rollup.MEASURES)
        q = sa.select(*(a.c[c] for c in names)).where(a.c.id == str(id), a.c.deleted_at.is_(None))
        found = conn.execute(self.dialect.lock_rows(q)).first()
        if found is None:
            raise NotFound(f"no stored activity has id {id}")
        return dict(zip(names, found, strict=True))

    def rebuild_cells(self) -> int:
        """Recompute the per-unit cell totals from the activity rows; returns their number.

        Only needed after rows were written into the activity table by other means than this
        store (every write of the store keeps the totals in step itself)."""
        with self._tx(write=True) as conn:
            return rollup.rebuild(conn, self.schema.activities, self.schema.cells)

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
                row[c] = aware(row[c])
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
        self, unit: str, dims: Sequence[str], measures: Sequence[MeasureSpec], filters: Filters
    ) -> sa.Subquery:
        return aggregate.partials(
            self.schema, unit, dims, measures, filters, use_cells=self.use_cells
        )

    def partial_sums(
        self, unit: str, dims: Sequence[str], measures: Sequence[MeasureSpec], filters: Filters
    ) -> list[PartialSum]:
        p = self._partials(unit, dims, measures, filters)
        with self._tx() as conn:
            return aggregate.partial_sums(conn, p, len(dims), len(measures))

    def cell_stats(
        self, unit: str, dims: Sequence[str], measures: Sequence[MeasureSpec], filters: Filters
    ) -> list[CellStat]:
        p = self._partials(unit, dims, measures, filters)
        with self._tx() as conn:
            return aggregate.cell_stats(conn, p, len(dims), len(measures))

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
        if norm not in aggregate.NORMS:
            raise ValueError(f"norm must be None, 'l1', 'l2' or 'max_cells', not {norm!r}")
        p = self._partials(unit, dims, measures, filters)
        with self._tx() as conn:
            return aggregate.bounded_sums(
                conn,
                self.dialect,
                p,
                len(dims),
                len(measures),
                clip=clip,
                norm=norm,
                norm_bounds=norm_bounds,
                max_cells=max_cells,
            )

    # -- ledger ----------------------------------------------------------------------
    def charge(
        self,
        analyst: str,
        partitions: Sequence[str],
        amount: float,
        *,
        allotment: float,
        cap: float,
        entry: Mapping[str, Any],
    ) -> dict[str, float]:
        parts = check_partitions(partitions)
        return retry(lambda: self._charge_once(analyst, parts, amount, allotment, cap, entry))

    def _charge_once(
        self,
        analyst: str,
        parts: list[str],
        amount: float,
        allotment: float,
        cap: float,
        entry: Mapping[str, Any],
    ) -> dict[str, float]:
        b, tot, led = self.schema.balances, self.schema.partitions, self.schema.ledger
        text = json.dumps(dict(entry), sort_keys=True, default=str)
        lock = self.dialect.lock_rows
        mine: dict[str, float] = {}
        everyone: dict[str, float] = {}
        with self._tx(write=True) as conn:
            # every charge locks the partitions' rows first, then the analyst's, each in sorted
            # order (row locks on PostgreSQL/MariaDB, BEGIN IMMEDIATE on SQLite): charges on a
            # common partition serialise, whoever the analysts are, and never deadlock
            for part in parts:
                conn.execute(self.dialect.insert_ignore(tot, {"partition": part, "spent": 0.0}))
                q = sa.select(tot.c.spent).where(tot.c.partition == part)
                everyone[part] = float(conn.execute(lock(q)).scalar_one())
            for part in parts:
                key = {"analyst": analyst, "period": part, "currency": LEDGER_CURRENCY}
                conn.execute(self.dialect.insert_ignore(b, {**key, "spent": 0.0}))
                q = sa.select(b.c.spent).where(*(b.c[k] == v for k, v in key.items()))
                mine[part] = float(conn.execute(lock(q)).scalar_one())
            refused = refusal(analyst, amount, allotment, cap, mine, everyone)
            if refused is not None:
                raise refused
            for part in parts:
                conn.execute(
                    tot.update()
                    .where(tot.c.partition == part)
                    .values(spent=tot.c.spent + float(amount))
                )
                conn.execute(
                    b.update()
                    .where(
                        b.c.analyst == analyst,
                        b.c.period == part,
                        b.c.currency == LEDGER_CURRENCY,
                    )
                    .values(spent=b.c.spent + float(amount))
                )
            conn.execute(
                led.insert().values(
                    analyst=analyst,
                    period=LEDGER_BASIS,
                    currency=LEDGER_CURRENCY,
                    partitions=json.dumps(parts),
                    amount=float(amount),
                    at=utc_naive(utc_now()),
                    entry=text,
                )
            )
            return {p: mine[p] + amount for p in parts}

    def spent(self, analyst: str | None, partition: str) -> float:
        b, tot = self.schema.balances, self.schema.partitions
        if analyst is None:
            q = sa.select(tot.c.spent).where(tot.c.partition == partition)
        else:
            q = sa.select(b.c.spent).where(
                b.c.analyst == analyst, b.c.period == partition, b.c.currency == LEDGER_CURRENCY
            )
        with self._tx() as conn:
            value = conn.execute(q).scalar()
        return float(value or 0.0)

    def ledger(self, analyst: str) -> list[dict[str, Any]]:
        led = self.schema.ledger
        q = (
            sa.select(led.c.analyst, led.c.partitions, led.c.amount, led.c.at, led.c.entry)
            .where(led.c.analyst == analyst)
            .order_by(led.c.id)
        )
        with self._tx() as conn:
            return [
                {
                    "analyst": rec[0],
                    "partitions": json.loads(rec[1]) if rec[1] else [],
                    "amount": float(rec[2]),
                    "at": aware(rec[3]),
                    "entry": json.loads(rec[4]),
                }
                for rec in conn.execute(q)
            ]

    def publish(self, entry: Mapping[str, Any]) -> int:
        pub = self.schema.publications
        text = json.dumps(dict(entry), sort_keys=True, default=str)
        with self._tx(write=True) as conn:
            result = conn.execute(pub.insert().values(at=utc_naive(utc_now()), entry=text))
            key = result.inserted_primary_key
            return int(key[0]) if key else 0

    def publications(self) -> list[dict[str, Any]]:
        pub = self.schema.publications
        with self._tx() as conn:
            rows = conn.execute(sa.select(pub.c.id, pub.c.at, pub.c.entry).order_by(pub.c.id))
            return [{"seq": int(r[0]), "at": aware(r[1]), "entry": json.loads(r[2])} for r in rows]

    def profile_stamp(self) -> dict[str, Any] | None:
        with self._tx() as conn:
            return self._read_stamp(conn)

    def _read_stamp(self, conn: Connection) -> dict[str, Any] | None:
        t = self.schema.profile
        cols = [t.c[k] for k in STAMP_KEYS]
        rec = conn.execute(sa.select(*cols, t.c.at).where(t.c.slot == 1)).first()
        if rec is None:
            return None
        return {**{k: str(v) for k, v in zip(STAMP_KEYS, rec, strict=False)}, "at": aware(rec[-1])}

    def stamp_profile(self, stamp: Mapping[str, str], *, replace: bool = False) -> dict[str, Any]:
        values = {k: str(stamp[k]) for k in STAMP_KEYS}
        t = self.schema.profile
        try:
            with self._tx(write=True) as conn:
                held = self._read_stamp(conn)
                if held is not None and not replace:
                    return held
                at = utc_naive(utc_now())
                if held is None:
                    conn.execute(t.insert().values(slot=1, at=at, **values))
                else:
                    conn.execute(t.update().where(t.c.slot == 1).values(at=at, **values))
                stored = self._read_stamp(conn)
        except StorageError:
            # another opener stamped it first (the primary key refused this row): theirs holds
            held = self.profile_stamp()
            if held is None or replace:
                raise
            return held
        assert stored is not None
        return stored

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


class _Rollback(Exception):
    """A conflict in an atomic ``insert_records`` batch: undo all of it."""
