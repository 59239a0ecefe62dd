"""Bulk writes: an insert batch read once, written by the dialect's fastest path, with its
referrals and cell totals, the secondary indexes rebuilt after a batch as big as the table.

``insert_batch`` applies the contract's insert rule (:class:`InsertScreen`) optimistically
first (nothing of the batch is stored yet: the common case of an import), and looks the batch
up only when a stored id or an in-batch conflict sends it down the careful path.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..._columns import ROW_COLUMNS, Row
from ..contract import InsertOutcome, InsertScreen
from . import rollup
from .dialects import Dialect
from .errors import INTEGRITY_ERRORS
from .schema import Schema

#: row columns in bulk-insert order: every column but ``date``, which is converted per dialect
_NO_DATE = tuple(c for c in ROW_COLUMNS if c != "date")
#: the columns a new row is written with (its other stamp columns are NULL: left out, they
#: cost nothing to bind)
INSERT_COLUMNS = (*_NO_DATE, "date", "recorded_at")
REFERRAL_COLUMNS = ("activity_id", "resource_type", "count")
_CHUNK = 5000  # ids per IN list when looking up stored rows
DEFER_FROM = 50_000  # rows from which a batch may drop and rebuild the secondary indexes


class Replay:
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


class _Undo(Exception):
    """Roll back an optimistic insert (a repeated id in the batch carried other content)."""


#: what sends an optimistic insert down the careful path: a stored id, or an in-batch conflict
_CAREFUL_AFTER: tuple[type[BaseException], ...] = (*INTEGRITY_ERRORS, _Undo)


def insert_batch(
    conn: Connection,
    dialect: Dialect,
    schema: Schema,
    source: Replay,
    *,
    atomic: bool,
    expected: int,
    now: dt.datetime,
) -> tuple[InsertOutcome, bool]:
    """One insert transaction's work on ``conn``; returns the outcome and whether it wrote."""
    screen = InsertScreen()
    try:
        with conn.begin_nested():
            rebuild = _defer_indexes(conn, dialect, schema, expected)
            written = write_rows(conn, dialect, schema, screen.first_seen(source), now)
            for index in rebuild:
                index.create(conn)
            if screen.conflicts:
                raise _Undo
    except _CAREFUL_AFTER:
        pass
    else:
        return (screen.inserted, screen.duplicates, []), written > 0
    rows = source.all()
    stored = _stored_hashes(conn, schema, list({r["id"] for r in rows}))
    screen = InsertScreen(stored.get)
    pending = list(screen.first_seen(rows))
    outcome = (screen.inserted, screen.duplicates, screen.conflicts)
    if screen.conflicts and atomic:
        return ([], screen.duplicates, screen.conflicts), False
    if pending:
        write_rows(conn, dialect, schema, pending, now)
    return outcome, bool(pending)


def _defer_indexes(
    conn: Connection, dialect: Dialect, schema: Schema, expected: int
) -> list[sa.Index]:
    """Drop the activity table's secondary indexes ahead of a batch of ``expected`` rows
    when building them afresh afterwards costs less than keeping them up to date row by
    row; returns the indexes to build once the rows are in.

    Building an index sorts once; keeping one costs a descent per row (on 1M rows about
    5 µs a row and index on PostgreSQL, against about 2.5 µs a table row to build). So the
    indexes go when the batch is at least as big as the table already is: an initial load
    or a store's first big import. The drop is part of the transaction, so a failed or
    killed import leaves them in place. On PostgreSQL the drop locks the table against
    readers until the batch commits. Where DDL commits the transaction (MariaDB/MySQL),
    never."""
    if expected < DEFER_FROM or not dialect.transactional_ddl:
        return []
    if expected < rollup.live_rows(conn, schema.cells):
        return []
    table = schema.activities
    present = {ix["name"] for ix in sa.inspect(conn).get_indexes(table.name)}
    dropped = [ix for ix in table.indexes if ix.name in present]
    for ix in dropped:
        ix.drop(conn)
    return dropped


def _stored_hashes(conn: Connection, schema: Schema, ids: list[str]) -> dict[str, str]:
    a = schema.activities
    out: dict[str, str] = {}
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        q = sa.select(a.c.id, a.c.content_hash).where(a.c.id.in_(chunk))
        out.update({r[0]: r[1] for r in conn.execute(q)})
    return out


def write_rows(
    conn: Connection, dialect: Dialect, schema: Schema, rows: Iterable[Row], now: dt.datetime
) -> int:
    """Write new rows (and their referrals and cell totals); returns how many."""
    refs: list[tuple[str, str, int]] = []
    tally = rollup.Tally()
    count = 0
    # itemgetter builds each tuple in C: this loop runs once per imported row
    get = operator.itemgetter(*_NO_DATE)
    date = dialect.date
    tail: tuple[Any, ...] = (dialect.stamp(now),)

    def tuples() -> Iterator[tuple[Any, ...]]:
        # the referrals and the cell totals are gathered as rows pass: on a streaming
        # dialect while the server is busy with the rows already sent
        nonlocal count
        for r in rows:
            count += 1
            tally.add(r)
            if r["referrals"]:
                refs.extend(referral_tuples((r,)))
            yield (*get(r), date(r["date"]), *tail)

    dialect.bulk_insert(conn, schema.activities, INSERT_COLUMNS, tuples())
    if refs:
        dialect.bulk_insert(conn, schema.referrals, REFERRAL_COLUMNS, refs)
    if count:
        rollup.add(conn, schema.cells, tally.groups())
    return count


def referral_tuples(rows: Iterable[Row]) -> list[tuple[str, str, int]]:
    return [(r["id"], code, n) for r in rows for code, n in r["referrals"].items()]
