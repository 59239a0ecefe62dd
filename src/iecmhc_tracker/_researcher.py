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
from typing import TYPE_CHECKING, Any

import attrs

from . import _dp
from ._cache import ReleaseCache, canonical_key
from ._errors import BudgetExceeded, Forbidden, ValidationError
from ._errors import Problem as _Problem
from ._measures import MEASURES
from ._profile import Profile
from ._query import CompiledQuery, Query, compile_query, public_keys
from ._release import Release, check_postprocess

if TYPE_CHECKING:
    from ._tracker import Tracker

CURRENCIES: tuple[str, ...] = ("epsilon", "rho")
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

    __slots__ = ("__cache", "__tracker", "analyst")

    def __init__(self, tracker: Tracker, analyst: str, cache: ReleaseCache) -> None:
        if not isinstance(analyst, str) or not analyst.strip():
            raise ValueError("name the analyst, e.g. tracker.as_researcher('analyst-1')")
        self.__tracker = tracker
        self.__cache = cache
        self.analyst = analyst

    def __repr__(self) -> str:
        return f"ResearcherSession(analyst={self.analyst!r})"

    # -- budget ------------------------------------------------------------------------
    def _period(self) -> str:
        t = self.__tracker
        return period_of(t.profile, t._today())

    @property
    def budget(self) -> Budget:
        """Spent, limit and remaining per currency in the current period (from the store)."""
        t = self.__tracker
        period = self._period()
        spent = {c: t.store.spent(self.analyst, period, c) for c in CURRENCIES}
        limit = {"epsilon": t.profile.dp.budget_epsilon, "rho": t.profile.dp.budget_rho}
        return Budget(self.analyst, period, spent, limit)

    def history(self) -> list[dict[str, Any]]:
        """This analyst's audit log, oldest first: every release (cache hits with amount 0)."""
        return self.__tracker.store.ledger(self.analyst)

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
        """
        t = self.__tracker
        profile = t.profile
        policy = profile.dp
        steps = check_postprocess(postprocess)
        if not 0 < level < 1:
            raise ValueError("level must lie strictly between 0 and 1, e.g. 0.95")
        if epsilon is not None and rho is not None:
            raise ValueError("give epsilon (Laplace) or rho (Gaussian), not both")
        mechanism = "gaussian" if rho is not None else "laplace"
        amount = rho if rho is not None else (epsilon if epsilon is not None else None)
        if amount is None:
            amount = policy.default_epsilon
        currency = "rho" if mechanism == "gaussian" else "epsilon"
        if isinstance(amount, bool) or not (
            isinstance(amount, int | float) and amount > 0 and math.isfinite(amount)
        ):
            raise ValueError(f"{currency} must be a positive finite number, not {amount!r}")
        if mechanism == "gaussian" and not 0 < delta < 1:
            raise ValueError("delta must lie strictly between 0 and 1, e.g. 1e-6")
        how = bounding or ("norm" if policy.bounding == "norm" else policy.bounding)
        if how not in _dp.BOUNDINGS:
            raise ValueError(f"bounding must be one of {', '.join(_dp.BOUNDINGS)}")

        compiled = compile_query(query, profile)
        clip, norms = _bounds(compiled, profile, bounds, norm_bounds)
        today = t._today()
        years = list(range(profile.fiscal_year(profile.start_date), profile.fiscal_year(today) + 1))
        keys = public_keys(compiled, profile, years)
        if not keys:
            raise ValidationError(
                [_Problem("where", "empty", "the filters leave no public cell to release")]
            )
        n = len(keys)
        integers = [
            MEASURES[m].integer and how != "norm" and float(clip[m]).is_integer()
            for m in compiled.query.measures
        ]
        sens = [
            _dp.sensitivity(
                mechanism,
                how,
                clip=clip[m],
                norm_bound=norms[m],
                max_cells=policy.max_cells,
                n_cells=n,
            )
            for m in compiled.query.measures
        ]
        noise_plan = _dp.plan(
            mechanism,
            float(amount),
            [(m, s, i) for m, s, i in zip(compiled.query.measures, sens, integers, strict=True)],
            n,
            delta=delta,
        )
        charge = noise_plan.epsilon if mechanism == "laplace" else noise_plan.rho
        assert charge is not None
        data_version = t.store.data_version()
        parts = {
            "profile": profile.name,
            "unit": policy.unit,
            "query": compiled.query.key(),
            "bounds": [clip[m] for m in compiled.query.measures],
            "norm_bounds": [norms[m] for m in compiled.query.measures],
            "bounding": how,
            "max_cells": policy.max_cells if how == "max_cells" else None,
            "mechanism": mechanism,
            "budget": float(amount),
            "delta": delta if mechanism == "gaussian" else None,
            "years": years,
            "data_version": data_version,
        }
        key = canonical_key(parts)
        period = self._period()
        limit = policy.budget_rho if mechanism == "gaussian" else policy.budget_epsilon
        entry: dict[str, Any] = {
            "query": compiled.query.key(),
            "mechanism": mechanism,
            currency: charge,
            "bounding": how,
            "bounds": {m: clip[m] for m in compiled.query.measures},
            "norm_bounds": {m: norms[m] for m in compiled.query.measures},
            "unit": policy.unit,
            "data_version": data_version,
            "release": key,
        }
        if noise_plan.approx is not None:
            entry["epsilon_delta"] = list(noise_plan.approx)
        with self.__cache.lock(key):
            raw = self.__cache.get(key)
            if raw is not None:
                # already released: the same numbers again, logged, at no cost
                t.store.charge(
                    self.analyst, period, currency, 0.0, limit, {**entry, "cached": True}
                )
                return Release.from_noisy(
                    raw, analyst=self.analyst, level=level, postprocess=steps, cached=True
                )
            vectors = self._bounded(compiled, keys, clip, norms, how, mechanism)
            try:
                t.store.charge(
                    self.analyst, period, currency, charge, limit, {**entry, "cached": False}
                )
            except BudgetExceeded as exc:
                raise BudgetExceeded(
                    f"{self.analyst} has {exc.remaining:.4g} {currency} left in {period} "
                    f"(limit {limit:.4g}); this release needs {charge:.4g}. Ask for "
                    f"{currency} <= {exc.remaining:.4g}, or repeat an earlier query (cached "
                    "releases cost nothing)",
                    requested=charge,
                    remaining=exc.remaining,
                ) from None
            # noise is drawn only after the charge has been committed
            noisy = noise_plan.run(vectors)
            raw = {
                "dims": list(compiled.dims),
                "measures": list(compiled.query.measures),
                "keys": [list(k) for k in keys],
                "noisy": noisy,
                "noise": [
                    {
                        "measure": mn.measure,
                        "sensitivity": mn.sensitivity,
                        "scale": mn.scale,
                        "noise": mn.noise,
                        "loss": mn.loss,
                        "clip": clip[mn.measure],
                        "norm_bound": norms[mn.measure] if how == "norm" else None,
                        "integer": integers[j],
                    }
                    for j, mn in enumerate(noise_plan.measures)
                ],
                "mechanism": mechanism,
                "epsilon": noise_plan.epsilon,
                "rho": noise_plan.rho,
                "delta": noise_plan.approx[1] if noise_plan.approx else 0.0,
                "epsilon_delta": list(noise_plan.approx) if noise_plan.approx else None,
                "bounding": how,
                "max_cells": policy.max_cells if how == "max_cells" else None,
                "unit": policy.unit,
                "query": compiled.query.key(),
                "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "data_version": data_version,
                "release": key,
            }
            self.__cache.set(key, raw)
        return Release.from_noisy(
            raw, analyst=self.analyst, level=level, postprocess=steps, cached=False
        )

    def _bounded(
        self,
        compiled: CompiledQuery,
        keys: list[tuple[Any, ...]],
        clip: Mapping[str, float],
        norms: Mapping[str, float],
        how: str,
        mechanism: str,
    ) -> list[list[float]]:
        """Per measure, the bounded totals of every public cell (absent cells are 0)."""
        t = self.__tracker
        names = compiled.query.measures
        filters: dict[str, Any] = dict(compiled.filters)
        # only public cells are released, so only they may use up a unit's norm bound
        for j, d in enumerate(compiled.dims):
            if d not in filters:
                filters[d] = sorted({k[j] for k in keys})
        sums = t.store.bounded_sums(
            t.profile.dp.unit,
            compiled.dims,
            compiled.measures,
            filters,
            clip=[clip[m] for m in names],
            norm=_dp.store_norm(mechanism, how),
            norm_bounds=[norms[m] for m in names],
            max_cells=t.profile.dp.max_cells if how == "max_cells" else None,
        )
        found = {tuple(cell): vals for cell, vals in sums}
        zero = (0.0,) * len(names)
        return [[float(found.get(k, zero)[j]) for k in keys] for j in range(len(names))]


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
                raise ValueError(f"{label} names {m!r}, which the query does not release")
            if isinstance(v, bool) or not (isinstance(v, int | float) and math.isfinite(v)):
                raise ValueError(f"{label}[{m!r}] must be a positive number, not {v!r}")
            if v <= 0:
                raise ValueError(f"{label}[{m!r}] must be a positive number, not {v!r}")
            if v > have[m]:
                raise Forbidden(
                    f"{label}[{m!r}] = {v:g} would loosen the profile's bound of {have[m]:g}; "
                    "a query may only tighten bounds"
                )
            have[m] = float(v)
    return clip, norms
