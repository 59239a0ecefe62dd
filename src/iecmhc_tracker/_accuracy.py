"""What a release would cost and how accurate it would be, before any budget is spent.

``ResearcherSession.preview`` builds an :class:`AccuracyReport` from the same checked request
(:class:`~iecmhc_tracker._prepare.Prepared`) the release uses, so the half-width it reports
is the half-width of the release that follows. It reads no data (the noise scale depends on
the bounds, the budget and the public cells only) and charges nothing. ``epsilon_needed``
inverts the half-width with OpenDP's accuracy helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import opendp.prelude as dp

from ._accounting import shown
from ._prepare import Prepared


@attrs.frozen(slots=True)
class MeasureAccuracy:
    """One measure of a previewed release."""

    measure: str
    #: "laplace", "discrete_laplace", "gaussian" or "discrete_gaussian"
    noise: str
    scale: float
    sensitivity: float
    #: every cell's value lies within ± this of its bounded total with probability >= level
    half_width: float
    clip: float
    norm_bound: float | None
    #: this measure's share of the release's ε (Laplace) or ρ (Gaussian)
    loss: float


@attrs.frozen(slots=True)
class AccountDraw:
    """One fiscal year of data the release is charged on: what is left there before and after
    (shown rounded, ``_accounting.shown``); ``fits`` is judged on the exact ledger figures."""

    fiscal_year: int
    charge: float
    remaining: float
    lifetime_remaining: float
    fits: bool

    @classmethod
    def of(
        cls, fiscal_year: int, charge: float, remaining: float, lifetime_remaining: float
    ) -> AccountDraw:
        fits = charge <= min(remaining, lifetime_remaining) + 1e-9
        return cls(fiscal_year, shown(charge), shown(remaining), shown(lifetime_remaining), fits)

    @property
    def remaining_after(self) -> float:
        return max(self.remaining - self.charge, 0.0)


@attrs.frozen(slots=True)
class AccuracyReport:
    """The error and the cost of a release, known before it is made (nothing read or spent).

    ``measures``: per measure its noise, scale, sensitivity and half-width at ``level``;
    ``charge``: the ε charged on each fiscal year in ``accounts``, each with what is left
    there (budgets shown to six significant digits, as a release's metadata shows them).
    ``auto_bounds``: the bounds will be chosen from the data (``bounds="auto"``); the
    half-widths are then those at the profile's bounds with the release's share of the budget,
    and the release's own depend on the bounds it finds.
    """

    query: str
    mechanism: str
    epsilon: float | None
    rho: float | None
    charge: float
    level: float
    n_cells: int
    bounding: str
    measures: tuple[MeasureAccuracy, ...]
    accounts: tuple[AccountDraw, ...]
    auto_bounds: bool = False

    @property
    def fits(self) -> bool:
        """Whether the budget left on every fiscal year read covers the charge."""
        return all(a.fits for a in self.accounts)

    def half_width(self, measure: str) -> float:
        for m in self.measures:
            if m.measure == measure:
                return m.half_width
        raise KeyError(f"the previewed release has no measure {measure!r}")

    def to_dict(self) -> dict[str, Any]:
        out = attrs.asdict(self)
        out["fits"] = self.fits
        return out

    def __str__(self) -> str:
        budget = (
            f"rho = {self.rho:.4g}" if self.rho is not None else f"epsilon = {self.epsilon:.4g}"
        )
        lines = [
            f"preview of {self.query} ({self.mechanism}, {budget}; {self.n_cells} cells, "
            f"{round(100 * self.level, 1):g} % intervals; nothing read or spent)"
        ]
        for m in self.measures:
            note = " (at the profile's bounds; auto bounds decide)" if self.auto_bounds else ""
            lines.append(
                f"  {m.measure}: ± {m.half_width:,.0f} per cell{note} "
                f"(noise {m.noise}, scale {m.scale:,.4g})"
            )
        for a in self.accounts:
            lines.append(
                f"  FY{a.fiscal_year}: charge {a.charge:.4g} of {a.remaining:.4g} left "
                f"({a.remaining_after:.4g} after)" + ("" if a.fits else " — does not fit")
            )
        return "\n".join(lines)


def report(
    prep: Prepared,
    level: float,
    accounts: tuple[AccountDraw, ...],
    *,
    auto_bounds: bool = False,
) -> AccuracyReport:
    plan = prep.plan
    measures = tuple(
        MeasureAccuracy(
            measure=mn.measure,
            noise=mn.noise,
            scale=mn.scale,
            sensitivity=mn.sensitivity,
            half_width=mn.half_width(level),
            clip=prep.clip[mn.measure],
            norm_bound=prep.norms[mn.measure] if prep.bounding == "norm" else None,
            loss=mn.loss,
        )
        for mn in plan.measures
    )
    return AccuracyReport(
        query=prep.compiled.query.key(),
        mechanism=prep.mechanism,
        epsilon=shown(prep.budget) if prep.mechanism == "laplace" else None,
        rho=shown(prep.budget) if prep.mechanism == "gaussian" else None,
        charge=shown(prep.charge),
        level=level,
        n_cells=len(prep.keys),
        bounding=prep.bounding,
        measures=measures,
        accounts=accounts,
        auto_bounds=auto_bounds,
    )


_TO_SCALE: Mapping[str, Callable[[float, float], float]] = {
    "laplace": dp.accuracy_to_laplacian_scale,
    "discrete_laplace": dp.accuracy_to_discrete_laplacian_scale,
    "gaussian": dp.accuracy_to_gaussian_scale,
    "discrete_gaussian": dp.accuracy_to_discrete_gaussian_scale,
}


def budget_for_scale(prep: Prepared, measure: str, scale: float) -> float:
    """The release's ε (Laplace) or ρ (Gaussian) at which ``measure`` gets noise ``scale``:
    the closed form inverted (the budget is split evenly over the measures)."""
    mn = next(m for m in prep.plan.measures if m.measure == measure)
    k = len(prep.plan.measures)
    if prep.mechanism == "laplace":
        return k * mn.sensitivity / scale
    return k * (mn.sensitivity / scale) ** 2 / 2


def scale_for_half_width(noise: str, half_width: float, level: float) -> float:
    """The largest noise scale whose half-width at ``level`` is ``half_width`` (OpenDP)."""
    return float(_TO_SCALE[noise](float(half_width), 1.0 - level))
