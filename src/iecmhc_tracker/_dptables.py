"""State tables released with differential privacy (a profile table with ``mode = "dp"``).

For a state where suppression would withhold most cells, a table may be released with
OpenDP noise on every cell instead, nothing withheld:

1. the table is planned as a researcher release is (``_researcher.prepare``): its public
   cells (the profile's code lists and fiscal years, never learnt from the data), the
   profile's per-unit bounds, and the composed Laplace measurement at the table's ``epsilon``;
2. the store bounds each consultant's contribution and sums (``Store.bounded_sums``);
3. the charge goes on the ledger (``Store.charge``) on the state's account
   (:data:`~._accounting.STATE_ACCOUNT`), on every fiscal year of data the table reads,
   against ``state_epsilon_per_fiscal_year`` and everyone's lifetime cap — before any noise;
4. noise is drawn on the inner cells only. Every margin is the sum of the noisy inner cells
   it totals (before post-processing): the noisy table adds up, and the margins cost no
   budget (a function of a DP output is DP at the same ε);
5. post-processing, cell by cell: clamped at 0 and rounded (counts whole, other measures to
   two decimals). It reads only noisy values, so the table stays ε-DP.

The 95 % half-width of each measure (``metadata()["half_width"]``) is that of one inner
cell's noise (OpenDP's accuracy helper) plus half a rounding step; a margin summing ``k``
cells has its own (``margin_half_width``): the least of a Chernoff bound on the sum of ``k``
independent Laplace draws and ``k`` times the single-draw half-width at level ``1 − 0.05/k``.
Clamping moves a value only towards the non-negative truth, so ``value ± half_width`` (cut at
0) still holds the bounded total with probability at least 95 %.

A to-date table (``to_date = true``, see ``_todate``) reads only the current fiscal year and
the one before, each from its first day to the end of the last complete month (a ``date_in``
filter), and is charged on those two fiscal years only. In the first month of a fiscal year
it reads and charges nothing and is published empty with a note.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ._accounting import STATE_ACCOUNT, partitions
from ._dp import MeasureNoise, half_width
from ._errors import BudgetExceeded
from ._measures import MEASURES
from ._prepare import prepare
from ._profile import Profile
from ._query import Query
from ._release import estimate
from ._scope import Scope
from ._suppress import domain, label, per_year
from ._table import Table, TableCell
from ._tablespec import TableSpec
from ._todate import ToDate, to_date

LEVEL = 0.95
POSTPROCESS = ("clamp", "round")


def release_dp_table(
    scope: Scope, spec: TableSpec, *, data: str, generated_at: dt.datetime
) -> Table:
    """Plan, charge and noise one DP table on the store's data (named by the digest
    ``data``). Raises ``BudgetExceeded`` naming the table and the fiscal year when the
    state's allotment or everyone's lifetime cap on one of its years has not enough left."""
    profile = scope.profile
    policy = profile.dp
    assert spec.epsilon is not None, "a dp table has an epsilon (checked at profile load)"
    where: dict[str, Any] = dict(spec.where)
    window = to_date(profile, scope.today()) if spec.to_date else None
    if window is not None:
        if window.through is None:  # the first month of a fiscal year: nothing to compare
            return _not_yet(scope, spec, window, data=data, generated_at=generated_at)
        where |= {"fiscal_year": list(window.fiscal_years), "date_in": window.filter}
    prep = prepare(scope, Query(list(spec.measures), list(spec.by), where), epsilon=spec.epsilon)
    # exact totals are read before the charge (a storage failure then costs nothing)
    vectors = prep.bounded(scope)
    parts = partitions(prep.data_years)
    try:
        scope.store.charge(
            STATE_ACCOUNT,
            parts,
            prep.charge,
            allotment=policy.state_epsilon_per_fiscal_year,
            cap=policy.lifetime_epsilon_per_fiscal_year,
            entry={**prep.audit_entry(f"table:{spec.name}"), "table": spec.name, "data": data},
        )
    except BudgetExceeded as exc:
        raise refusal(spec, exc, policy.state_epsilon_per_fiscal_year) from None
    # noise is drawn only after the charge has been committed
    noisy = prep.plan.run(vectors)
    by_key = [dict(zip(prep.keys, vec, strict=True)) for vec in noisy]
    years = window.fiscal_years if window is not None else prep.years
    dims = tuple(spec.by)
    doms = [
        [v for v in domain(profile, d, years) if v in {k[i] for k in prep.keys}]
        for i, d in enumerate(dims)
    ]
    noise = {mn.measure: mn for mn in prep.plan.measures}
    inner: list[TableCell] = []
    margins: list[TableCell] = []
    levels: list[dict[str, Any]] = []
    for r in range(len(dims), -1, -1):
        for kept in itertools.combinations(range(len(dims)), r):
            if r < len(dims) and not per_year(dims, tuple(dims[i] for i in kept)):
                continue
            k = math.prod(len(doms[i]) for i in range(len(dims)) if i not in kept)
            halves = {m: _half(noise[m], k) for m in spec.measures}
            if r < len(dims):
                levels.append(
                    {
                        "total_over": [d for i, d in enumerate(dims) if i not in kept],
                        "cells": k,
                        "half_width": halves,
                    }
                )
            for coords in itertools.product(
                *[doms[i] if i in kept else [None] for i in range(len(dims))]
            ):
                values = {
                    m: _published(m, _sum(by_key[j], coords)) for j, m in enumerate(spec.measures)
                }
                labels = tuple(label(profile, d, v) for d, v in zip(dims, coords, strict=True))
                cell = TableCell(coords, labels, values, None)
                (margins if cell.margin else inner).append(cell)
    meta: dict[str, Any] = {
        "epsilon": prep.plan.epsilon,
        "charged_epsilon": prep.charge,
        "charged_to": STATE_ACCOUNT,
        "charged_fiscal_years": list(prep.data_years),
        "mechanism": prep.mechanism,
        "noise": {m: noise[m].noise for m in spec.measures},
        "sensitivity": {m: noise[m].sensitivity for m in spec.measures},
        "scale": {m: noise[m].scale for m in spec.measures},
        "bounds": {m: prep.clip[m] for m in spec.measures},
        "norm_bounds": (
            {m: prep.norms[m] for m in spec.measures} if prep.bounding == "norm" else None
        ),
        "bounding": prep.bounding,
        "unit": prep.unit,
        "level": LEVEL,
        "half_width": {m: _half(noise[m], 1) for m in spec.measures},
        "margin_half_width": levels,
        "margins": "sums of the noisy inner cells, before clamping and rounding",
        "postprocess": list(POSTPROCESS),
        "note": None,
        "stale": False,
        "to_date": window.to_json() if window is not None else None,
    }
    return _dp_table(
        profile, spec, dims, years, inner, margins, meta, data=data, generated_at=generated_at
    )


def _dp_table(
    profile: Profile,
    spec: TableSpec,
    dims: Sequence[str],
    years: Sequence[int],
    inner: Sequence[TableCell],
    margins: Sequence[TableCell],
    meta: dict[str, Any],
    *,
    data: str,
    generated_at: dt.datetime,
) -> Table:
    """A DP table as released: the spec's names and filters, the cells, the DP metadata."""
    return Table(
        name=spec.name,
        title=spec.title,
        profile=profile.name,
        profile_label=profile.label,
        measures=tuple(spec.measures),
        dims=tuple(dims),
        where=dict(spec.where),
        policy=profile.suppression,
        generated_at=generated_at,
        fiscal_years=tuple(years),
        cells=tuple(inner),
        margins=tuple(margins),
        data_version=data,
        mode="dp",
        dp=meta,
    )


def _not_yet(
    scope: Scope, spec: TableSpec, window: ToDate, *, data: str, generated_at: dt.datetime
) -> Table:
    """A to-date table in the first month of a fiscal year: no complete month to compare, so
    nothing is read, charged or noised; the table is published empty, with a note."""
    profile = scope.profile
    start, _ = profile.fiscal_year_bounds(window.current)
    note = (
        f"FY{window.current} began on {start.day} {start:%B %Y}: the comparison with the "
        f"same months of FY{window.current - 1} starts once its first month is complete."
    )
    meta: dict[str, Any] = {
        "epsilon": spec.epsilon,
        "charged_epsilon": 0.0,
        "charged_to": STATE_ACCOUNT,
        "charged_fiscal_years": [],
        "half_width": {},
        "margin_half_width": [],
        "level": LEVEL,
        "note": note,
        "stale": False,
        "to_date": window.to_json(),
    }
    return _dp_table(profile, spec, spec.by, (), (), (), meta, data=data, generated_at=generated_at)


def _sum(values: Mapping[tuple[Any, ...], float], coords: Sequence[Any]) -> float:
    """A cell's noisy value: the inner cell's own, or the sum of the inner cells it totals."""
    return math.fsum(
        v
        for key, v in values.items()
        if all(c is None or c == x for c, x in zip(coords, key, strict=True))
    )


def _step(measure: str) -> float:
    return 1.0 if MEASURES[measure].integer else 0.01


def _published(measure: str, noisy: float) -> float:
    integer = MEASURES[measure].integer
    value, _, _ = estimate(noisy, 0.0, integer=integer, postprocess=POSTPROCESS)
    return value


def _half(noise: MeasureNoise, cells: int) -> float:
    """The 95 % half-width of a published cell summing ``cells`` noisy inner cells, rounding
    included (see the module docstring)."""
    return sum_half_width(noise.noise, noise.scale, cells, LEVEL) + _step(noise.measure) / 2


def sum_half_width(noise: str, scale: float, cells: int, level: float) -> float:
    """``a`` with P(|X_1 + … + X_k| > a) <= 1 − level for ``k = cells`` independent draws of
    the noise: the least of two valid bounds (a union bound over the draws; for continuous
    Laplace, the Chernoff bound ``2·min_t e^{−ta} / (1 − b²t²)^k``, found by bisection)."""
    k = max(int(cells), 1)
    alpha = 1.0 - level
    single = half_width(noise, scale, level)
    if k == 1:
        return single
    union = k * half_width(noise, scale, 1.0 - alpha / k)
    if noise != "laplace":
        return union
    b = scale

    def tail(a: float) -> float:  # the Chernoff bound on P(S > a), at its optimal t
        t = (math.sqrt(k * k * b * b + a * a) - k * b) / (a * b)
        return math.exp(-t * a - k * math.log1p(-((b * t) ** 2)))

    lo, hi = 0.0, union
    if 2 * tail(hi) > alpha:
        return union
    for _ in range(200):
        mid = (lo + hi) / 2
        if 2 * tail(mid) > alpha:
            lo = mid
        else:
            hi = mid
    return min(hi, union)


def refusal(spec: TableSpec, exc: BudgetExceeded, allotment: float) -> BudgetExceeded:
    """The ledger's refusal, naming the table and the fiscal year of data that ran short."""
    on = exc.partition or "one of its fiscal years"
    if exc.limit == "lifetime":
        who = f"everyone together (analysts and the state) has {exc.remaining:.4g} epsilon left"
    else:
        who = (
            f"the state's DP tables have {exc.remaining:.4g} epsilon left (allotment "
            f"state_epsilon_per_fiscal_year = {allotment:.4g})"
        )
    return BudgetExceeded(
        f"the DP table {spec.name!r} cannot be released again: {who} on {on} data, and it "
        f"needs {exc.requested:.4g}",
        requested=exc.requested,
        remaining=exc.remaining,
        partition=exc.partition,
        limit=exc.limit,
    )
