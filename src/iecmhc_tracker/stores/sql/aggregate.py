"""Aggregation in SQL: per-(unit, cell) partial sums and what every release is built from.

Rows never come to Python for an aggregate. ``partials`` is the one subquery everything
starts from: one row per (unit, cell) with ``u``, ``d0…``, ``n`` and ``s0…``, read from the
per-unit cell totals (``rollup``) when they hold the query, from the activity rows otherwise.

Randomness of ``bounded_sums(norm="max_cells")``: each (unit, cell) partial sum gets a key
from the database's own generator (the dialect's ``random_key``: SQLite ``random()``, seeded
by SQLite from the operating system's entropy; PostgreSQL ``random()``, seeded per session
from ``pg_strong_random``; MariaDB/MySQL ``RAND(seed)`` with a seed drawn per call from
:mod:`secrets`) and a unit keeps the ``max_cells`` cells with the smallest keys
(``ROW_NUMBER() OVER (PARTITION BY unit ORDER BY key)``). Keys are independent draws, so a
unit's choice is uniform over its cells and does not depend on any other unit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..contract import Cell, CellStat, Filters, MeasureSpec, PartialSum, date_ranges
from . import rollup
from .dialects import Dialect
from .schema import Schema

NORMS = (None, "l1", "l2", "max_cells")


def partials(
    schema: Schema,
    unit: str,
    dims: Sequence[str],
    measures: Sequence[MeasureSpec],
    filters: Filters,
    *,
    use_cells: bool,
) -> sa.Subquery:
    """Per (unit, cell): ``u``, ``d0..``, ``n`` and ``s0..`` — the partial sums, in SQL."""
    if unit not in ("consultant", "program"):
        raise ValueError(f"unit must be 'consultant' or 'program', not {unit!r}")
    if use_cells and rollup.covers(unit, dims, filters, [c for c, _ in measures]):
        return _from_cells(schema.cells, unit, dims, measures, filters)
    a, r = schema.activities, schema.referrals
    by_referral = "resource_type" in dims or "resource_type" in filters
    src: sa.FromClause = a.join(r, r.c.activity_id == a.c.id) if by_referral else a
    conds: list[sa.ColumnElement[bool]] = [a.c.deleted_at.is_(None), a.c[unit].is_not(None)]
    for key, allowed in filters.items():
        if key == "date_from":
            conds.append(a.c.date >= dt.date.fromisoformat(str(allowed)))
        elif key == "date_to":
            conds.append(a.c.date <= dt.date.fromisoformat(str(allowed)))
        elif key == "date_in":
            conds.append(
                sa.or_(
                    sa.false(),
                    *(a.c.date.between(lo, hi) for lo, hi in date_ranges(allowed)),
                )
            )
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


def _from_cells(
    t: sa.Table,
    unit: str,
    dims: Sequence[str],
    measures: Sequence[MeasureSpec],
    filters: Filters,
) -> sa.Subquery:
    """``partials`` from the per-unit cell totals: the same columns, far fewer rows read."""
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


def partial_sums(conn: Connection, p: sa.Subquery, k: int, m: int) -> list[PartialSum]:
    """The rows of ``partials`` (``k`` dimensions, ``m`` measures) as the contract gives them."""
    return [
        (
            rec[0],
            _cell(rec[1 : 1 + k]),
            int(rec[1 + k]),
            tuple(float(v or 0) for v in rec[2 + k : 2 + k + m]),
        )
        for rec in conn.execute(sa.select(p))
    ]


def cell_stats(conn: Connection, p: sa.Subquery, k: int, m: int) -> list[CellStat]:
    """Per cell of ``partials``: records, distinct units, sums and the largest unit's sum."""
    d = [p.c[f"d{i}"] for i in range(k)]
    s = [p.c[f"s{j}"] for j in range(m)]
    q = sa.select(
        *d,
        sa.func.sum(p.c.n),
        sa.func.count(),
        *(sa.func.sum(c) for c in s),
        *(sa.func.max(c) for c in s),
    ).group_by(*d)
    return [
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


def bounded_sums(
    conn: Connection,
    dialect: Dialect,
    p: sa.Subquery,
    k: int,
    m: int,
    *,
    clip: Sequence[float],
    norm: str | None,
    norm_bounds: Sequence[float],
    max_cells: int | None,
) -> list[tuple[Cell, tuple[float, ...]]]:
    """Per cell of ``partials``, the sum over units of each unit's bounded contribution."""
    if norm not in NORMS:
        raise ValueError(f"norm must be None, 'l1', 'l2' or 'max_cells', not {norm!r}")
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
            sa.func.row_number().over(partition_by=p.c.u, order_by=dialect.random_key()).label("rk")
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
    q = sa.select(*d2, sa.func.count(), *(sa.func.sum(c2.c[f"v{j}"]) for j in range(m))).group_by(
        *d2
    )
    return [
        (_cell(rec[:k]), tuple(float(v or 0) for v in rec[k + 1 : k + 1 + m]))
        for rec in conn.execute(q)
        if rec[k]
    ]


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
