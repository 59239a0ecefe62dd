"""A checked release request (``Prepared``): its public cells, bounds and OpenDP noise plan,
built before any data is read; and reading its exact bounded totals from the store.

``prepare`` is what a release, a preview and the search for ε all share, so the error a
preview reports is the error of the release that follows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from . import _dp
from ._accounting import rho_to_epsilon
from ._cache import canonical_key, store_identity
from ._errors import Forbidden, ValidationError, invalid
from ._errors import Problem as _Problem
from ._measures import MEASURES, mixed_sources
from ._profile import Profile
from ._query import CompiledQuery, Query, compile_query, public_keys
from ._scope import Scope
from ._unitcells import UnitCells
from .stores.contract import date_ranges

#: dimensions every valid row carries with a value from the public lists (required or derived
#: from the validated date)
_ALWAYS_PUBLIC = frozenset({"county", "region", "kind", "fiscal_year", "quarter"})
DEFAULT_DELTA = 1e-6


@attrs.frozen(slots=True)
class Prepared:
    """A checked release request: its public cells, bounds and OpenDP noise plan, before
    any data is read. Library-internal (it can read exact bounded totals from a tracker)."""

    compiled: CompiledQuery
    keys: tuple[tuple[Any, ...], ...]
    years: tuple[int, ...]
    #: the fiscal years of data the release reads: the partitions it is charged on
    data_years: tuple[int, ...]
    clip: Mapping[str, float] = attrs.field(hash=False)
    norms: Mapping[str, float] = attrs.field(hash=False)
    bounding: str
    mechanism: str
    budget: float
    delta: float
    integers: tuple[bool, ...]
    plan: _dp.NoisePlan
    unit: str
    max_cells: int | None
    profile_name: str
    store: str
    #: the profile's δ, at which a ρ-zCDP release is charged in ε
    ledger_delta: float

    @property
    def currency(self) -> str:
        return "rho" if self.mechanism == "gaussian" else "epsilon"

    @property
    def charge(self) -> float:
        """What the release costs in ε on each fiscal year it reads: OpenDP's composition
        map of the whole plan (ε), or its ρ converted at the profile's δ."""
        if self.mechanism == "laplace":
            assert self.plan.epsilon is not None
            return self.plan.epsilon
        assert self.plan.rho is not None
        return rho_to_epsilon(self.plan.rho, self.ledger_delta)

    def cache_key(self, data: str) -> str:
        names = self.compiled.query.measures
        return canonical_key(
            {
                "store": self.store,
                "profile": self.profile_name,
                "unit": self.unit,
                "query": self.compiled.query.key(),
                "bounds": [self.clip[m] for m in names],
                "norm_bounds": [self.norms[m] for m in names],
                "bounding": self.bounding,
                "max_cells": self.max_cells,
                "mechanism": self.mechanism,
                "budget": self.budget,
                "delta": self.delta if self.mechanism == "gaussian" else None,
                "years": list(self.years),
                "data_years": list(self.data_years),
                "data": data,
            }
        )

    def audit_entry(self, key: str) -> dict[str, Any]:
        names = self.compiled.query.measures
        entry: dict[str, Any] = {
            "query": self.compiled.query.key(),
            "mechanism": self.mechanism,
            "epsilon": self.charge,
            "fiscal_years": list(self.data_years),
            "bounding": self.bounding,
            "bounds": {m: self.clip[m] for m in names},
            "norm_bounds": {m: self.norms[m] for m in names},
            "unit": self.unit,
            "release": key,
        }
        if self.mechanism == "gaussian":
            entry["rho"] = self.plan.rho
            entry["ledger_delta"] = self.ledger_delta
        if self.plan.approx is not None:
            entry["epsilon_delta"] = list(self.plan.approx)
        return entry

    def store_filters(self) -> dict[str, Any]:
        """The filters the store reads this release's data with."""
        filters: dict[str, Any] = dict(self.compiled.filters)
        # read only the fiscal years the release is charged on (a row dated past today's
        # fiscal year, say, is in no partition charged, so it is not read either)
        filters["fiscal_year"] = list(self.data_years)
        # only public cells are released, so only they should use up a unit's norm bound: keep
        # rows whose value is not public (NULL, say) out. Columns every valid row fills with a
        # public value need no filter (a cheaper query); a row with a code since removed from
        # the profile would only cost accuracy there, never privacy.
        for j, d in enumerate(self.compiled.dims):
            if d not in filters and d not in _ALWAYS_PUBLIC:
                filters[d] = sorted({k[j] for k in self.keys})
        return filters

    def bounded(self, scope: Scope) -> list[list[float]]:
        """Per measure, the bounded totals of every public cell (absent cells are 0)."""
        names = self.compiled.query.measures
        filters = self.store_filters()
        sums = scope.store.bounded_sums(
            self.unit,
            self.compiled.dims,
            self.compiled.measures,
            filters,
            clip=[self.clip[m] for m in names],
            norm=_dp.store_norm(self.mechanism, self.bounding),
            norm_bounds=[self.norms[m] for m in names],
            max_cells=self.max_cells,
        )
        found = {tuple(cell): vals for cell, vals in sums}
        zero = (0.0,) * len(names)
        return [[float(found.get(k, zero)[j]) for k in self.keys] for j in range(len(names))]

    def unit_cells(self, scope: Scope) -> UnitCells:
        """Per (unit, public cell), the exact partial sums, as arrays: for choosing bounds
        under DP and then bounding them without reading the store again."""
        found = scope.store.partial_sums(
            self.unit, self.compiled.dims, self.compiled.measures, self.store_filters()
        )
        return UnitCells.read(found, self.keys, len(self.compiled.measures))

    def bound(self, cells: UnitCells) -> list[list[float]]:
        """What :meth:`bounded` reads from the store, computed from partials already read."""
        names = self.compiled.query.measures
        return cells.bounded(
            clip=[self.clip[m] for m in names],
            norm=_dp.store_norm(self.mechanism, self.bounding),
            norm_bounds=[self.norms[m] for m in names],
            max_cells=self.max_cells,
        )

    def noisy_release(
        self, noisy: Sequence[Sequence[float]], key: str, data: str
    ) -> dict[str, Any]:
        """What the cache keeps of a release: the noisy totals and how they were made —
        nothing of who asked first or when, and no exact data version (``data`` is
        :func:`data_digest`), since another analyst may be served it."""
        plan = self.plan
        return {
            "dims": list(self.compiled.dims),
            "measures": list(self.compiled.query.measures),
            "keys": [list(k) for k in self.keys],
            "noisy": [list(v) for v in noisy],
            "noise": [
                {
                    "measure": mn.measure,
                    "sensitivity": mn.sensitivity,
                    "scale": mn.scale,
                    "noise": mn.noise,
                    "loss": mn.loss,
                    "clip": self.clip[mn.measure],
                    "norm_bound": self.norms[mn.measure] if self.bounding == "norm" else None,
                    # whole-number measures are rounded to whole numbers by "round"
                    "integer": MEASURES[mn.measure].integer,
                }
                for mn in plan.measures
            ],
            "mechanism": self.mechanism,
            "epsilon": plan.epsilon,
            "rho": plan.rho,
            "delta": plan.approx[1] if plan.approx else 0.0,
            "epsilon_delta": list(plan.approx) if plan.approx else None,
            "bounding": self.bounding,
            "max_cells": self.max_cells,
            "unit": self.unit,
            "query": self.compiled.query.key(),
            "fiscal_years": list(self.data_years),
            "charged_epsilon": self.charge,
            "data": data,
            "release": key,
        }


def prepare(
    scope: Scope,
    query: Query,
    *,
    epsilon: float | None = None,
    rho: float | None = None,
    bounds: Mapping[str, float] | None = None,
    norm_bounds: Mapping[str, float] | None = None,
    bounding: str | None = None,
    delta: float = DEFAULT_DELTA,
    chosen: bool = False,
) -> Prepared:
    """Check a release request and build its noise plan (reads no data). ``chosen``: the
    bounds were chosen from the data under DP (``bounds="auto"``), so they may pass the
    profile's."""
    profile = scope.profile
    policy = profile.dp
    if epsilon is not None and rho is not None:
        raise invalid("rho", "conflict", "give epsilon (Laplace) or rho (Gaussian), not both")
    mechanism = "gaussian" if rho is not None else "laplace"
    amount: Any = rho if rho is not None else epsilon
    if amount is None:
        amount = policy.default_epsilon
    currency = "rho" if mechanism == "gaussian" else "epsilon"
    if isinstance(amount, bool) or not (
        isinstance(amount, int | float) and amount > 0 and math.isfinite(amount)
    ):
        raise invalid(
            currency, "range", f"{currency} must be a positive finite number, not {amount!r}"
        )
    if mechanism == "gaussian" and not 0 < delta < 1:
        raise invalid("delta", "range", "delta must lie strictly between 0 and 1, e.g. 1e-6")
    how = bounding or policy.bounding
    if how not in _dp.BOUNDINGS:
        raise invalid(
            "bounding",
            "unknown",
            f"bounding must be one of {', '.join(_dp.BOUNDINGS)}, not {how!r}",
        )

    if mixed_sources(query.measures):
        raise invalid(
            "measures",
            "mixed_sources",
            "engagement, child outcome, follow-up, request and activity measures cannot "
            "share a release; ask for each in a release of its own",
        )
    _distinct_units(query.measures, policy.unit)
    compiled = compile_query(query, profile)
    clip, norms = _bounds(compiled, profile, bounds, norm_bounds, loosen=chosen)
    today = scope.today()
    years = profile.fiscal_years(today)
    keys = tuple(public_keys(compiled, profile, years))
    if not keys:
        raise ValidationError(
            [_Problem("where", "empty", "the filters leave no public cell to release")]
        )
    data_years = fiscal_years_read(compiled, profile, years)
    if not data_years:
        raise ValidationError(
            [
                _Problem(
                    "where",
                    "empty",
                    f"the filters leave no fiscal year of data between FY{years[0]} and "
                    f"FY{years[-1]} to release",
                )
            ]
        )
    names = compiled.query.measures
    n = len(keys)
    # whole-number totals stay whole unless norm scaling shrinks them: those get discrete noise
    integers = tuple(
        MEASURES[m].integer and how != "norm" and float(clip[m]).is_integer() for m in names
    )
    sens = [
        _dp.sensitivity(
            mechanism, how, clip=clip[m], norm_bound=norms[m], max_cells=policy.max_cells, n_cells=n
        )
        for m in names
    ]
    share = float(amount) / len(names)
    if not all(math.isfinite(v / share) and math.isfinite(v / math.sqrt(share)) for v in sens):
        # the noise scale (sensitivity over the budget) overflows: no finite noise gives it
        raise invalid(
            currency,
            "range",
            f"{currency} = {amount!r} is too small to release anything; use e.g. 0.1 to 2",
        )
    plan = _dp.plan(
        mechanism,
        float(amount),
        [(m, sv, i) for m, sv, i in zip(names, sens, integers, strict=True)],
        n,
        delta=delta,
    )
    return Prepared(
        compiled=compiled,
        keys=keys,
        years=years,
        data_years=data_years,
        clip=clip,
        norms=norms,
        bounding=how,
        mechanism=mechanism,
        budget=float(amount),
        delta=delta,
        integers=integers,
        plan=plan,
        unit=policy.unit,
        max_cells=policy.max_cells if how == "max_cells" else None,
        profile_name=profile.name,
        store=store_identity(scope.store.url),
        ledger_delta=policy.delta,
    )


def _distinct_units(measures: Sequence[str], unit: str) -> None:
    """A distinct count is released with noise only when its units are the privacy unit: one
    unit then adds at most 1 to each cell, the bound the noise is scaled for. A distinct
    count of other units (programs when the unit is the consultant) has no such bound the
    stores enforce: one consultant may serve any number of programs."""
    for m in measures:
        spec = MEASURES.get(m)
        if spec is not None and spec.distinct_units and spec.unit != unit:
            own = next(n for n, x in MEASURES.items() if x.distinct_units and x.unit == unit)
            raise invalid(
                "measures",
                "not_the_privacy_unit",
                f"{m} counts distinct {spec.unit}s, but the {unit} is this profile's privacy "
                f"unit ([privacy.dp] unit = {unit!r}): a count of {spec.unit}s has no bound "
                f"per {unit} to scale the noise for, so it cannot be released with noise; "
                f"the state's published tables show it (suppressed), or ask for {own} instead",
            )


def fiscal_years_read(
    compiled: CompiledQuery, profile: Profile, years: Sequence[int]
) -> tuple[int, ...]:
    """The fiscal years of data a query reads: of ``years`` (the profile's start to today),
    those its ``fiscal_year`` filter keeps, its ``date_from``/``date_to`` overlap and (with a
    ``date_in`` filter) at least one of its ranges overlaps."""
    read = set(years)
    f = compiled.filters
    wanted = f.get("fiscal_year")
    if wanted is not None:
        read &= {wanted} if isinstance(wanted, str) else set(wanted)
    if "date_from" in f:
        first = dt.date.fromisoformat(str(f["date_from"]))
        read = {y for y in read if profile.fiscal_year_bounds(y)[1] >= first}
    if "date_to" in f:
        last = dt.date.fromisoformat(str(f["date_to"]))
        read = {y for y in read if profile.fiscal_year_bounds(y)[0] <= last}
    if "date_in" in f:
        spans = date_ranges(f["date_in"])
        read = {
            y
            for y in read
            if any(
                lo <= profile.fiscal_year_bounds(y)[1] and profile.fiscal_year_bounds(y)[0] <= hi
                for lo, hi in spans
            )
        }
    return tuple(sorted(read))


def _bounds(
    compiled: CompiledQuery,
    profile: Profile,
    bounds: Mapping[str, float] | None,
    norm_bounds: Mapping[str, float] | None,
    *,
    loosen: bool = False,
) -> tuple[dict[str, float], dict[str, float]]:
    """Per measure: the clip per cell and the norm bound, the profile's tightened by the query."""
    policy = profile.dp
    clip: dict[str, float] = {}
    norms: dict[str, float] = {}
    for m in compiled.query.measures:
        c = float(policy.bounds.get(m, MEASURES[m].default_bound))
        clip[m] = c
        norms[m] = float(policy.norm_bounds.get(m, c * policy.max_cells))
    for label, asked, have in (("bounds", bounds, clip), ("norm_bounds", norm_bounds, norms)):
        for m, v in (asked or {}).items():
            if m not in have:
                raise invalid(
                    label, "unknown", f"{label} names {m!r}, which the query does not release"
                )
            if isinstance(v, bool) or not (isinstance(v, int | float) and math.isfinite(v)):
                raise invalid(
                    label, "range", f"{label}[{m!r}] must be a positive number, not {v!r}"
                )
            if v <= 0:
                raise invalid(
                    label, "range", f"{label}[{m!r}] must be a positive number, not {v!r}"
                )
            if v > have[m] and not loosen:
                raise Forbidden(
                    f"{label}[{m!r}] = {v:g} would loosen the profile's bound of {have[m]:g}; "
                    "a query may only tighten bounds"
                )
            have[m] = float(v)
    return clip, norms
