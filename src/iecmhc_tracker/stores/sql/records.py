"""Engagements and requests in SQL: their bulk writes and reads, and the dosage each
engagement gets from the live activities linked to it.

Writes apply the contract's insert rule (:class:`InsertScreen`) optimistically first, as the
activity import does (``bulk``): a new batch goes straight to the dialect's bulk writer, and
only a stored id sends it down the careful path that looks the batch up.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..._columns import Row
from ..contract import RECORD_KINDS, InsertOutcome, InsertScreen
from .bulk import DEFER_FROM
from .dialects import Dialect
from .errors import INTEGRITY_ERRORS
from .schema import Schema

_CHUNK = 5000  # ids per IN list


def table_of(schema: Schema, kind: str) -> sa.Table:
    if kind not in RECORD_KINDS:
        raise ValueError(f"unknown record type {kind!r}; expected one of {', '.join(RECORD_KINDS)}")
    return schema.engagements if kind == "engagement" else schema.requests


def _columns(table: sa.Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns if c.name != "recorded_at")


def write(
    conn: Connection, dialect: Dialect, table: sa.Table, rows: Sequence[Row], now: dt.datetime
) -> None:
    cols = _columns(table)
    dates = [i for i, c in enumerate(cols) if isinstance(table.c[c].type, sa.Date)]
    get = operator.itemgetter(*cols)
    date, stamp = dialect.date, dialect.stamp(now)

    def tuples() -> Iterable[tuple[Any, ...]]:
        for r in rows:
            t = list(get(r))
            for i in dates:
                if t[i] is not None:
                    t[i] = date(t[i])
            t.append(stamp)
            yield tuple(t)

    dialect.bulk_insert(conn, table, (*cols, "recorded_at"), tuples())


def insert(
    conn: Connection, dialect: Dialect, table: sa.Table, rows: Sequence[Row], now: dt.datetime
) -> InsertOutcome:
    """Write the rows not stored yet (in the caller's transaction); returns the outcome."""
    screen = InsertScreen()
    try:
        with conn.begin_nested():
            fresh = list(screen.first_seen(rows))
            if screen.conflicts or screen.duplicates:
                raise _Careful
            rebuild = _defer_indexes(conn, dialect, table, len(fresh))
            write(conn, dialect, table, fresh, now)
            for index in rebuild:
                index.create(conn)
    except _CAREFUL_AFTER:
        pass
    else:
        return screen.inserted, [], []
    stored = _stored_hashes(conn, table, list({r["id"] for r in rows}))
    screen = InsertScreen(stored.get)
    fresh = list(screen.first_seen(rows))
    if fresh and not screen.conflicts:
        write(conn, dialect, table, fresh, now)
    return screen.inserted, screen.duplicates, screen.conflicts


def _defer_indexes(conn: Connection, dialect: Dialect, table: sa.Table, n: int) -> list[sa.Index]:
    """As for activities (``bulk``): a batch at least as big as the table drops the table's
    secondary indexes and builds them once after its rows, inside the transaction, where
    DDL joins it (not on MariaDB/MySQL)."""
    if n < DEFER_FROM or not dialect.transactional_ddl:
        return []
    if n < conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one():
        return []
    present = {ix["name"] for ix in sa.inspect(conn).get_indexes(table.name)}
    dropped = [ix for ix in table.indexes if ix.name in present]
    for ix in dropped:
        ix.drop(conn)
    return dropped


class _Careful(Exception):
    """A repeated id in the batch: look the batch up instead."""


_CAREFUL_AFTER: tuple[type[BaseException], ...] = (*INTEGRITY_ERRORS, _Careful)


def _stored_hashes(conn: Connection, table: sa.Table, ids: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i in range(0, len(ids), _CHUNK):
        q = sa.select(table.c.id, table.c.content_hash).where(table.c.id.in_(ids[i : i + _CHUNK]))
        out.update({r[0]: r[1] for r in conn.execute(q)})
    return out


def read(conn: Connection, table: sa.Table, cond: sa.ColumnElement[bool] | None) -> list[Row]:
    cols = _columns(table)
    q = sa.select(*(table.c[c] for c in cols))
    if cond is not None:
        q = q.where(cond)
    return [dict(zip(cols, rec, strict=True)) for rec in conn.execute(q)]


def dosage(
    conn: Connection, schema: Schema, ids: Sequence[str] | None
) -> dict[str, tuple[float, int, dt.date, dt.date]]:
    """Per engagement: hours, entries, first and last date of its live linked activities."""
    a = schema.activities
    q = sa.select(
        a.c.engagement,
        sa.func.sum(a.c.hours),
        sa.func.count(),
        sa.func.min(a.c.date),
        sa.func.max(a.c.date),
    ).where(a.c.engagement.is_not(None), a.c.deleted_at.is_(None))
    out: dict[str, tuple[float, int, dt.date, dt.date]] = {}
    chunks = [None] if ids is None else [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
    for chunk in chunks:
        sel = q if chunk is None else q.where(a.c.engagement.in_(chunk))
        for eid, hours, n, first, last in conn.execute(sel.group_by(a.c.engagement)):
            out[eid] = (float(hours or 0.0), int(n), _day(first), _day(last))
    return out


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
