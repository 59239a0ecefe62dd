"""The SQL stores' per-unit cell totals: live activities summed per (consultant, program, kind,
fiscal year, county, region, setting, consultation type, tier, modality, format, language).

Every release and every suppressed table starts from per-(unit, cell) partial sums. Reading
them from this table instead of the activity rows is exact (sums of counts and of quarter-hours
are exact in binary floating point) and reads one row per unit and cell instead of one per
activity. The table is kept in step with the activities in the same transaction as every
write: an insert adds its batch's totals, an amend moves the row's old totals out and its new
ones in, a delete takes them out. A query with a dimension or filter outside the grain
(quarter, dates, referral resource types, extra fields) reads the activity rows instead.

A group's key ``k`` is a digest of its grain values, so that one short primary key serves the
upsert of every dialect whatever the grain columns hold (most of them may be NULL).
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Connection

from ._rows import Row

#: The grain: the unit columns first, then the dimensions a rolled-up query may group or filter on.
GRAIN: tuple[str, ...] = (
    "consultant",
    "program",
    "kind",
    "fiscal_year",
    "county",
    "region",
    "setting",
    "consultation_type",
    "tier",
    "modality",
    "format",
    "language",
)
#: Dimensions a query may use and still read the rollup.
DIMENSIONS: frozenset[str] = frozenset(GRAIN) - {"consultant", "program"}
#: The summed row columns (NULL counts as 0); ``n`` beside them counts the activities.
MEASURES: tuple[str, ...] = (
    "hours",
    "minutes",
    "children_benefiting",
    "staff_influenced",
    "families",
    "participants",
    "rated_worthwhile",
    "referral_total",
    "recommended_consultation",
)

_grain_of = operator.itemgetter(*GRAIN)
_measures_of = operator.itemgetter(*MEASURES)

Group = tuple[tuple[Any, ...], int, list[float]]


def covers(unit: str, dims: Sequence[str], filters: Iterable[str], columns: Iterable[str]) -> bool:
    """Whether a partial-sums query can be answered from the rollup."""
    return (
        unit in ("consultant", "program")
        and all(d in DIMENSIONS for d in dims)
        and all(f in DIMENSIONS for f in filters)
        and all(c in ("*", "#units") or c in MEASURES for c in columns)
    )


def key(grain: Sequence[Any]) -> str:
    """The primary key of a group: a digest of its grain values (NULL kept apart from '')."""
    text = "\x1f".join("\x00" if v is None else str(v) for v in grain)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def groups(rows: Iterable[Row], sign: int = 1) -> list[Group]:
    """The batch's totals per group, multiplied by ``sign`` (-1 takes rows out)."""
    by_grain: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        # itemgetter and list.append run in C: this loop runs once per imported row
        by_grain.setdefault(_grain_of(row), []).append(_measures_of(row))
    return [
        # filter(None, …) drops NULLs (and zeros, which add nothing)
        (
            g,
            sign * len(vals),
            [sign * float(sum(filter(None, col))) for col in zip(*vals, strict=True)],
        )
        for g, vals in by_grain.items()
    ]


def add(conn: Connection, table: sa.Table, batch: Sequence[Group]) -> None:
    """Add the groups' totals to the table (an upsert per group), then drop emptied groups."""
    if not batch:
        return
    params = _params(batch)
    # one lock order for every writer, so that two concurrent batches cannot deadlock
    params.sort(key=operator.itemgetter("k"))
    conn.execute(_upsert(conn.dialect.name, table), params)
    if any(n < 0 for _, n, _ in batch):
        keys = [p["k"] for p in params]
        for i in range(0, len(keys), 1000):
            chunk = keys[i : i + 1000]
            conn.execute(table.delete().where(table.c.k.in_(chunk), table.c.n <= 0))


def _upsert(dialect: str, table: sa.Table) -> sa.Executable:
    summed = ("n", *MEASURES)
    if dialect in ("mysql", "mariadb"):
        my = mysql.insert(table)
        return my.on_duplicate_key_update({c: table.c[c] + my.inserted[c] for c in summed})
    ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return ins.on_conflict_do_update(
        index_elements=[table.c.k],
        set_={c: table.c[c] + ins.excluded[c] for c in summed},
    )


def rebuild(conn: Connection, activities: sa.Table, table: sa.Table) -> int:
    """Recompute the whole table from the live activity rows; returns the number of groups.

    For a migration, or after rows were written into the activity table by other means than
    the store."""
    a = activities
    grain = [a.c[c] for c in GRAIN]
    q = (
        sa.select(
            *grain,
            sa.func.count(),
            *(sa.func.sum(sa.func.coalesce(a.c[m], 0)) for m in MEASURES),
        )
        .where(a.c.deleted_at.is_(None))
        .group_by(*grain)
    )
    conn.execute(table.delete())
    g = len(GRAIN)
    found = [
        (tuple(r[:g]), int(r[g]), [float(v or 0) for v in r[g + 1 :]]) for r in conn.execute(q)
    ]
    for i in range(0, len(found), 5000):
        conn.execute(table.insert(), _params(found[i : i + 5000]))
    return len(found)


def _params(batch: Sequence[Group]) -> list[dict[str, Any]]:
    return [
        {
            "k": key(g),
            **dict(zip(GRAIN, g, strict=True)),
            "n": n,
            **dict(zip(MEASURES, s, strict=True)),
        }
        for g, n, s in batch
    ]


def columns(code: int, double: Any) -> list[sa.Column[Any]]:
    """The table's columns (shared by the schema and its migration)."""
    text = {c: sa.String(code) for c in GRAIN if c != "fiscal_year"}
    return [
        sa.Column("k", sa.String(32), primary_key=True),
        *(
            sa.Column(c, sa.Integer if c == "fiscal_year" else text[c], nullable=c in _NULLABLE)
            for c in GRAIN
        ),
        sa.Column("n", sa.BigInteger, nullable=False),
        *(sa.Column(m, double(), nullable=False) for m in MEASURES),
    ]


_NULLABLE = frozenset(GRAIN) - {"consultant", "kind", "fiscal_year", "county"}
