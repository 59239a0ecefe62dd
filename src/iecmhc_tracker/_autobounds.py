"""Bounds chosen from the data under differential privacy (``release(..., bounds="auto")``).

A fixed bound that is too low for the data biases every cell it binds in, and the release's
intervals (which cover the *bounded* totals) then miss the truth; one that is too high only
adds noise. ``bounds="auto"`` spends :data:`AUTO_SHARE` of the release's budget on choosing
each measure's bound from the data, with OpenDP drawing every bit of noise:

The share is split in parts: each quantile weighs :data:`QUANTILE_WEIGHT` parts, each count
one.

1. a noisy count of the units the query reads (``make_count`` >> Laplace, or Gaussian for a
   ρ release);
2. per measure, a DP quantile (OpenDP's ``make_private_quantile``: the quantile score over a
   public geometric grid of candidates, then report-noisy-max) of one number per unit:

   - ``bounding="norm"``: the unit's norm over the release's cells (L1 for Laplace, L2 for
     Gaussian). The chosen ``B`` is both the norm bound and the per-cell clip: no cell of a
     vector scaled to norm ``B`` can exceed ``B``, so a lower clip would add bias and save no
     noise (the sensitivity is ``min(B, n·c)``);
   - ``"max_cells"`` / ``"none"``: the unit's largest cell total, which gives the clip;

3. per measure, a noisy count of the units the chosen bound binds (their number over the noisy
   count of units is the reported ``clipped_share``).

Which quantile. Raising a bound by one unit of the measure lowers the total bias by one per
unit it binds and raises the expected absolute noise, summed over the ``n`` cells, by
``n / ε_j`` (Laplace) or ``n / √(π ρ_j)`` (Gaussian), times the cells a unit may fill in
``"max_cells"``/``"none"`` bounding. So the error is least when about ``t`` units exceed the
bound, ``t`` that noise derivative; the quantile asked is ``1 − t/N̂``, kept within
``[r/N̂, 1 − r/N̂]`` (and at most 0.99), where ``r`` is the quantile mechanism's typical rank
error (``2·ln(#candidates)/ε_q``): above the largest value (and below the smallest) every
candidate scores alike, so a target within ``r`` units of either end would be a pick at random
among candidates far outside the data. When the count's 99 % lower bound is under ``2r`` no
target is safe (80 consultants at ε = 1, say): the measure keeps the profile's bounds, and the
metadata says so
(``auto_kept_profile_bounds``, ``bounds_warning``). A unit is one row of each step's input,
so adding or removing a unit is OpenDP's symmetric distance 1.

Each step's noise scale is fitted so that OpenDP's map stays within its share; the steps and
the release compose sequentially, so the whole costs at most the release's ε (or ρ), which is
what the ledger charges, before any of this noise is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import opendp.prelude as dp

from . import _dp  # noqa: F401  (enables OpenDP's contrib features)
from ._unitcells import UnitCells

#: the share of a release's ε (or ρ) spent on choosing its bounds
AUTO_SHARE = 0.15
#: of that share, each quantile weighs this many times a count of units
QUANTILE_WEIGHT = 4
#: more than this share of units bound: the release says so (metadata ``bounds_bind``)
BIND_WARNING = 0.05
#: the public grid of candidate bounds: the profile's bound times 2^(i/4), i in this range
GRID = range(-24, 41)

_SPACE = (dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance())


@attrs.frozen(slots=True)
class ChosenBounds:
    """What the DP bound selection found, per measure (all of it released under DP)."""

    clip: Mapping[str, float]
    norms: Mapping[str, float]
    #: the noisy share of units the chosen bound binds (scaled or clipped), in [0, 1]
    clipped_share: Mapping[str, float]
    #: the quantile asked per measure (None: the profile's bounds were kept)
    quantile: Mapping[str, float | None]
    units: float
    #: ε (Laplace) or ρ (Gaussian) OpenDP's maps give the selection
    loss: float
    #: measures that kept the profile's bounds: too few units for a DP quantile to place one
    kept: tuple[str, ...] = ()

    def metadata(self) -> dict[str, Any]:
        bind = sorted(m for m, s in self.clipped_share.items() if s > BIND_WARNING)
        warning = []
        if bind:
            warning.append(
                f"the bounds bind for more than {BIND_WARNING:.0%} of units in "
                f"{', '.join(bind)}: those totals are low by an amount the intervals do not "
                "cover"
            )
        if self.kept:
            warning.append(
                f"too few units at this budget to choose bounds from the data for "
                f"{', '.join(self.kept)}: the profile's bounds were kept"
            )
        return {
            "bounds_chosen": "auto",
            "auto_share": AUTO_SHARE,
            "auto_quantile": dict(self.quantile),
            "auto_units": self.units,
            "auto_loss": self.loss,
            "auto_kept_profile_bounds": list(self.kept),
            "clipped_share": dict(self.clipped_share),
            "bounds_bind": bind,
            "bounds_warning": "; ".join(warning) or None,
        }


def candidates(start: float) -> list[float]:
    """The public grid of candidate bounds around a profile's bound."""
    return [float(start) * 2.0 ** (i / 4) for i in GRID]


def _fit(make: Any, target: float, gaussian: bool) -> Any:
    """The measurement ``make(scale)`` with the smallest scale whose map is within target."""
    unit = float(make(1.0).map(1))
    scale = math.sqrt(unit / target) if gaussian else unit / target
    for s in (scale, scale * (1 + 1e-9), scale * (1 + 1e-6)):
        m = make(s)
        if m.map(1) <= target:
            return m
    return dp.binary_search_chain(make, d_in=1, d_out=target)


def _count(values: Sequence[float], target: float, gaussian: bool) -> float:
    def make(scale: float) -> Any:
        noise = dp.m.then_gaussian if gaussian else dp.m.then_laplace
        return dp.t.make_count(*_SPACE) >> noise(scale=scale)

    return float(_fit(make, target, gaussian)([float(v) for v in values]))


def _quantile(
    values: Sequence[float], grid: Sequence[float], alpha: float, target: float, gaussian: bool
) -> float:
    measure = dp.zero_concentrated_divergence() if gaussian else dp.max_divergence()

    def make(scale: float) -> Any:
        return dp.m.make_private_quantile(
            *_SPACE, measure, candidates=list(grid), alpha=alpha, scale=scale
        )

    return float(_fit(make, target, gaussian)([float(v) for v in values]))


def choose(
    cells: UnitCells,
    *,
    measures: Sequence[str],
    start: Mapping[str, float],
    start_norms: Mapping[str, float],
    mechanism: str,
    bounding: str,
    budget: float,
    n_cells: int,
    cells_per_unit: int,
) -> ChosenBounds:
    """Choose each measure's bounds from the per-(unit, cell) partial sums, spending ``budget``
    (ε or ρ, the selection's share) in OpenDP; see the module docstring."""
    gaussian = mechanism == "gaussian"
    k = len(measures)
    # the quantiles need the budget most (their rank error is what biases a release); the
    # counts of units only steer the quantile asked and report the share bound
    part = budget / (1 + (QUANTILE_WEIGHT + 1) * k)
    qpart = QUANTILE_WEIGHT * part
    stat = ("l1" if not gaussian else "l2") if bounding == "norm" else "max"
    columns = [[float(v) for v in col] for col in cells.per_unit(stat)]
    ones = [0.0] * cells.n_units
    units = max(_count(ones, part, gaussian), 1.0)
    # a noisy count of a few units can come out high: the quantile is trusted only when even
    # the count's 99 % lower bound leaves room for it (noise scale: the count's closed form)
    if gaussian:
        slack = dp.discrete_gaussian_scale_to_accuracy(1 / math.sqrt(2 * part), 0.02)
    else:
        slack = dp.discrete_laplacian_scale_to_accuracy(1 / part, 0.02)
    sure = units - float(slack)
    # the release's own share per measure, for the bias-noise balance
    release_share = budget / AUTO_SHARE * (1 - AUTO_SHARE) / k
    spread = 1.0 if bounding == "norm" else float(cells_per_unit)
    slope = n_cells * spread
    slope /= math.sqrt(math.pi * release_share) if gaussian else release_share
    clip: dict[str, float] = {}
    norms: dict[str, float] = {}
    share: dict[str, float] = {}
    asked: dict[str, float | None] = {}
    kept: list[str] = []
    for j, m in enumerate(measures):
        grid = candidates(start[m])
        rank_error = 2 * math.log(len(grid)) / (math.sqrt(qpart) if gaussian else qpart)
        # at least the rank error above the bound and below it: beyond the largest (or under
        # the smallest) value every candidate scores alike, so a target nearer an end would
        # be a pick at random among candidates far outside the data
        low, high = rank_error / units, 1 - rank_error / units
        if sure < 2 * rank_error:
            # too few units for the quantile to place a bound: keep the profile's
            kept.append(m)
            clip[m], norms[m] = float(start[m]), float(start_norms[m])
            asked[m] = None
            top = cells.per_unit("max")[j] if stat != "max" else columns[j]
            # a unit is bound by the norm bound or by the clip of one of its cells
            binding = [
                v > norms[m] or float(t) > clip[m] for v, t in zip(columns[j], top, strict=True)
            ]
        else:
            alpha = min(max(1 - slope / units, low), high, 0.99)
            bound = _quantile(columns[j], grid, alpha, qpart, gaussian)
            asked[m], clip[m], norms[m] = alpha, bound, bound
            binding = [v > bound for v in columns[j]]
        above = [0.0 for b in binding if b]
        share[m] = min(max(_count(above, part, gaussian) / units, 0.0), 1.0)
    return ChosenBounds(clip, norms, share, asked, units, budget, tuple(kept))
