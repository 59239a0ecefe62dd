"""The SQL stores' per-unit cell totals: live activities summed per (consultant, program, kind,
fiscal year, county, region, consultation type) in the ``unit_cells`` table.

Every release and every suppressed table starts from per-(unit, cell) partial sums. Reading
them from this table instead of the activity rows is exact (sums of counts and of
quarter-hours are exact in binary floating point) and reads one row per unit and cell instead
of one per activity. The table is kept in step with the activities in the same transaction as
every write: an insert adds its batch's totals, an amend moves the row's old totals out and its
new ones in, a delete takes them out. A query with a dimension or filter outside the grain
(setting, quarter, dates, referral resource types, extra fields …) reads the activity rows.

The grain is the place, type and year of the published tables and the usual research
questions. Adding setting, tier, modality, format and language made it nearly one group per
activity on realistic data: twice the write cost for no saving on reads.

A group's key ``k`` is a digest of its grain values, so that one short primary key serves the
upsert of every dialect whatever the grain columns hold (several of them may be NULL).
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..._columns import Row
from .dialects import dialect_for

#: The grain: the unit columns first, then the dimensions a rolled-up query may use.
GRAIN: tuple[str, ...] = (
    "consultant",
    "program",
    "kind",
    "fiscal_year",
    "county",
    "region",
    "consultation_type",
)
_UNITS = ("consultant", "program")
#: Dimensions a query may group or filter on and still read the totals.
DIMENSIONS: frozenset[str] = frozenset(GRAIN) - set(_UNITS)
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
_COLUMNS = ("k", *GRAIN, "n", *MEASURES)
_SUMMED = ("n", *MEASURES)
_REQUIRED = frozenset({"consultant", "kind", "fiscal_year", "county"})

_grain_of = operator.itemgetter(*GRAIN)
_measures_of = operator.itemgetter(*MEASURES)

#: (grain values, number of activities, measure sums)
Group = tuple[tuple[Any, ...], int, list[float]]


def covers(unit: str, dims: Sequence[str], filters: Iterable[str], columns: Iterable[str]) -> bool:
    """Whether a partial-sums query can be answered from the totals."""
    return (
        unit in _UNITS
        and all(d in DIMENSIONS for d in dims)
        and all(f in DIMENSIONS for f in filters)
        and all(c in ("*", "#units") or c in MEASURES for c in columns)
    )


def key(grain: Sequence[Any]) -> str:
    """The primary key of a group: a digest of its grain values (NULL kept apart from '')."""
    text = "\x1f".join("\x00" if v is None else str(v) for v in grain)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class Tally:
    """Rows' totals per group, gathered one row at a time.

    ``tally.add(row)`` files a row under its group; ``tally.groups(sign)`` sums them. The
    PostgreSQL insert files each row while it streams into COPY, so the filing runs while the
    server is busy inserting instead of after it."""

    __slots__ = ("_by_grain",)

    def __init__(self) -> None:
        self._by_grain: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}

    def add(self, row: Row) -> None:
        # itemgetter and list.append run in C: this runs once per imported row
        by_grain = self._by_grain
        g = _grain_of(row)
        vals = by_grain.get(g)
        if vals is None:
            by_grain[g] = [_measures_of(row)]
        else:
            vals.append(_measures_of(row))

    def groups(self, sign: int = 1) -> list[Group]:
        """The totals per group, multiplied by ``sign`` (-1 takes rows out)."""
        # filter(None, …) drops NULLs (and zeros, which add nothing)
        return [
            (
                g,
                sign * len(vals),
                [sign * float(sum(filter(None, col))) for col in zip(*vals, strict=True)],
            )
            for g, vals in self._by_grain.items()
        ]


def groups(rows: Iterable[Row], sign: int = 1) -> list[Group]:
    """The rows' totals per group, multiplied by ``sign`` (-1 takes rows out)."""
    tally = Tally()
    for row in rows:
        tally.add(row)
    return tally.groups(sign)


def merge(*batches: Iterable[Group]) -> list[Group]:
    """Several batches of groups as one, a group's totals added up (an amend takes the old row
    out and puts the new one in, often in the same group)."""
    net: dict[tuple[Any, ...], Group] = {}
    for batch in batches:
        for g, n, sums in batch:
            have = net.get(g)
            net[g] = (
                (g, n, list(sums))
                if have is None
                else (g, have[1] + n, [a + b for a, b in zip(have[2], sums, strict=True)])
            )
    return [e for e in net.values() if e[1] or any(e[2])]


def add(conn: Connection, table: sa.Table, batch: Sequence[Group]) -> None:
    """Add the groups' totals to the table (an upsert per group), then drop emptied groups.

    ``batch`` must hold each group once (``groups`` and ``merge`` see to that): PostgreSQL
    refuses one statement that updates a row twice."""
    if not batch:
        return
    # in key order: one lock order for every writer, so that two batches cannot deadlock
    params = sorted(_params(batch))
    dialect_for(conn).upsert(conn, table, _COLUMNS, _SUMMED, params)
    if any(n < 0 for _, n, _ in batch):
        keys = [p[0] for p in params]
        for i in range(0, len(keys), 1000):
            chunk = keys[i : i + 1000]
            conn.execute(table.delete().where(table.c.k.in_(chunk), table.c.n <= 0))


def _params(batch: Iterable[Group]) -> list[tuple[Any, ...]]:
    return [(key(g), *g, n, *sums) for g, n, sums in batch]


def live_rows(conn: Connection, table: sa.Table) -> int:
    """How many live activities the totals hold (one read of the totals, not of the rows)."""
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(table.c.n), 0))).scalar_one())


def rebuild(conn: Connection, activities: sa.Table, table: sa.Table) -> int:
    """Recompute the table from the live activity rows; returns the number of groups.

    For a migration, or after rows were written into the activity table by other means than
    the store."""
    a = activities
    cols = [a.c[c] for c in GRAIN]
    q = (
        sa.select(
            *cols,
            sa.func.count(),
            *(sa.func.sum(sa.func.coalesce(a.c[m], 0)) for m in MEASURES),
        )
        .where(a.c.deleted_at.is_(None))
        .group_by(*cols)
    )
    conn.execute(table.delete())
    w = len(GRAIN)
    found = [
        (tuple(r[:w]), int(r[w]), [float(v or 0) for v in r[w + 1 :]]) for r in conn.execute(q)
    ]
    for i in range(0, len(found), 5000):
        conn.execute(
            table.insert(),
            [dict(zip(_COLUMNS, p, strict=True)) for p in _params(found[i : i + 5000])],
        )
    return len(found)


def columns(code: int, double: Any) -> list[sa.Column[Any]]:
    """The table's columns (shared by the schema and its migration)."""
    return [
        sa.Column("k", sa.String(32), primary_key=True),
        *(
            sa.Column(
                c,
                sa.Integer if c == "fiscal_year" else sa.String(code),
                nullable=c not in _REQUIRED,
            )
            for c in GRAIN
        ),
        sa.Column("n", sa.BigInteger, nullable=False),
        *(sa.Column(m, double(), nullable=False) for m in MEASURES),
    ]
