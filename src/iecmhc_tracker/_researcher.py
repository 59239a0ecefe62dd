"""``ResearcherSession``: differentially private releases on a persisted budget, never rows.

``tracker.as_researcher("analyst-1").release(Query(...), epsilon=0.5)`` checks the query
(id-like fields are refused), bounds each unit's contribution inside the store, authorises and
charges the release on the analyst's ledger in the store (one transaction; ``BudgetExceeded``
says what is left), and only then draws OpenDP noise. A repeated question on unchanged data is
served from the release cache: the identical numbers, at no cost (logged with amount 0).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from . import _dp
from ._cache import ReleaseCache, canonical_key, store_identity
from ._errors import BudgetExceeded, Forbidden, ValidationError, invalid
from ._errors import Problem as _Problem
from ._measures import MEASURES
from ._profile import Profile
from ._query import CompiledQuery, Query, compile_query, public_keys
from ._release import Release, check_postprocess
from ._scope import Scope

CURRENCIES: tuple[str, ...] = ("epsilon", "rho")
#: dimensions every valid row carries with a value from the public lists (required or derived
#: from the validated date)
_ALWAYS_PUBLIC = frozenset({"county", "region", "kind", "fiscal_year", "quarter"})
DEFAULT_DELTA = 1e-6


@attrs.frozen(slots=True)
class Budget:
    """An analyst's privacy budget in the current period, read from the persisted ledger.

    ``spent``, ``limit`` and ``remaining`` map each currency (``"epsilon"`` for Laplace
    releases, ``"rho"`` for Gaussian ones) to a number.
    """

    analyst: str
    period: str
    spent: Mapping[str, float] = attrs.field(hash=False)
    limit: Mapping[str, float] = attrs.field(hash=False)
    currencies: tuple[str, ...] = CURRENCIES

    @property
    def remaining(self) -> dict[str, float]:
        return {c: max(self.limit[c] - self.spent[c], 0.0) for c in self.currencies}

    def __str__(self) -> str:
        parts = [
            f"{c}: {self.spent[c]:.4g} spent of {self.limit[c]:.4g} ({self.remaining[c]:.4g} left)"
            for c in self.currencies
        ]
        return f"budget of {self.analyst} in {self.period}: " + "; ".join(parts)


def period_of(profile: Profile, day: dt.date) -> str:
    """The budget period ``day`` falls in, per the profile (fiscal year, month or forever)."""
    if profile.dp.period == "fiscal_year":
        return f"FY{profile.fiscal_year(day)}"
    if profile.dp.period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return "forever"


class ResearcherSession:
    """One analyst's access: differentially private releases only, on a budget per period."""

    __slots__ = ("__cache", "__scope", "analyst")

    def __init__(self, scope: Scope, analyst: str, cache: ReleaseCache) -> None:
        if not isinstance(analyst, str) or not analyst.strip():
            raise invalid(
                "analyst", "required", "name the analyst, e.g. tracker.as_researcher('analyst-1')"
            )
        self.__scope = scope
        self.__cache = cache
        self.analyst = analyst

    def __repr__(self) -> str:
        return f"ResearcherSession(analyst={self.analyst!r})"

    # -- budget ------------------------------------------------------------------------
    def _period(self) -> str:
        t = self.__scope
        return period_of(t.profile, t.today())

    @property
    def budget(self) -> Budget:
        """Spent, limit and remaining per currency in the current period (from the store)."""
        t = self.__scope
        period = self._period()
        spent = {c: t.store.spent(self.analyst, period, c) for c in CURRENCIES}
        limit = {"epsilon": t.profile.dp.budget_epsilon, "rho": t.profile.dp.budget_rho}
        return Budget(self.analyst, period, spent, limit)

    def history(self) -> list[dict[str, Any]]:
        """This analyst's audit log, oldest first: every release (cache hits with amount 0)."""
        return self.__scope.store.ledger(self.analyst)

    # -- releases ----------------------------------------------------------------------
    def release(
        self,
        query: Query,
        *,
        epsilon: float | None = None,
        rho: float | None = None,
        bounds: Mapping[str, float] | None = None,
        norm_bounds: Mapping[str, float] | None = None,
        bounding: str | None = None,
        postprocess: Sequence[str] | str | None = ("clamp", "round"),
        level: float = 0.95,
        delta: float = DEFAULT_DELTA,
    ) -> Release:
        """Release ``query`` with differential privacy.

        ``epsilon`` (pure ε, Laplace noise) or ``rho`` (ρ-zCDP, Gaussian noise; its (ε, δ) at
        ``delta`` is reported); neither means the profile's default ε. ``bounds`` (most one
        unit adds to one cell) and ``norm_bounds`` (most one unit adds over all cells; L1 for
        Laplace, L2 for Gaussian) may tighten the profile's, never loosen them. ``bounding`` is
        ``"norm"`` (scale a unit's contributions down, drops no cell), ``"max_cells"`` (keep
        at most the profile's ``max_cells`` cells per unit, chosen at random) or ``"none"``.
        ``postprocess``: any of ``"clamp"`` (at 0) and ``"round"``; intervals are adjusted so
        they stay honest. ``level``: the intervals' confidence (0.95).

        Raises ``Forbidden`` for id-like fields or loosened bounds, ``BudgetExceeded`` (saying
        what is left) when the release does not fit the analyst's budget for the period.
        """
        t = self.__scope
        steps = check_postprocess(postprocess)
        if not 0 < level < 1:
            raise invalid("level", "range", "level must lie strictly between 0 and 1, e.g. 0.95")
        prep = prepare(
            t,
            query,
            epsilon=epsilon,
            rho=rho,
            bounds=bounds,
            norm_bounds=norm_bounds,
            bounding=bounding,
            delta=delta,
        )
        data_version = t.store.data_version()
        key = prep.cache_key(data_version)
        period = self._period()
        policy = t.profile.dp
        limit = policy.budget_rho if prep.mechanism == "gaussian" else policy.budget_epsilon
        entry = {**prep.audit_entry(key), "data_version": data_version}
        with self.__cache.lock(key):
            raw = self.__cache.get(key)
            if raw is not None:
                # already released: the same numbers again, logged, at no cost
                t.store.charge(
                    self.analyst, period, prep.currency, 0.0, limit, {**entry, "cached": True}
                )
                return Release.from_noisy(
                    raw, analyst=self.analyst, level=level, postprocess=steps, cached=True
                )
            # exact totals are read before the charge (a storage failure then costs nothing)
            vectors = prep.bounded(t)
            try:
                t.store.charge(
                    self.analyst,
                    period,
                    prep.currency,
                    prep.charge,
                    limit,
                    {**entry, "cached": False},
                )
            except BudgetExceeded as exc:
                raise BudgetExceeded(
                    f"{self.analyst} has {exc.remaining:.4g} {prep.currency} left in {period} "
                    f"(limit {limit:.4g}); this release needs {prep.charge:.4g}. Ask for "
                    f"{prep.currency} <= {exc.remaining:.4g}, or repeat an earlier query "
                    "(cached releases cost nothing)",
                    requested=prep.charge,
                    remaining=exc.remaining,
                ) from None
            # noise is drawn only after the charge has been committed
            raw = prep.noisy_release(prep.plan.run(vectors), key, data_version)
            self.__cache.set(key, raw)
        return Release.from_noisy(
            raw, analyst=self.analyst, level=level, postprocess=steps, cached=False
        )


@attrs.frozen(slots=True)
class Prepared:
    """A checked release request: its public cells, bounds and OpenDP noise plan, before
    any data is read. Library-internal (it can read exact bounded totals from a tracker)."""

    compiled: CompiledQuery
    keys: tuple[tuple[Any, ...], ...]
    years: tuple[int, ...]
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

    @property
    def currency(self) -> str:
        return "rho" if self.mechanism == "gaussian" else "epsilon"

    @property
    def charge(self) -> float:
        """What the release costs: OpenDP's composition map (ε or ρ) of the whole plan."""
        value = self.plan.epsilon if self.mechanism == "laplace" else self.plan.rho
        assert value is not None
        return value

    def cache_key(self, data_version: int) -> str:
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
                "data_version": data_version,
            }
        )

    def audit_entry(self, key: str) -> dict[str, Any]:
        names = self.compiled.query.measures
        entry: dict[str, Any] = {
            "query": self.compiled.query.key(),
            "mechanism": self.mechanism,
            self.currency: self.charge,
            "bounding": self.bounding,
            "bounds": {m: self.clip[m] for m in names},
            "norm_bounds": {m: self.norms[m] for m in names},
            "unit": self.unit,
            "release": key,
        }
        if self.plan.approx is not None:
            entry["epsilon_delta"] = list(self.plan.approx)
        return entry

    def bounded(self, scope: Scope) -> list[list[float]]:
        """Per measure, the bounded totals of every public cell (absent cells are 0)."""
        names = self.compiled.query.measures
        filters: dict[str, Any] = dict(self.compiled.filters)
        # only public cells are released, so only they should use up a unit's norm bound: keep
        # rows whose value is not public (NULL, say) out. Columns every valid row fills with a
        # public value need no filter (a cheaper query); a row with a code since removed from
        # the profile would only cost accuracy there, never privacy.
        for j, d in enumerate(self.compiled.dims):
            if d not in filters and d not in _ALWAYS_PUBLIC:
                filters[d] = sorted({k[j] for k in self.keys})
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

    def noisy_release(
        self, noisy: Sequence[Sequence[float]], key: str, data_version: int
    ) -> dict[str, Any]:
        """What the cache keeps of a release: the noisy totals and how they were made."""
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
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "data_version": data_version,
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
) -> Prepared:
    """Check a release request and build its noise plan (reads no data)."""
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

    compiled = compile_query(query, profile)
    clip, norms = _bounds(compiled, profile, bounds, norm_bounds)
    today = scope.today()
    years = profile.fiscal_years(today)
    keys = tuple(public_keys(compiled, profile, years))
    if not keys:
        raise ValidationError(
            [_Problem("where", "empty", "the filters leave no public cell to release")]
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
    )


def _bounds(
    compiled: CompiledQuery,
    profile: Profile,
    bounds: Mapping[str, float] | None,
    norm_bounds: Mapping[str, float] | None,
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
            if v > have[m]:
                raise Forbidden(
                    f"{label}[{m!r}] = {v:g} would loosen the profile's bound of {have[m]:g}; "
                    "a query may only tighten bounds"
                )
            have[m] = float(v)
    return clip, norms
