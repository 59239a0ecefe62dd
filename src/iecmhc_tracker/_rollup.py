"""The SQL stores' per-unit cell totals: live activities summed per unit and cell, at two grains —
(consultant, program, kind, fiscal year, county, region, setting, consultation type, tier,
modality, format, language) and the coarser (consultant, program, kind, fiscal year, county,
region, consultation type).

Every release and every suppressed table starts from per-(unit, cell) partial sums. Reading
them from these tables instead of the activity rows is exact (sums of counts and of
quarter-hours are exact in binary floating point) and reads one row per unit and cell instead
of one per activity; a query reads the coarsest grain that holds its dimensions and filters.
The tables are kept in step with the activities in the same transaction as every write: an
insert adds its batch's totals, an amend moves the row's old totals out and its new ones in, a
delete takes them out. A query with a dimension or filter outside the finest grain (quarter,
dates, referral resource types, extra fields) reads the activity rows instead.

A group's key ``k`` is a digest of its grain values, so that one short primary key serves the
upsert of every dialect whatever the grain columns hold (most of them may be NULL).
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Connection

from ._rows import Row

#: The finest grain: the unit columns first, then every dimension but quarter.
FINE: tuple[str, ...] = (
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
#: A coarser grain for the most asked questions (place, type and year), several times fewer rows.
COARSE: tuple[str, ...] = (
    "consultant",
    "program",
    "kind",
    "fiscal_year",
    "county",
    "region",
    "consultation_type",
)
#: Table name (after the prefix) -> grain, coarsest first: a query reads the first that covers it.
GRAINS: dict[str, tuple[str, ...]] = {"unit_cells_coarse": COARSE, "unit_cells": FINE}
_UNITS = ("consultant", "program")
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

_grain_of = operator.itemgetter(*FINE)
_measures_of = operator.itemgetter(*MEASURES)
# where each grain's columns sit in the finest grain's key
_PROJECT = {name: operator.itemgetter(*(FINE.index(c) for c in g)) for name, g in GRAINS.items()}

Group = tuple[tuple[Any, ...], int, list[float]]


def covering(
    unit: str, dims: Sequence[str], filters: Iterable[str], columns: Iterable[str]
) -> str | None:
    """The table name of the coarsest grain that can answer a partial-sums query, if any."""
    if unit not in _UNITS or not all(c in ("*", "#units") or c in MEASURES for c in columns):
        return None
    wanted = {*dims, *filters}
    for name, grain in GRAINS.items():
        if wanted <= set(grain) - set(_UNITS):
            return name
    return None


def key(grain: Sequence[Any]) -> str:
    """The primary key of a group: a digest of its grain values (NULL kept apart from '')."""
    text = "\x1f".join("\x00" if v is None else str(v) for v in grain)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def groups(rows: Iterable[Row], sign: int = 1) -> dict[str, list[Group]]:
    """The batch's totals per group of every grain, multiplied by ``sign`` (-1 takes rows out)."""
    by_grain: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        # itemgetter and list.append run in C: this loop runs once per imported row
        by_grain.setdefault(_grain_of(row), []).append(_measures_of(row))
    fine: list[Group] = [
        # filter(None, …) drops NULLs (and zeros, which add nothing)
        (
            g,
            sign * len(vals),
            [sign * float(sum(filter(None, col))) for col in zip(*vals, strict=True)],
        )
        for g, vals in by_grain.items()
    ]
    out: dict[str, list[Group]] = {}
    for name, grain in GRAINS.items():
        if grain == FINE:
            out[name] = fine
            continue
        project = _PROJECT[name]
        out[name] = _combine((project(g), n, sums) for g, n, sums in fine)
    return out


def _combine(batch: Iterable[Group]) -> list[Group]:
    """One entry per group: the totals of entries with the same grain values added up."""
    net: dict[tuple[Any, ...], Group] = {}
    for g, n, sums in batch:
        have = net.get(g)
        net[g] = (
            (g, n, list(sums))
            if have is None
            else (g, have[1] + n, [a + b for a, b in zip(have[2], sums, strict=True)])
        )
    return list(net.values())


def add(
    conn: Connection, tables: Mapping[str, sa.Table], batches: Mapping[str, Sequence[Group]]
) -> None:
    """Add each grain's group totals to its table (an upsert per group), then drop emptied
    groups."""
    for name, batch in batches.items():
        if batch:
            _add(conn, tables[name], GRAINS[name], batch)


def _add(conn: Connection, table: sa.Table, grain: tuple[str, ...], batch: Sequence[Group]) -> None:
    # one entry per group (an amend within one group nets out), in one lock order for every
    # writer, so that two concurrent batches cannot deadlock
    params = _params(grain, [e for e in _combine(batch) if e[1] or any(e[2])])
    if not params:
        return
    params.sort(key=operator.itemgetter("k"))
    conn.execute(_upsert(conn.dialect.name, table), params)
    if any(n < 0 for _, n, _ in batch):
        keys = [p["k"] for p in params]
        for i in range(0, len(keys), 1000):
            chunk = keys[i : i + 1000]
            conn.execute(table.delete().where(table.c.k.in_(chunk), table.c.n <= 0))


def merge(*batches: Mapping[str, Sequence[Group]]) -> dict[str, list[Group]]:
    """Several ``groups()`` results as one (an amend takes the old row out, puts the new in)."""
    out: dict[str, list[Group]] = {}
    for b in batches:
        for name, gs in b.items():
            out.setdefault(name, []).extend(gs)
    return out


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


def rebuild(conn: Connection, activities: sa.Table, tables: Mapping[str, sa.Table]) -> int:
    """Recompute every grain's table from the live activity rows; returns the finest grain's
    number of groups.

    For a migration, or after rows were written into the activity table by other means than
    the store."""
    a = activities
    out = 0
    for name, grain in GRAINS.items():
        cols = [a.c[c] for c in grain]
        q = (
            sa.select(
                *cols,
                sa.func.count(),
                *(sa.func.sum(sa.func.coalesce(a.c[m], 0)) for m in MEASURES),
            )
            .where(a.c.deleted_at.is_(None))
            .group_by(*cols)
        )
        table = tables[name]
        conn.execute(table.delete())
        w = len(grain)
        found = [
            (tuple(r[:w]), int(r[w]), [float(v or 0) for v in r[w + 1 :]]) for r in conn.execute(q)
        ]
        for i in range(0, len(found), 5000):
            conn.execute(table.insert(), _params(grain, found[i : i + 5000]))
        if grain == FINE:
            out = len(found)
    return out


def _params(grain: tuple[str, ...], batch: Sequence[Group]) -> list[dict[str, Any]]:
    return [
        {
            "k": key(g),
            **dict(zip(grain, g, strict=True)),
            "n": n,
            **dict(zip(MEASURES, s, strict=True)),
        }
        for g, n, s in batch
    ]


def tables(
    prefix: str, metadata: sa.MetaData, code: int, double: Any, **options: Any
) -> dict[str, sa.Table]:
    """Every grain's table, named ``prefix + name`` (shared by the schema and its migration)."""
    return {
        name: sa.Table(f"{prefix}{name}", metadata, *columns(grain, code, double), **options)
        for name, grain in GRAINS.items()
    }


def columns(grain: tuple[str, ...], code: int, double: Any) -> list[sa.Column[Any]]:
    """A grain's table columns: the key, the grain, ``n`` and the measure sums."""
    return [
        sa.Column("k", sa.String(32), primary_key=True),
        *(
            sa.Column(
                c,
                sa.Integer if c == "fiscal_year" else sa.String(code),
                nullable=c not in _REQUIRED,
            )
            for c in grain
        ),
        sa.Column("n", sa.BigInteger, nullable=False),
        *(sa.Column(m, double(), nullable=False) for m in MEASURES),
    ]


_REQUIRED = frozenset({"consultant", "kind", "fiscal_year", "county"})
