"""``ResearcherSession``: differentially private releases on a persisted budget, never rows.

``tracker.as_researcher("analyst-1").release(Query(...), epsilon=0.5)`` checks the query
(id-like fields are refused), works out which fiscal years of data it reads, bounds each
unit's contribution inside the store, charges the release on each of those fiscal years
against the analyst's allotment and everyone's lifetime cap (one transaction in the store;
``BudgetExceeded`` says what is left) and only then draws OpenDP noise. A repeated question on
unchanged data is served from the release cache: the identical numbers, at no cost (logged
with amount 0). See ``_accounting`` for the accountant's rules.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from . import _accuracy, _autobounds
from ._accounting import fiscal_year_of, normalise_analyst, partitions, shown
from ._accuracy import AccountDraw, AccuracyReport
from ._autobounds import AUTO_SHARE
from ._cache import ReleaseCache, canonical_key
from ._dp_quantiles import dp_quantile
from ._errors import BudgetExceeded, invalid
from ._prepare import DEFAULT_DELTA, Prepared, prepare
from ._query import Query
from ._release import Release, check_postprocess
from ._scope import Scope


@attrs.frozen(slots=True)
class FiscalYearBudget:
    """One fiscal year of data: what the analyst spent of it and may still spend, and what is
    left of everyone's lifetime cap on it (all in ε)."""

    fiscal_year: int
    spent: float
    allotment: float
    lifetime_spent: float
    lifetime_cap: float

    @property
    def lifetime_remaining(self) -> float:
        return max(self.lifetime_cap - self.lifetime_spent, 0.0)

    @property
    def remaining(self) -> float:
        """What this analyst can still spend on the year: her allotment's rest, or less when
        the lifetime cap has less left."""
        return max(min(self.allotment - self.spent, self.lifetime_remaining), 0.0)


@attrs.frozen(slots=True)
class Budget:
    """An analyst's privacy budget per fiscal year of data, read from the persisted ledger.

    ``years`` holds one :class:`FiscalYearBudget` per fiscal year there can be data of (the
    profile's start to today); ``budget[2025]`` is one of them. ``spent`` and ``remaining``
    map each fiscal year to the analyst's ε.
    """

    analyst: str
    years: tuple[FiscalYearBudget, ...]

    def __getitem__(self, fiscal_year: int) -> FiscalYearBudget:
        for y in self.years:
            if y.fiscal_year == fiscal_year:
                return y
        raise KeyError(fiscal_year)

    @property
    def spent(self) -> dict[int, float]:
        return {y.fiscal_year: y.spent for y in self.years}

    @property
    def remaining(self) -> dict[int, float]:
        return {y.fiscal_year: y.remaining for y in self.years}

    @property
    def total_spent(self) -> float:
        return sum(y.spent for y in self.years)

    def __str__(self) -> str:
        rows = [
            f"FY{y.fiscal_year}: {y.spent:.4g} spent of {y.allotment:.4g} "
            f"({y.remaining:.4g} left; {y.lifetime_remaining:.4g} of the lifetime cap "
            f"{y.lifetime_cap:.4g} left)"
            for y in self.years
        ]
        return f"budget of {self.analyst} in epsilon per fiscal year of data: " + "; ".join(rows)


def epsilon_to_rho(epsilon: float, delta: float) -> float:
    """The largest ρ whose charge (``rho_to_epsilon`` at ``delta``) is at most ``epsilon``."""
    if epsilon <= 0:
        return 0.0
    a = math.log(1.0 / delta)
    return (math.sqrt(a + epsilon) - math.sqrt(a)) ** 2


def data_digest(store: str, data_version: int) -> str:
    """An opaque name of (store, data version): equal data, equal digest, and nothing about
    how often or when the data changed."""
    text = f"{store}\x00{int(data_version)}".encode()
    return hashlib.blake2b(text, digest_size=16, person=b"iecmhc-data").hexdigest()


class ResearcherSession:
    """One analyst's access: differentially private releases only, on a budget per fiscal
    year of data. The analyst id is normalised (``_accounting.normalise_analyst``)."""

    __slots__ = ("__cache", "__scope", "analyst")

    def __init__(self, scope: Scope, analyst: str, cache: ReleaseCache) -> None:
        self.analyst = normalise_analyst(analyst)
        self.__scope = scope
        self.__cache = cache

    def quantile(
        self, statistic: str, fiscal_year: int, *, q: float = 0.5, epsilon: float = 0.5
    ) -> dict[str, Any]:
        """A DP median (or ``q`` quantile) of engagement dosage (``"hours_per_week"``) or of
        ``"days_to_assignment"`` in one fiscal year, charged ``epsilon`` on it."""
        return dp_quantile(self.__scope, self.analyst, statistic, fiscal_year, q=q, epsilon=epsilon)

    def __repr__(self) -> str:
        return f"ResearcherSession(analyst={self.analyst!r})"

    # -- budget ------------------------------------------------------------------------
    @property
    def budget(self) -> Budget:
        """Per fiscal year of data: spent, allotment, remaining, and the lifetime cap's rest."""
        t = self.__scope
        policy = t.profile.dp
        years = []
        for part in partitions(t.profile.fiscal_years(t.today())):
            years.append(
                FiscalYearBudget(
                    fiscal_year=fiscal_year_of(part),
                    spent=t.store.spent(self.analyst, part),
                    allotment=policy.analyst_epsilon_per_fiscal_year,
                    lifetime_spent=t.store.spent(None, part),
                    lifetime_cap=policy.lifetime_epsilon_per_fiscal_year,
                )
            )
        return Budget(self.analyst, tuple(years))

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
        bounds: Mapping[str, float] | str | None = None,
        norm_bounds: Mapping[str, float] | None = None,
        bounding: str | None = None,
        postprocess: Sequence[str] | str | None = ("clamp", "round"),
        level: float = 0.95,
        delta: float = DEFAULT_DELTA,
    ) -> Release:
        """Release ``query`` with differential privacy.

        ``epsilon`` (pure ε, Laplace noise) or ``rho`` (ρ-zCDP, Gaussian noise; its (ε, δ) at
        ``delta`` is reported, and it is charged ``ρ + 2·√(ρ·ln(1/δ))`` ε at the profile's δ);
        neither means the profile's default ε. ``bounds`` (most one unit adds to one cell)
        and ``norm_bounds`` (most one unit adds over all cells; L1 for Laplace, L2 for
        Gaussian) may tighten the profile's, never loosen them. ``bounding`` is ``"norm"``
        (scale a unit's contributions down, drops no cell), ``"max_cells"`` (keep at most the
        profile's ``max_cells`` cells per unit, chosen at random) or ``"none"``.
        ``postprocess``: any of ``"clamp"`` (at 0) and ``"round"``; intervals are adjusted so
        they stay honest. ``level``: the intervals' confidence (0.95).

        The release is charged on every fiscal year of data it reads (``where={"fiscal_year":
        2025}`` reads one; a query over all years reads every year from the profile's start
        to today). Raises ``Forbidden`` for id-like fields or loosened bounds,
        ``BudgetExceeded`` (saying what is left, and on which fiscal year) when the charge
        does not fit the analyst's allotment or everyone's lifetime cap on one of them.
        """
        t = self.__scope
        steps = check_postprocess(postprocess)
        _check_level(level)
        auto = _auto(bounds, norm_bounds)
        prep = prepare(
            t,
            query,
            epsilon=epsilon,
            rho=rho,
            bounds=_fixed(bounds),
            norm_bounds=norm_bounds,
            bounding=bounding,
            delta=delta,
        )
        data = data_digest(prep.store, t.store.data_version())
        key = prep.cache_key(data)
        if auto:
            key = canonical_key({"release": key, "bounds": "auto", "share": AUTO_SHARE})
        policy = t.profile.dp
        parts = partitions(prep.data_years)
        entry = {**prep.audit_entry(key), "data": data}

        def charge(amount: float, cached: bool) -> None:
            t.store.charge(
                self.analyst,
                parts,
                amount,
                allotment=policy.analyst_epsilon_per_fiscal_year,
                cap=policy.lifetime_epsilon_per_fiscal_year,
                entry={**entry, "cached": cached},
            )

        with self.__cache.lock(key):
            raw = self.__cache.get(key)
            if raw is not None:
                # already released: the same numbers again, logged, at no cost
                charge(0.0, True)
                return self._served(raw, level, steps, cached=True)
            if auto:
                # the bounds come from the data under DP: charge first, then draw everything
                try:
                    charge(prep.charge, False)
                except BudgetExceeded as exc:
                    raise self._refusal(exc, prep, parts) from None
                raw = self._auto_release(prep, key, data)
                self.__cache.set(key, raw)
                return self._served(raw, level, steps, cached=False)
            # exact totals are read before the charge (a storage failure then costs nothing)
            vectors = prep.bounded(t)
            try:
                charge(prep.charge, False)
            except BudgetExceeded as exc:
                raise self._refusal(exc, prep, parts) from None
            # noise is drawn only after the charge has been committed
            raw = prep.noisy_release(prep.plan.run(vectors), key, data)
            self.__cache.set(key, raw)
        return self._served(raw, level, steps, cached=False)

    def _auto_release(self, prep: Prepared, key: str, data: str) -> dict[str, Any]:
        """Choose the bounds under DP with ``AUTO_SHARE`` of the budget, then release with
        the rest (see ``_autobounds``); the whole was charged already."""
        t = self.__scope
        names = prep.compiled.query.measures
        n = len(prep.keys)
        per_unit = min(prep.max_cells, n) if prep.max_cells else n
        # one read of the per-unit cell totals serves the choice and the release
        cells = prep.unit_cells(t)
        chosen = _autobounds.choose(
            cells,
            measures=names,
            start=prep.clip,
            start_norms=prep.norms,
            mechanism=prep.mechanism,
            bounding=prep.bounding,
            budget=AUTO_SHARE * prep.budget,
            n_cells=n,
            cells_per_unit=per_unit,
        )
        rest = (1 - AUTO_SHARE) * prep.budget
        final = prepare(
            t,
            prep.compiled.query,
            epsilon=None if prep.mechanism == "gaussian" else rest,
            rho=rest if prep.mechanism == "gaussian" else None,
            bounds=chosen.clip,
            norm_bounds=chosen.norms if prep.bounding == "norm" else None,
            bounding=prep.bounding,
            delta=prep.delta,
            chosen=True,
        )
        raw = final.noisy_release(final.plan.run(final.bound(cells)), key, data)
        whole = prep.plan
        raw.update(
            chosen.metadata(),
            epsilon=whole.epsilon,
            rho=whole.rho,
            epsilon_delta=list(whole.approx) if whole.approx else None,
            delta=whole.approx[1] if whole.approx else 0.0,
            charged_epsilon=prep.charge,
            release_budget=rest,
        )
        return raw

    # -- before spending ---------------------------------------------------------------
    def preview(
        self,
        query: Query,
        *,
        epsilon: float | None = None,
        rho: float | None = None,
        bounds: Mapping[str, float] | str | None = None,
        norm_bounds: Mapping[str, float] | None = None,
        bounding: str | None = None,
        level: float = 0.95,
        delta: float = DEFAULT_DELTA,
    ) -> AccuracyReport:
        """What ``release`` with the same arguments would cost and how wide its intervals
        would be, per measure, and what is left on each fiscal year it draws on. Reads no
        data and spends nothing. With ``bounds="auto"`` the half-widths are those at the
        profile's bounds with the release's share (``1 - AUTO_SHARE``) of the budget."""
        t = self.__scope
        _check_level(level)
        auto = _auto(bounds, norm_bounds)
        kwargs: dict[str, Any] = dict(bounding=bounding, delta=delta, norm_bounds=norm_bounds)
        whole = prepare(t, query, epsilon=epsilon, rho=rho, bounds=_fixed(bounds), **kwargs)
        prep = whole
        if auto:
            rest = (1 - AUTO_SHARE) * whole.budget
            gaussian = whole.mechanism == "gaussian"
            prep = prepare(
                t,
                query,
                epsilon=None if gaussian else rest,
                rho=rest if gaussian else None,
                **kwargs,
            )
        budget = self.budget
        accounts = tuple(
            AccountDraw.of(y, whole.charge, budget[y].remaining, budget[y].lifetime_remaining)
            for y in whole.data_years
        )
        out = _accuracy.report(prep, level, accounts, auto_bounds=auto)
        plan = whole.plan
        return attrs.evolve(
            out,
            epsilon=None if plan.epsilon is None else shown(plan.epsilon),
            rho=None if plan.rho is None else shown(plan.rho),
            charge=shown(whole.charge),
        )

    def epsilon_for(
        self,
        query: Query,
        *,
        measure: str,
        half_width: float,
        level: float = 0.95,
        mechanism: str = "laplace",
        bounds: Mapping[str, float] | None = None,
        norm_bounds: Mapping[str, float] | None = None,
        bounding: str | None = None,
        delta: float = DEFAULT_DELTA,
    ) -> float:
        """The smallest ε (``mechanism="gaussian"``: ρ) at which ``measure``'s intervals at
        ``level`` are at most ``half_width`` wide on each side. Reads no data, spends nothing;
        ``preview`` at the answer shows the whole cost."""
        _check_level(level)
        if measure not in query.measures:
            raise invalid("measure", "unknown", f"the query does not release {measure!r}")
        if isinstance(half_width, bool) or not (
            isinstance(half_width, int | float) and 0 < half_width < math.inf
        ):
            raise invalid(
                "half_width", "range", f"half_width must be a positive number, not {half_width!r}"
            )
        if mechanism not in ("laplace", "gaussian"):
            raise invalid("mechanism", "unknown", "mechanism must be laplace or gaussian")
        kwargs: dict[str, Any] = dict(
            bounds=bounds, norm_bounds=norm_bounds, bounding=bounding, delta=delta
        )
        currency = "rho" if mechanism == "gaussian" else "epsilon"

        def at(amount: float) -> Prepared:
            return prepare(self.__scope, query, **{currency: amount, **kwargs})

        probe = at(1.0)
        mn = next(m for m in probe.plan.measures if m.measure == measure)
        scale = _accuracy.scale_for_half_width(mn.noise, float(half_width), level)
        amount = _accuracy.budget_for_scale(probe, measure, scale)
        for _ in range(60):
            got = next(m for m in at(amount).plan.measures if m.measure == measure)
            if got.half_width(level) <= half_width:
                return amount
            amount *= 1 + 1e-9 * 4 ** min(_, 12)
        raise invalid("half_width", "range", f"no {currency} gives a half-width of {half_width!r}")

    def _served(
        self, raw: Mapping[str, Any], level: float, steps: Sequence[str], *, cached: bool
    ) -> Release:
        # the time is when this analyst was served: a cache hit says nothing of when (or
        # whether) someone else asked first
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return Release.from_noisy(
            {**raw, "time": now},
            analyst=self.analyst,
            level=level,
            postprocess=steps,
            cached=cached,
            labels=self._labels(raw["dims"]),
        )

    def _labels(self, dims: Sequence[str]) -> dict[str, dict[Any, str]]:
        """The profile's public labels of each coded dimension's codes."""
        profile = self.__scope.profile
        out: dict[str, dict[Any, str]] = {}
        for d in dims:
            if d in ("fiscal_year", "quarter"):
                continue
            try:
                out[d] = {c: profile.code_label(d, c) for c in profile.code_set(d)}
            except (KeyError, ValueError):
                continue
        return out

    def _refusal(self, exc: BudgetExceeded, prep: Prepared, parts: Sequence[str]) -> BudgetExceeded:
        policy = self.__scope.profile.dp
        left = exc.remaining
        on = f"{exc.partition} data" if exc.partition else "that data"
        if exc.limit == "lifetime":
            who = (
                f"everyone together has {left:.4g} epsilon left on {on} (lifetime cap "
                f"{policy.lifetime_epsilon_per_fiscal_year:.4g} per fiscal year)"
            )
        else:
            who = (
                f"{self.analyst} has {left:.4g} epsilon left on {on} (allotment "
                f"{policy.analyst_epsilon_per_fiscal_year:.4g} per fiscal year)"
            )
        need = f"{prep.charge:.4g} epsilon on each of {', '.join(parts)}"
        if prep.mechanism == "gaussian":
            ask = f"rho <= {epsilon_to_rho(left, policy.delta):.4g}"
            need += f" (rho = {prep.budget:.4g} at delta = {policy.delta:g})"
        else:
            ask = f"epsilon <= {left:.4g}"
        return BudgetExceeded(
            f"{who}; this release needs {need}. Ask for {ask}, narrow the query to fewer "
            "fiscal years, or repeat an earlier query (cached releases cost nothing)",
            requested=prep.charge,
            remaining=left,
            partition=exc.partition,
            limit=exc.limit,
        )


def _check_level(level: float) -> None:
    if isinstance(level, bool) or not (isinstance(level, int | float) and 0 < level < 1):
        raise invalid("level", "range", "level must lie strictly between 0 and 1, e.g. 0.95")


def _auto(bounds: object, norm_bounds: object) -> bool:
    """Whether the bounds are to be chosen from the data (``bounds="auto"``)."""
    if not isinstance(bounds, str):
        return False
    if bounds != "auto":
        raise invalid("bounds", "unknown", f"bounds must be a mapping or 'auto', not {bounds!r}")
    if norm_bounds:
        raise invalid(
            "norm_bounds", "conflict", "bounds='auto' chooses the norm bounds too; give neither"
        )
    return True


def _fixed(bounds: Mapping[str, float] | str | None) -> Mapping[str, float] | None:
    return None if isinstance(bounds, str) else bounds
